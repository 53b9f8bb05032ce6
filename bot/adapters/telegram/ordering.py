"""One user's webhook updates in order across several workers (docs/scaling.md).

With a webhook behind a load balancer, two workers may get one user's updates at the same
moment. Each received update gets a ticket in the database before Telegram is answered
(`arrive`); before it is handled, the update waits until no earlier update of that user
(lower update_id) received by any worker still holds a ticket (`turn`), and its ticket
goes when it was handled (`done`).

The ordering rule: a user's updates are handled in update_id order among those received
before the first of them starts, which waits ORDER_SETTLE_SECONDS for a sibling posted to
another worker at the same moment; an update received later than that is handled as it
comes (never dropped). A ticket older than ORDER_STALE_SECONDS (its worker died) holds
no one up. Within one worker, a user's updates wait for each other on an event, and for
other workers' by asking the database every ORDER_POLL_SECONDS.

Cost: three things per update, all batched: whatever the worker's updates need at one
moment (tickets to record, to drop, turns to ask about) is one round trip in one worker
thread of its own (`Workers.order_updates`), so under load the cost per update is a
fraction of one, and a post's answer never waits behind the turns' threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from bot.core.ports import Workers

log = logging.getLogger(__name__)

ORDER_SETTLE_SECONDS = 0.02  # an update waits this long for its user's earlier ones
ORDER_POLL_SECONDS = 0.01
ORDER_STALE_SECONDS = 10.0  # an update no worker handled for this long holds no one up


class UpdateOrder:
    """Tickets of one platform's updates, batched into one database call at a time."""

    def __init__(self, workers: Workers, platform: str) -> None:
        self.workers = workers
        self.platform = platform
        self._arrived: list[tuple[tuple[str, int], asyncio.Future[None]]] = []
        self._done: list[tuple[str, int]] = []
        self._asking: list[tuple[tuple[str, int], asyncio.Future[bool]]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._held: dict[str, set[int]] = {}  # this worker's tickets, by user
        self._turn_ended: dict[str, asyncio.Event] = {}  # set when one of theirs is done
        # A thread of its own: Telegram's post waits for its ticket, which must not queue
        # behind the turns in the default executor's threads. One is enough: calls batch.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="update-order")

    def close(self) -> None:
        """After the last update was handled: the thread goes."""
        self._thread.shutdown(wait=False)

    def holds(self, user: str, update_id: int) -> bool:
        return update_id in self._held.get(user, ())

    async def arrive(self, user: str, update_id: int) -> None:
        """Record the update's ticket; returns once it is committed (raises if it failed)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._arrived.append(((user, update_id), future))
        self._kick()
        await future
        self._held.setdefault(user, set()).add(update_id)

    @contextlib.asynccontextmanager
    async def turn(self, user: str, update_id: int) -> AsyncIterator[None]:
        """Wait for the update's turn (see the module docstring), hold it for the block, then
        let the user's next update go."""
        try:
            held = self._held.setdefault(user, set())
            while held and min(held) < update_id:  # this worker's earlier ones first
                await self._turn_ended.setdefault(user, asyncio.Event()).wait()
            await asyncio.sleep(ORDER_SETTLE_SECONDS)  # posts sent together arrive together
            deadline = time.monotonic() + ORDER_STALE_SECONDS
            while time.monotonic() < deadline and not await self._ask(user, update_id):
                await asyncio.sleep(ORDER_POLL_SECONDS)
            yield
        finally:
            self._done.append((user, update_id))
            self._kick()
            held = self._held.get(user, set())
            held.discard(update_id)
            if not held:
                self._held.pop(user, None)
            ended = self._turn_ended.pop(user, None)
            if ended is not None:
                ended.set()

    async def _ask(self, user: str, update_id: int) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._asking.append(((user, update_id), future))
        self._kick()
        return await future

    def _kick(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush(), name="update-order")

    async def _flush(self) -> None:
        """Send everything waiting in one call; what arrives meanwhile goes in the next."""
        while self._arrived or self._done or self._asking:
            arrived, self._arrived = self._arrived, []
            done, self._done = self._done, []
            asking, self._asking = self._asking, []
            try:
                blocked = await asyncio.get_running_loop().run_in_executor(
                    self._thread,
                    self.workers.order_updates,
                    self.platform,
                    [key for key, _ in arrived],
                    done,
                    [key for key, _ in asking],
                    ORDER_STALE_SECONDS,
                )
            except Exception as exc:
                log.warning("updates: could not order updates (%s)", type(exc).__name__)
                for _, arrival in arrived:  # the webhook answers 503: Telegram posts it again
                    if not arrival.done():
                        arrival.set_exception(exc)
                for _, question in asking:  # asked again after a pause
                    if not question.done():
                        question.set_result(False)
                self._done.extend(done)  # dropped with the next call that works
                await asyncio.sleep(ORDER_POLL_SECONDS * 10)
                continue
            for _, arrival in arrived:
                if not arrival.done():
                    arrival.set_result(None)
            for key, question in asking:
                if not question.done():
                    question.set_result(key not in blocked)

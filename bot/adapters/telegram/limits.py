"""Limits: Telegram's rate limits and retries, and fairness between users.

`RetryingRateLimiter` (PTB's `AIORateLimiter` plus retries of 5xx and connection errors)
sits under every Bot API call except `getUpdates`, so a 429's `retry_after` is honoured and
retried everywhere. `PerUserUpdateProcessor` handles different users' updates at once and
each user's in order, and drops a flooding user's excess with one "slow down".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Hashable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter, BaseUpdateProcessor
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

RATE_LIMIT_RETRIES = 3  # 429s retried after retry_after before giving up
SERVER_ERROR_RETRIES = 3  # 5xx / connection errors retried before giving up
SERVER_ERROR_BACKOFF = 0.25  # seconds before the first retry; doubles each time
MAX_CONCURRENT_UPDATES = 256  # updates being handled at once, all users (PTB's default)
USER_QUEUE_LIMIT = 20  # one user's updates waiting or in hand; more are dropped


class RetryingRateLimiter(AIORateLimiter):
    """`AIORateLimiter` that also retries server errors (5xx) and dropped connections.

    PTB raises `NetworkError` for both and never retries them itself. `BadRequest` (our
    fault) and `TimedOut` (the request may have been delivered: a retry could send a
    message twice) are not retried. Every Bot API call but `getUpdates` goes through here.
    """

    def __init__(
        self,
        *,
        overall_max_rate: float,
        max_retries: int = RATE_LIMIT_RETRIES,
        server_retries: int = SERVER_ERROR_RETRIES,
        backoff: float = SERVER_ERROR_BACKOFF,
    ) -> None:
        super().__init__(overall_max_rate=overall_max_rate, max_retries=max_retries)
        self.server_retries = server_retries
        self.backoff = backoff

    async def process_request(  # noqa: PLR0917 - PTB's signature
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        delay = self.backoff
        for attempt in range(self.server_retries + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except (BadRequest, TimedOut):
                raise
            except NetworkError as exc:
                if attempt == self.server_retries:
                    raise
                log.debug(  # the final failure is what callers report; retries are routine
                    "Telegram %s failed (%s); retry %d in %.2f s",
                    endpoint,
                    type(exc).__name__,
                    attempt + 1,
                    delay,
                )
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


def retry_after_seconds(error: RetryAfter) -> float:
    """`RetryAfter.retry_after` in seconds, whichever type this PTB version hands out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@contextlib.asynccontextmanager
async def _no_order(update: object) -> AsyncIterator[None]:
    yield


@dataclass(slots=True)
class _UserQueue:
    """One user's updates in hand: the lock orders them, `pending` counts them."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: int = 0  # waiting for the lock, or holding it
    dropped: int = 0  # since the queue last ran empty


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Updates handled concurrently, each user's one at a time in the order sent.

    PTB hands every update to `do_process_update` in its own task, in the order the updates
    arrived; `key` names the queue an update joins (a user), or None for an update that needs
    no turn (group chatter not meant for us), which is handled at once. A queue's lock is
    first come, first served, so one user's messages are answered in the order sent while
    other users proceed in parallel, up to `max_concurrent` updates in hand at once.

    Fairness: a user with `per_user_limit` updates already in their queue has the next ones
    dropped, and `on_overflow` is awaited for the first of them (to say "slow down"); the
    count is logged when their queue runs empty. A flooding user therefore holds at most one
    of the `max_concurrent` places, and everyone else's updates go past theirs.

    PTB's own bound (`max_concurrent_updates`) is taken before an update reaches us, so it is
    set out of the way: otherwise updates waiting for their user's earlier one would hold
    places that other users' updates need. The effective bound is `max_concurrent`.
    """

    def __init__(
        self,
        *,
        key: Callable[[object], Hashable | None],
        on_overflow: Callable[[object], Awaitable[None]],
        max_concurrent: int = MAX_CONCURRENT_UPDATES,
        per_user_limit: int = USER_QUEUE_LIMIT,
        in_order: Callable[[object], AbstractAsyncContextManager[None]] | None = None,
    ) -> None:
        super().__init__(2**31 - 1)  # see the class docstring: never the one that waits
        self.key = key
        # Several workers: an update's turn across them, waited for before its user's queue
        # (which an earlier update recorded later may need) and any place in `max_concurrent`.
        self.in_order = in_order or _no_order
        self.on_overflow = on_overflow
        self.max_concurrent = max_concurrent
        self.per_user_limit = per_user_limit
        self._in_hand = asyncio.BoundedSemaphore(max_concurrent)
        self._queues: dict[Hashable, _UserQueue] = {}

    async def initialize(self) -> None:
        """Nothing to set up: queues are made as users write."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB waits for every update in hand before calling this."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Everything up to the lock runs without yielding, so queues fill in arrival order.
        try:
            key = self.key(update)
        except Exception:  # a bug in `key`: the handlers will meet it too, and report it
            log.exception("could not tell whose update this is")
            key = None
        if key is None:
            async with self._in_hand:
                await coroutine
            return
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _UserQueue()
        if queue.pending >= self.per_user_limit:
            if isinstance(coroutine, Coroutine):
                coroutine.close()  # never started: closing it avoids "never awaited"
            queue.dropped += 1
            if queue.dropped == 1:
                await self.on_overflow(update)
            return
        queue.pending += 1
        try:
            async with self.in_order(update), queue.lock, self._in_hand:
                await coroutine
        finally:
            queue.pending -= 1
            if queue.pending == 0:
                del self._queues[key]
                if queue.dropped:
                    log.info(
                        "a user sent faster than the bot answers: %d updates dropped",
                        queue.dropped,
                    )

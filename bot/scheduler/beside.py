"""`run_nudges_beside`: the nudge scheduler on an event loop of its own, in a thread.

For a store whose calls wait on a server (PostgreSQL: `store.blocking`). The scheduler
calls its store synchronously (reads, claims, marks, planning slices); on the bot's event
loop every such call would hold every user's reply for a round trip to the database. On a
loop of its own, only nudges wait on the database. Each send hops back to the bot's loop,
where the platforms' sessions live, and its answer comes back the same way; the pacing,
the permits and the at-most-once claims are the scheduler's, unchanged.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.ports import Messenger, Outbox, SendResult
from bot.core.records import User
from bot.core.replies import Reply
from bot.scheduler.service import NudgeService, run_nudges


class OnLoop:
    """A `Messenger` whose sends run on `loop` (the bot's), awaited from another loop."""

    def __init__(self, messenger: Messenger, loop: asyncio.AbstractEventLoop) -> None:
        self.platform = messenger.platform
        self.messenger = messenger
        self.loop = loop

    async def send(self, user: User, reply: Reply) -> SendResult:
        sent = asyncio.run_coroutine_threadsafe(self.messenger.send(user, reply), self.loop)
        return await asyncio.wrap_future(sent)


@contextlib.asynccontextmanager
async def run_nudges_beside(
    store: Outbox, messengers: Sequence[Messenger], **options: Any
) -> AsyncIterator[NudgeService]:
    """`run_nudges` on an event loop of its own in a thread named "nudges", for the
    duration of the block; start-up errors are raised here. The service it yields lives on
    that loop: call none of its coroutines from this one."""
    bot_loop = asyncio.get_running_loop()
    forwarded = [OnLoop(messenger, bot_loop) for messenger in messengers]
    started: concurrent.futures.Future[_Running] = concurrent.futures.Future()
    finished: concurrent.futures.Future[None] = concurrent.futures.Future()

    async def serve() -> None:
        stopping = asyncio.Event()
        async with run_nudges(store, forwarded, **options) as service:
            if not started.set_running_or_notify_cancel():
                return  # the bot stopped waiting for the start
            started.set_result(_Running(asyncio.get_running_loop(), service, stopping))
            await stopping.wait()

    def main() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:
            if not started.done():
                started.set_exception(exc)
            finished.set_exception(exc)
        else:
            finished.set_result(None)

    threading.Thread(target=main, name="nudges", daemon=True).start()
    running = await asyncio.wrap_future(started)
    try:
        yield running.service
    finally:
        running.loop.call_soon_threadsafe(running.stopping.set)
        await asyncio.wrap_future(finished)


@dataclass(frozen=True, slots=True)
class _Running:
    loop: asyncio.AbstractEventLoop
    service: NudgeService
    stopping: asyncio.Event

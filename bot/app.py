"""Wiring: one database, one coach, and the adapters the settings ask for.

Kept apart from `__main__` so tests and benchmarks can start exactly what production
starts, against a fake platform server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from bot.adapters.console import ConsoleChat
from bot.core.coach import Coach
from bot.scheduler import run_nudges
from bot.settings import Settings
from bot.storage import Storage

log = logging.getLogger(__name__)


async def run_bot(settings: Settings) -> int:
    """Run until the adapters stop; returns the process exit code."""
    clock = settings.clock
    with Storage(settings.bot_db_path, clock=clock) as store:
        coach = Coach(store, clock=clock, default_tz=settings.bot_default_tz)
        if not settings.telegram_token and not settings.discord_token:
            chat = ConsoleChat(coach, files_dir=settings.bot_db_path.parent / "exports")
            if settings.bot_log_level == "INFO":
                logging.getLogger().setLevel(logging.WARNING)  # keep the chat readable
            async with run_nudges(store, settings, [chat], library=coach.library, clock=clock):
                await chat.run()  # nudges due while the chat is open are printed in it
            return 0
        if settings.discord_token:
            message = "The Discord adapter is not available yet in this version"
            if not settings.telegram_token:
                print(
                    f"{message}. Unset DISCORD_BOT_TOKEN to use the terminal chat.",
                    file=sys.stderr,
                )
                return 2
            log.warning("%s; DISCORD_BOT_TOKEN is ignored, running Telegram only.", message)
        from bot.adapters.telegram import TelegramAdapter

        adapter = TelegramAdapter(coach, store, settings)
        # Nudges stop first: their sends need the adapter's HTTP session until the last one.
        async with (
            adapter.running(),
            run_nudges(store, settings, [adapter], library=coach.library, clock=clock),
        ):
            await until_stopped()
        return 0


async def until_stopped() -> None:
    """Wait for SIGINT or SIGTERM (or cancellation); `python -m bot` then shuts down cleanly."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stopped.set)
            handled.append(sig)
    try:
        await stopped.wait()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)

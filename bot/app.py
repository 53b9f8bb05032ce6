"""Wiring: one database, one coach, and the adapters the settings ask for.

Kept apart from `__main__` so tests and benchmarks can start exactly what production
starts, against a fake platform server.
"""

from __future__ import annotations

import logging
import sys

from bot.adapters.console import ConsoleChat
from bot.core.coach import Coach
from bot.scheduler import run_nudges
from bot.settings import Settings
from bot.storage import Storage

log = logging.getLogger(__name__)


async def run_bot(settings: Settings) -> int:
    """Run until the adapters stop; returns the process exit code."""
    with Storage(settings.bot_db_path) as store:
        coach = Coach(store, default_tz=settings.bot_default_tz)
        if not settings.telegram_token and not settings.discord_token:
            chat = ConsoleChat(coach, files_dir=settings.bot_db_path.parent / "exports")
            if settings.bot_log_level == "INFO":
                logging.getLogger().setLevel(logging.WARNING)  # keep the chat readable
            async with run_nudges(store, settings, [chat], library=coach.library):
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
        ready = lambda: adapter.application.running  # noqa: E731 - nudges wait for the bot
        async with run_nudges(store, settings, [adapter], library=coach.library, ready=ready):
            await adapter.run()
        return 0

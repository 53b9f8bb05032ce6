"""Wiring: one database, one coach, and the adapters the settings ask for.

Kept apart from `__main__` so tests and benchmarks can start exactly what production
starts, against a fake platform server.
"""

from __future__ import annotations

import logging
import sys

from bot.adapters.console import ConsoleChat
from bot.core.coach import Coach
from bot.settings import Settings
from bot.storage import Storage

log = logging.getLogger(__name__)


async def run_bot(settings: Settings) -> int:
    """Run until the adapters stop; returns the process exit code."""
    with Storage(settings.bot_db_path) as store:
        coach = Coach(store, default_tz=settings.bot_default_tz)
        if not settings.telegram_token and not settings.discord_token:
            chat = ConsoleChat(coach, files_dir=settings.bot_db_path.parent / "exports")
            await chat.run()
            return 0
        for name, token in (
            ("Telegram", settings.telegram_token),
            ("Discord", settings.discord_token),
        ):
            if token:
                print(
                    f"The {name} adapter is not available yet in this version. "
                    f"Unset the {name.upper()} token to use the terminal chat.",
                    file=sys.stderr,
                )
        return 2

"""Start the recovery coach: `python -m bot`.

With no token set it opens a terminal chat (the embedded default). With
TELEGRAM_BOT_TOKEN it runs the Telegram bot. The Discord adapter is not built yet: a
DISCORD_BOT_TOKEN alone is refused with a message, and beside a Telegram token it is
ignored with a warning.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.settings import Settings, SettingsError, load_settings

DESCRIPTION = """\
Recovery coach bot: foam-rolling routines before every workout, soreness tracking and
massage reminders.

Modes (chosen from the environment or .env, see .env.example):
  no token set           terminal chat on this machine, state in BOT_DB_PATH
  TELEGRAM_BOT_TOKEN     Telegram bot (long polling; webhook when TELEGRAM_WEBHOOK_URL is set)
  DISCORD_BOT_TOKEN      not available yet in this version (ignored beside Telegram)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", help="SQLite file (overrides BOT_DB_PATH)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(**({"bot_db_path": args.db} if args.db else {}))
    except SettingsError as exc:
        print(f"recovery coach: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    from bot.app import StartupError

    try:
        return asyncio.run(run(settings))
    except KeyboardInterrupt:
        return 0
    except StartupError as exc:
        print(f"recovery coach: {exc}", file=sys.stderr)
        return 2


def configure_logging(settings: Settings) -> None:
    """Our level for our loggers; HTTP client loggers stay at WARNING (their URLs hold tokens)."""
    logging.basicConfig(
        level=settings.bot_log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("aiohttp", "httpx", "httpcore", "telegram", "discord.http", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


async def run(settings: Settings) -> int:
    from bot.app import run_bot

    return await run_bot(settings)


if __name__ == "__main__":
    sys.exit(main())

"""Start the recovery coach: `python -m bot`.

With no token set it opens a terminal chat (the embedded default). With
TELEGRAM_BOT_TOKEN it runs the Telegram bot. The Discord adapter is not built yet: a
DISCORD_BOT_TOKEN is refused with one line until that adapter exists.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from bot import logs
from bot.settings import Settings, SettingsError, StartupError, load_settings

DESCRIPTION = """\
Recovery coach bot: foam-rolling routines before every workout, soreness tracking and
massage reminders.

Modes (chosen from the environment or .env, see .env.example):
  no token set           terminal chat on this machine, state in BOT_DB_PATH
  TELEGRAM_BOT_TOKEN     Telegram bot (long polling; webhook when TELEGRAM_WEBHOOK_URL is set)
  DISCORD_BOT_TOKEN      not available yet in this version (refused with one line)

Commands:
  python -m bot backup PATH   a consistent copy of the database, also while the bot runs
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", help="SQLite file (overrides BOT_DB_PATH)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    backup_parser = commands.add_parser("backup", help="copy the database to PATH, safely")
    backup_parser.add_argument("path", type=Path, help="the new file (must not exist yet)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(**({"bot_db_path": args.db} if args.db else {}))
    except SettingsError as exc:
        print(f"recovery coach: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)

    if args.command == "backup":
        return backup(settings.bot_db_path, args.path)
    try:
        return asyncio.run(run(settings))
    except KeyboardInterrupt:
        return 0
    except StartupError as exc:
        print(f"recovery coach: {exc}", file=sys.stderr)
        return 2


def backup(database: Path, target: Path) -> int:
    """Copy the database with SQLite's online backup API: consistent while the bot writes
    (a plain `cp` of a live WAL database can miss committed transactions)."""
    if not database.is_file():
        print(f"recovery coach: BOT_DB_PATH: there is no database at {database}", file=sys.stderr)
        return 2
    if target.exists():
        print(f"recovery coach: {target} exists already; choose a new file", file=sys.stderr)
        return 2
    try:
        with (
            closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as source,
            closing(sqlite3.connect(target)) as copy,
        ):
            source.backup(copy)
    except (sqlite3.Error, OSError) as exc:
        target.unlink(missing_ok=True)
        print(f"recovery coach: backup to {target} failed: {exc}", file=sys.stderr)
        return 2
    print(f"Backed up {database} to {target}.")
    return 0


def configure_logging(settings: Settings) -> None:
    """Key=value or JSON lines at BOT_LOG_LEVEL (see bot/logs.py)."""
    logs.configure_logging(settings.bot_log_level, settings.bot_log_format)


async def run(settings: Settings) -> int:
    from bot.app import run_bot

    return await run_bot(settings)


if __name__ == "__main__":
    sys.exit(main())

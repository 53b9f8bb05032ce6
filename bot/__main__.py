"""Start the recovery coach: `python -m bot`.

With no token set it opens a terminal chat (the embedded default). TELEGRAM_BOT_TOKEN
runs the Telegram bot, DISCORD_BOT_TOKEN the Discord bot; with both set, both run in one
process on one database with one nudge scheduler.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path

from bot import logs, storage
from bot.core.content import ContentError
from bot.settings import Settings, SettingsError, StartupError, load_settings

HEALTHY_WITHIN = timedelta(minutes=2)  # four heartbeats (bot/scheduler) may be missed

DESCRIPTION = """\
Recovery coach bot: foam-rolling routines before every workout, soreness tracking and
massage reminders.

Modes (chosen from the environment or .env, see .env.example):
  no token set           terminal chat on this machine, state in BOT_DB_PATH
                         (or in PostgreSQL at BOT_DATABASE_URL when that is set)
  TELEGRAM_BOT_TOKEN     Telegram bot (long polling; webhook when TELEGRAM_WEBHOOK_URL is set)
  DISCORD_BOT_TOKEN      Discord bot (gateway; slash commands, buttons, DMs)
  both tokens            both bots in one process, one database, one scheduler

Commands:
  python -m bot backup PATH            a consistent copy of the database, also while the bot runs
  python -m bot healthcheck            exit 0 when the database opens and the scheduler is alive
  python -m bot migrate-to-postgres    copy BOT_DB_PATH into BOT_DATABASE_URL, check row counts
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
    commands.add_parser(
        "healthcheck", help="exit 0 when the database opens and the scheduler's heartbeat is recent"
    )
    commands.add_parser(
        "migrate-to-postgres",
        help="copy the SQLite database (BOT_DB_PATH) into PostgreSQL (BOT_DATABASE_URL)",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings(**({"bot_db_path": args.db} if args.db else {}))
    except SettingsError as exc:
        print(f"recovery coach: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)

    if args.command == "backup":
        if settings.database_url:
            print(
                "recovery coach: BOT_DATABASE_URL is set: back PostgreSQL up with pg_dump",
                file=sys.stderr,
            )
            return 2
        return backup(settings.bot_db_path, args.path)
    if args.command == "healthcheck":
        return healthcheck(settings)
    if args.command == "migrate-to-postgres":
        return migrate_to_postgres(settings)
    _let_ctrl_c_quit()
    try:
        return asyncio.run(run(settings))
    except KeyboardInterrupt:
        return 0
    except (StartupError, ContentError) as exc:  # content: "file: key: problem", one line
        print(f"recovery coach: {exc}", file=sys.stderr)
        return 2


def _let_ctrl_c_quit() -> None:
    """At a terminal, Ctrl-C quits, also when a parent process started us with SIGINT
    ignored (which a child inherits): the terminal chat promises it."""
    if sys.stdin.isatty() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


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
        storage.backup(database, target)
    except (sqlite3.Error, OSError) as exc:
        target.unlink(missing_ok=True)
        print(f"recovery coach: backup to {target} failed: {exc}", file=sys.stderr)
        return 2
    print(f"Backed up {database} to {target}.")
    return 0


def healthcheck(settings: Settings) -> int:
    """0 when the database opens and the scheduler beat recently; otherwise 1 and why (the
    Docker HEALTHCHECK runs this beside the bot)."""
    url = settings.database_url
    if url is not None:
        from bot import storage_pg

        try:
            last = storage_pg.read_heartbeat(url)
        except Exception as exc:  # psycopg.Error, or a URL libpq cannot read
            reason = storage_pg.redact_message(str(exc), url)
            print(f"unhealthy: cannot read the database at {storage_pg.redact_url(url)}: {reason}")
            return 1
        return _judge_heartbeat(settings, last)
    database = settings.bot_db_path
    try:
        last = storage.read_heartbeat(database)
    except sqlite3.Error as exc:
        print(f"unhealthy: cannot read the database at {database}: {exc}")
        return 1
    return _judge_heartbeat(settings, last)


def _judge_heartbeat(settings: Settings, last: datetime | None) -> int:
    if last is None:
        print("unhealthy: the scheduler has not beaten yet (is the bot starting?)")
        return 1
    age = (settings.clock() - last).total_seconds()
    if age > HEALTHY_WITHIN.total_seconds():
        print(f"unhealthy: the scheduler's last heartbeat was {age:.0f} s ago")
        return 1
    print(f"healthy: heartbeat {age:.0f} s ago")
    return 0


def migrate_to_postgres(settings: Settings) -> int:
    """Copy BOT_DB_PATH into BOT_DATABASE_URL; 0 when every table's row count matches, 1 on
    a mismatch, 2 when the copy cannot be made."""
    url = settings.database_url
    if url is None:
        print("recovery coach: set BOT_DATABASE_URL to the PostgreSQL database", file=sys.stderr)
        return 2
    import psycopg

    from bot.migrate_to_postgres import CopyError, copy_to_postgres
    from bot.storage_pg import NewerSchemaError, redact_message, redact_url

    try:
        matched = copy_to_postgres(settings.bot_db_path, url)
    except (CopyError, NewerSchemaError, storage.NewerSchemaError) as exc:
        print(f"recovery coach: {exc}", file=sys.stderr)
        return 2
    except (psycopg.Error, sqlite3.Error) as exc:
        reason = redact_message(str(exc), url)
        print(f"recovery coach: copy into {redact_url(url)} failed: {reason}", file=sys.stderr)
        return 2
    if not matched:
        print("recovery coach: row counts differ: do not switch to PostgreSQL", file=sys.stderr)
        return 1
    print(f"Copied {settings.bot_db_path} into {redact_url(url)}; every row count matches.")
    return 0


def configure_logging(settings: Settings) -> None:
    """Key=value or JSON lines at BOT_LOG_LEVEL (see bot/logs.py)."""
    logs.configure_logging(settings.bot_log_level, settings.bot_log_format)


async def run(settings: Settings) -> int:
    from bot.app import run_bot

    return await run_bot(settings)


if __name__ == "__main__":
    sys.exit(main())

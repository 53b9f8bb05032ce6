"""Wiring: one database, one coach, and the adapters the settings ask for.

Kept apart from `__main__` so tests and benchmarks can start exactly what production
starts, against a fake platform server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from bot.adapters.console import ConsoleChat
from bot.core.clock import Clock
from bot.core.coach import Coach
from bot.scheduler import run_nudges
from bot.settings import Settings
from bot.storage import NewerSchemaError, Storage

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The bot cannot start: one line for the user, naming the setting to fix."""


async def run_bot(settings: Settings) -> int:
    """Run until the adapters stop; returns the process exit code."""
    clock = settings.clock
    with (
        one_bot_per_database(settings.bot_db_path),
        open_storage(settings.bot_db_path, clock) as store,
    ):
        coach = Coach(store, clock=clock, default_tz=settings.bot_default_tz)
        if not settings.telegram_token and not settings.discord_token:
            chat = ConsoleChat(coach, files_dir=settings.bot_db_path.parent / "exports")
            if settings.bot_log_level == "INFO":
                logging.getLogger().setLevel(logging.WARNING)  # keep the chat readable
            async with run_nudges(store, [chat], **nudge_options(settings, coach)):
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

        adapter = TelegramAdapter(coach, settings)
        # Nudges stop first: their sends need the adapter's HTTP session until the last one.
        async with (
            telegram_reachable(adapter, settings),
            run_nudges(store, [adapter], **nudge_options(settings, coach)),
        ):
            await until_stopped()
        return 0


def nudge_options(settings: Settings, coach: Coach) -> dict[str, Any]:
    """The scheduler's settings: each platform's send rate (the scheduler paces nudges; the
    Telegram adapter's own limiter keeps no overall rate, so the two never run in series)."""
    return {
        "rates": {"telegram": settings.telegram_send_rate, "discord": settings.discord_send_rate},
        "grace": timedelta(minutes=settings.bot_nudge_grace_minutes),
        "library": coach.library,
        "clock": coach.clock,
    }


@contextlib.contextmanager
def one_bot_per_database(path: Path) -> Iterator[None]:
    """A lock file beside the database for as long as the bot runs.

    Two processes on one file would each send at the full rate, and the second would mark
    the first's sends in flight as interrupted.
    """
    lock = FileLock(f"{path}.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise StartupError(
            f"BOT_DB_PATH: another bot is already running on {path}; stop it first, "
            "or give this one its own BOT_DB_PATH"
        ) from None
    except OSError:  # the folder is unusable: open_storage says why
        yield
        return
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def open_storage(path: Path, clock: Clock) -> Iterator[Storage]:
    """The database, or a `StartupError` that says what is wrong with BOT_DB_PATH."""
    try:
        store = Storage(path, clock=clock)
        store.db.execute("CREATE TABLE IF NOT EXISTS _writable (x)").fetchall()
        store.db.execute("DROP TABLE _writable")
    except NewerSchemaError as exc:
        raise StartupError(
            f"BOT_DB_PATH: {path} was written by a newer version of the bot ({exc}); "
            "upgrade the bot, or point BOT_DB_PATH at another file"
        ) from None
    except (sqlite3.Error, OSError) as exc:
        log.debug("cannot open the database at %s", path, exc_info=True)
        raise StartupError(f"BOT_DB_PATH: cannot use {path}: {_why_unusable(path, exc)}") from None
    with store:
        yield store


def _why_unusable(path: Path, exc: Exception) -> str:
    """The reason in plain words, from the most common causes."""
    text = str(exc).lower()
    if path.is_dir():
        return "it is a directory; point it at a file inside it, e.g. bot.sqlite3"
    if isinstance(exc, PermissionError) or "readonly" in text or "read-only" in text:
        return "no permission to write there (read-only)"
    if "not a database" in text or "malformed" in text:
        return "the file is not a SQLite database (or it is damaged)"
    return "the file or its folder cannot be created there"


@contextlib.asynccontextmanager
async def telegram_reachable(adapter: Any, settings: Settings) -> AsyncIterator[None]:
    """The adapter running, or a `StartupError` when the Bot API cannot be used at all."""
    from telegram.error import InvalidToken, NetworkError

    try:
        async with adapter.running():
            yield
            return
    except InvalidToken:
        log.debug("Telegram refused the token", exc_info=True)
        raise StartupError(
            "TELEGRAM_BOT_TOKEN: Telegram refused the token (revoked or mistyped); "
            "get the current one from @BotFather"
        ) from None
    except NetworkError as exc:  # TimedOut is a NetworkError too
        log.debug("cannot reach the Bot API", exc_info=True)
        where = settings.telegram_base_url.removesuffix("/bot")
        raise StartupError(
            f"TELEGRAM_BASE_URL: cannot reach the Bot API at {where} ({type(exc).__name__}); "
            "check the address and this machine's network or proxy"
        ) from None


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

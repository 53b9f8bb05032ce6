"""Wiring: one database, one coach, and the adapters the settings ask for.

`PLATFORMS` is the registry of platforms: the ones the settings enable start together in
one process, sharing the database, the coach and one nudge scheduler (which paces each
platform at its own send rate). With none enabled, the terminal chat runs. Kept apart from
`__main__` so tests and benchmarks start exactly what production starts. On PostgreSQL
several such processes may share one database as workers (docs/scaling.md).

The database is SQLite at BOT_DB_PATH, or PostgreSQL when BOT_DATABASE_URL is set
(`open_store`). A PostgreSQL store blocks on the server, so it is kept off the event loop:
the adapters run each turn in a worker thread (`bot.adapters.policy.run_turn`) and the
scheduler runs on a loop of its own (`run_nudges_beside`); see bot/storage_pg.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from bot.adapters.console import ConsoleChat
from bot.core.clock import Clock
from bot.core.coach import Coach
from bot.core.content import load_library
from bot.core.ports import Adapter, Messenger, Outbox, Workers
from bot.scheduler import NudgeService, run_nudges, run_nudges_beside
from bot.settings import Settings, StartupError
from bot.storage import NewerSchemaError, Storage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Platform:
    """A platform the bot can run on: when the settings enable it, how to build its adapter
    (imported only then), and its send rate, which the scheduler owns."""

    name: str
    enabled: Callable[[Settings], bool]
    build: Callable[[Coach, Settings, Workers | None], Adapter]
    send_rate: Callable[[Settings], float]


def _telegram(coach: Coach, settings: Settings, workers: Workers | None) -> Adapter:
    from bot.adapters.telegram import TelegramAdapter

    return TelegramAdapter(coach, settings, workers=workers)


def _discord(coach: Coach, settings: Settings, workers: Workers | None) -> Adapter:
    from bot.adapters.discord import DiscordAdapter

    return DiscordAdapter(coach, settings, workers=workers)


PLATFORMS: tuple[Platform, ...] = (
    Platform(
        "telegram", lambda s: bool(s.telegram_token), _telegram, lambda s: s.telegram_send_rate
    ),
    Platform("discord", lambda s: bool(s.discord_token), _discord, lambda s: s.discord_send_rate),
)
"""Every platform, in start order. A new one plugs in here (docs/architecture.md)."""


async def run_bot(settings: Settings) -> int:
    """Run until the adapters stop (or the terminal chat ends); returns the exit code."""
    clock = settings.clock
    with open_store(settings) as store:
        library = load_library(settings.bot_content_dir) if settings.bot_content_dir else None
        coach = Coach(store, library, clock=clock, default_tz=settings.bot_default_tz)
        enabled = [p for p in PLATFORMS if p.enabled(settings)]
        if not enabled:
            return await run_console(store, coach, settings)
        workers = store if getattr(store, "worker_id", None) is not None else None
        adapters = [
            platform.build(coach, settings, workers)  # type: ignore[arg-type]
            for platform in enabled
        ]
        rates = {platform.name: platform.send_rate(settings) for platform in enabled}
        async with contextlib.AsyncExitStack() as running:
            for adapter in adapters:
                await running.enter_async_context(adapter.running())
            # Nudges stop first: their sends need the adapters' sessions until the last one.
            await running.enter_async_context(
                nudges_for(store, adapters, **nudge_options(settings, coach, rates))
            )
            await until_stopped()
        return 0


async def run_console(store: Outbox, coach: Coach, settings: Settings) -> int:
    """The terminal chat, the embedded default: nudges due while it is open print in it."""
    chat = ConsoleChat(coach, files_dir=settings.bot_db_path.parent / "exports")
    if settings.bot_log_level == "INFO":
        logging.getLogger().setLevel(logging.WARNING)  # keep the chat readable
    rates = {chat.platform: settings.telegram_send_rate}
    async with nudges_for(store, [chat], **nudge_options(settings, coach, rates)):
        await chat.run()
    return 0


def nudge_options(settings: Settings, coach: Coach, rates: dict[str, float]) -> dict[str, Any]:
    """The scheduler's settings. It is the one owner of each platform's send rate."""
    return {
        "rates": rates,
        "grace": timedelta(minutes=settings.bot_nudge_grace_minutes),
        "library": coach.library,
        "clock": coach.clock,
    }


def nudges_for(
    store: Outbox, messengers: Sequence[Messenger], **options: Any
) -> contextlib.AbstractAsyncContextManager[NudgeService]:
    """The nudge scheduler: on the bot's event loop for SQLite (fast, single-threaded, as
    always), on a loop of its own in a thread for a store that blocks (PostgreSQL)."""
    if getattr(store, "blocking", False):
        return run_nudges_beside(store, messengers, **options)
    return run_nudges(store, messengers, **options)


@contextlib.contextmanager
def open_store(settings: Settings) -> Iterator[Outbox]:
    """The bot's database for as long as it runs: PostgreSQL when BOT_DATABASE_URL is set
    (this process one of its workers, docs/scaling.md), SQLite at BOT_DB_PATH otherwise
    (one bot per file)."""
    url = settings.database_url
    if url is not None:
        with open_pg_storage(url, settings.clock) as postgres:
            yield postgres
        return
    with (
        one_bot_per_database(settings.bot_db_path),
        open_storage(settings.bot_db_path, settings.clock) as sqlite,
    ):
        yield sqlite


@contextlib.contextmanager
def open_pg_storage(url: str, clock: Clock) -> Iterator[Outbox]:
    """The PostgreSQL database, or a `StartupError` that says what is wrong with
    BOT_DATABASE_URL (its password redacted); this process one of its workers while it runs.

    Several `python -m bot` may run on one PostgreSQL database (docs/scaling.md): each joins
    the workers (an id and a liveness lock), drains the one outbox with SKIP LOCKED claims
    stamped with its id, takes each send from the platform's shared budget, and plays the
    one-at-a-time roles (planner, Telegram poller, Discord gateway) when it gets their lock."""
    import psycopg

    from bot import storage_pg

    shown = storage_pg.redact_url(url)
    try:
        with psycopg.connect(url, connect_timeout=10):  # libpq's own words on failure
            pass
        store = storage_pg.PgStorage(url, clock=clock)
    except storage_pg.NewerSchemaError as exc:
        raise StartupError(
            f"BOT_DATABASE_URL: {shown} was written by a newer version of the bot ({exc}); "
            "upgrade the bot, or point BOT_DATABASE_URL at another database"
        ) from None
    except psycopg.Error as exc:
        log.debug("cannot open the database at %s: %s", shown, type(exc).__name__)
        reason = storage_pg.redact_message(str(exc), url)
        raise StartupError(f"BOT_DATABASE_URL: cannot use {shown}: {reason}") from None
    with store:
        try:
            worker = store.join_workers()
        except storage_pg.WorkerConflictError:
            raise StartupError(
                f"BOT_DATABASE_URL: an older bot that runs alone is running on {shown}; "
                "stop it first"
            ) from None
        log.info("worker %d joined the workers on %s", worker, shown)
        yield store


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

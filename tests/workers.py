"""Several `python -m bot` worker processes on one PostgreSQL database, against the fake Bot
API: started, signalled and read back by tests/test_workers.py and bench/workers.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEBHOOK_PATH = "/telegram"
JOINED = re.compile(rb"worker (\d+) joined the workers")


def seed_due_nudges(url: str, users: int, due: datetime, first_chat: int) -> None:
    """`users` Telegram users on PostgreSQL with one pre-workout nudge each, due from `due`
    on (1 ms apart), chats from `first_chat` on."""
    from bot.storage_pg import PgStorage

    session = (due + timedelta(minutes=30)).isoformat()
    with PgStorage(url) as store, store.transaction():
        for n in range(users):
            chat = str(first_chat + n)
            user = store.user_for("telegram", chat, "UTC")
            user.chat_id, user.onboarded = chat, True
            store.save_user(user)
            store.enqueue_nudge(
                user.id,
                "pre_workout",
                due + timedelta(milliseconds=n),
                {"ref": session, "session_at": session, "workout": "run"},
            )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Worker:
    """One `python -m bot` process and its log file."""

    process: subprocess.Popen[bytes]
    log: Path
    webhook_port: int | None = None

    @property
    def worker_id(self) -> int | None:
        """Its id among the workers, from its log (None before it joined, or on SQLite)."""
        found = JOINED.search(self.log.read_bytes()) if self.log.exists() else None
        return int(found.group(1)) if found else None

    def ready(self) -> bool:
        return self.log.exists() and b"nudges: ready to dispatch" in self.log.read_bytes()

    def kill_9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 15) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def start_worker(
    log: Path,
    *,
    token: str,
    base_url: str,
    database_url: str | None = None,
    db_path: Path | None = None,
    rate: float = 30,
    webhook: bool = False,
    env: dict[str, str] | None = None,
) -> Worker:
    """A worker: on PostgreSQL with `database_url`, else SQLite at `db_path`; Telegram by
    long polling, or with `webhook` on a free port of its own (all receive)."""
    port = free_port() if webhook else None
    settings = {
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_BASE_URL": base_url,
        "TELEGRAM_SEND_RATE": str(rate),
        "DISCORD_BOT_TOKEN": "",
        "BOT_DATABASE_URL": database_url or "",
        "BOT_DB_PATH": str(db_path or log.with_suffix(".sqlite3")),
        "BOT_LOG_LEVEL": "INFO",
    }
    if port is not None:
        settings |= {
            "TELEGRAM_WEBHOOK_URL": f"https://bot.example{WEBHOOK_PATH}",
            "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
            "TELEGRAM_WEBHOOK_PORT": str(port),
        }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=ROOT,
            env={**os.environ, **settings, **(env or {})},
            stdout=out,
            stderr=out,
        )
    return Worker(process, log, port)


async def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.contextmanager
def stopped_at_exit(workers: list[Worker]) -> Iterator[list[Worker]]:
    try:
        yield workers
    finally:
        for worker in workers:  # all at once: each takes a moment to stop cleanly
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.stop()

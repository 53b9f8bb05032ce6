"""A sick database: a clear reply, no confirmed data lost, nothing overwritten.

Locked (another process holds the write lock), read-only and full files fail the turn
with the coach's plain apology and keep what was confirmed before; the next message
after the database recovers works. A damaged file or one from a newer version refuses
to start, and its bytes are left exactly as they were.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.coach import Coach
from bot.core.turn import Sender
from bot.storage import Storage
from tests.conversation import FakeClock

ROOT = Path(__file__).resolve().parents[2]
ME = Sender("test", "1", chat_id="1")


@pytest.fixture
def store(db_path: Path) -> Iterator[Storage]:
    with Storage(db_path) as storage:
        storage.db.execute("PRAGMA busy_timeout = 100")  # fail fast when locked
        yield storage


@pytest.fixture
def coach(store: Storage) -> Coach:
    coach = Coach(store, clock=FakeClock())
    assert "calves 7/10" in coach.handle_message(ME, "calves 7/10")[-1].text  # confirmed
    return coach


def soreness(coach: Coach) -> list[tuple[str, int]]:
    user = coach.user(ME)
    since = coach.clock() - timedelta(days=1)
    return [(r.area, r.severity) for r in coach.store.soreness_since(user.id, since)]


def apologised(coach: Coach, text: str) -> bool:
    outcome = coach.respond(ME, text)
    return outcome.handled_as == "error" and "try again" in outcome.replies[-1].text


def test_a_locked_database(coach: Coach, db_path: Path) -> None:
    other = sqlite3.connect(db_path, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        assert apologised(coach, "quads 5/10")
    finally:
        other.rollback()
        other.close()
    assert soreness(coach) == [("calves", 7)]
    coach.handle_message(ME, "quads 5/10")
    assert soreness(coach) == [("calves", 7), ("quads", 5)]


def test_a_read_only_database(coach: Coach, store: Storage) -> None:
    store.db.execute("PRAGMA query_only = ON")
    assert apologised(coach, "quads 5/10")
    assert soreness(coach) == [("calves", 7)]  # reads still work
    store.db.execute("PRAGMA query_only = OFF")


def test_a_full_disk(coach: Coach, store: Storage) -> None:
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    for n in range(50):  # until the file cannot grow
        if apologised(coach, f"quads 5/10 {'x' * 400} {n}"):
            break
    else:
        pytest.fail("the database never filled up")
    assert ("calves", 7) in soreness(coach)


def start(db_path: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BOT_DB_PATH": str(db_path), "TELEGRAM_BOT_TOKEN": ""}
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        input="/quit\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**environment, "DISCORD_BOT_TOKEN": ""},
        timeout=60,
        check=False,
    )


def test_a_damaged_file_is_refused_and_left_alone(db_path: Path) -> None:
    with Storage(db_path) as store:
        store.user_for("telegram", "1", "UTC")
    data = db_path.read_bytes()
    damaged = data[:100] + b"\xff" * 2000 + data[2100:]
    db_path.write_bytes(damaged)
    Path(f"{db_path}-wal").unlink(missing_ok=True)
    result = start(db_path)
    assert result.returncode == 2 and "BOT_DB_PATH" in result.stderr
    assert "Traceback" not in result.stderr
    assert db_path.read_bytes() == damaged


def test_a_file_from_a_newer_version_is_refused_and_left_alone(db_path: Path) -> None:
    with Storage(db_path) as store:
        store.db.execute("PRAGMA user_version = 99")
    before = db_path.read_bytes()
    result = start(db_path)
    assert result.returncode == 2 and "newer version" in result.stderr
    assert "Traceback" not in result.stderr
    assert db_path.read_bytes() == before

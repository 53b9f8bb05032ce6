"""A user's data is theirs: /forget leaves nothing behind, one bot per database, backups.

Real processes on real files: the terminal chat for /export and /forget, then the raw
bytes of the database, its WAL and the exports folder are searched for what was said.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

from bot.storage import Storage

ROOT = Path(__file__).resolve().parents[1]
MARKER = "quokkathon"  # a word the user said, to look for afterwards


def chat(db_path: Path, lines: list[str]) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BOT_DB_PATH": str(db_path), "TELEGRAM_BOT_TOKEN": ""}
    return subprocess.run(
        [sys.executable, "-m", "bot", *([] if lines else ["--help"])],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**environment, "DISCORD_BOT_TOKEN": ""},
        timeout=60,
        check=False,
    )


def bytes_under(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_forget_leaves_no_trace_in_the_database_its_wal_or_the_exports(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    said = [f"calves 6/10 after the {MARKER}", f"had a massage before the {MARKER}", "/export"]
    first = chat(db_path, said)
    assert first.returncode == 0, first.stderr
    export = next((tmp_path / "exports").glob("*.json"))
    assert MARKER in export.read_text()
    assert stat.S_IMODE(export.stat().st_mode) == 0o600  # personal data: owner only
    assert MARKER.encode() in bytes_under(tmp_path)

    second = chat(db_path, ["/forget", "yes"])
    assert "all your data is deleted" in second.stdout
    assert MARKER.encode() not in bytes_under(tmp_path)
    assert not list((tmp_path / "exports").glob("*"))


def test_a_second_bot_on_the_same_database_stops_with_one_line(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    environment = {**os.environ, "BOT_DB_PATH": str(db_path), "TELEGRAM_BOT_TOKEN": ""}
    first = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**environment, "DISCORD_BOT_TOKEN": ""},
    )
    try:
        for _ in range(200):  # until the first one holds the lock
            if Path(f"{db_path}.lock").exists() and db_path.exists():
                break
            time.sleep(0.05)
        second = chat(db_path, ["/help"])
    finally:
        first.communicate(b"/quit\n", timeout=30)
    assert second.returncode == 2
    lines = [line for line in second.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "another bot is already running" in lines[0]
    assert first.returncode == 0


def test_backup_is_a_consistent_copy_of_a_live_database(tmp_path: Path) -> None:
    db_path, copy = tmp_path / "bot.sqlite3", tmp_path / "backup.sqlite3"
    with Storage(db_path) as store:  # open, WAL in use, while the backup runs
        user = store.user_for("telegram", "1", "UTC")
        store.add_schedule(user.id, "18:00", weekday=0)
        result = subprocess.run(
            [sys.executable, "-m", "bot", "--db", str(db_path), "backup", str(copy)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    with sqlite3.connect(copy) as restored:
        assert restored.execute("SELECT COUNT(*) FROM schedules").fetchone()[0] == 1
    again = subprocess.run(
        [sys.executable, "-m", "bot", "--db", str(db_path), "backup", str(copy)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert again.returncode == 2 and "exists already" in again.stderr

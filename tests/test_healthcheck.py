"""`python -m bot healthcheck`: 0 when the database opens and the scheduler beat recently.

Docker's HEALTHCHECK runs it beside the bot, so it only reads the database.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.storage import Storage

ROOT = Path(__file__).resolve().parents[1]


def healthcheck(db_path: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BOT_DB_PATH": str(db_path), "TELEGRAM_BOT_TOKEN": ""}
    return subprocess.run(
        [sys.executable, "-m", "bot", "healthcheck"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**environment, "DISCORD_BOT_TOKEN": ""},
        timeout=60,
        check=False,
    )


def test_no_database_is_unhealthy(tmp_path: Path) -> None:
    result = healthcheck(tmp_path / "missing.sqlite3")
    assert result.returncode == 1 and "cannot read the database" in result.stdout
    assert not (tmp_path / "missing.sqlite3").exists()  # it only reads


def test_a_scheduler_that_never_beat_is_unhealthy(db_path: Path) -> None:
    Storage(db_path).close()
    result = healthcheck(db_path)
    assert result.returncode == 1 and "has not beaten yet" in result.stdout


def test_an_old_heartbeat_is_unhealthy_and_says_how_old(db_path: Path) -> None:
    with Storage(db_path) as store:
        store.record_heartbeat(datetime.now(UTC) - timedelta(minutes=10))
    result = healthcheck(db_path)
    # 600 s plus the process's own start-up (about half a second here), rounded.
    assert result.returncode == 1
    assert re.search(r"last heartbeat was 60[0-2] s ago", result.stdout), result.stdout


def test_a_running_bot_is_healthy(db_path: Path) -> None:
    environment = {**os.environ, "BOT_DB_PATH": str(db_path), "TELEGRAM_BOT_TOKEN": ""}
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env={**environment, "DISCORD_BOT_TOKEN": ""},
    )
    try:
        for _ in range(300):  # until the scheduler's first beat is in the file
            result = healthcheck(db_path)
            if result.returncode == 0:
                break
            time.sleep(0.1)
        assert result.returncode == 0 and "healthy" in result.stdout
    finally:
        bot.communicate(b"/quit\n", timeout=30)

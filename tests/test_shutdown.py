"""SIGTERM shuts the bot down gracefully: it stops taking updates, finishes the reply in
flight, and closes the database (a real `python -m bot` process against the fake Bot API)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


async def until(condition, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_sigterm_finishes_the_reply_in_flight_and_closes_the_database(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "bot.sqlite3"
    async with FakeTelegram() as fake:
        environment = {
            **os.environ,
            "BOT_DB_PATH": str(db_path),
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_BASE_URL": fake.base_url,
            "DISCORD_BOT_TOKEN": "",
        }
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            await until(lambda: bool(fake.calls_to("getUpdates")))
            fake.hold_answers("sendMessage")
            fake.push_text("calves 7/10")
            await until(lambda: bool(fake.held_calls("sendMessage")))
            bot.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)  # the bot is stopping, its reply still unanswered
            fake.release_answers()
            await until(lambda: bot.poll() is not None)
        finally:
            if bot.poll() is None:
                bot.kill()
        assert bot.returncode == 0, bot.stderr.read().decode() if bot.stderr else ""
        (reply,) = [c for c in fake.calls_to("sendMessage") if c.status == 200]
        assert "calves 7/10" in reply.params["text"]
    wal = Path(f"{db_path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # closed: the log folded into the file

"""A real crash: `python -m bot` fans out 2,000 nudges to the fake Telegram API, is killed
with SIGKILL mid-fan-out, restarts and finishes. Nobody gets a nudge twice.

Delivery is at-most-once by design (see `bot.scheduler`): a nudge whose request was in
flight when the process died is recorded as failed "interrupted: delivery unknown" and not
resent. So the assertion is: every user got exactly one nudge, except users whose row was
interrupted, who got at most one — and those are at most the few sends in flight.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import Storage
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
USERS = 2_000
FIRST_CHAT = 700_000_000
MAX_IN_FLIGHT = 2  # NudgeService default at 200/s: ceil(200 * 0.01)


def seed(db_path: Path) -> None:
    now = datetime.now(UTC)
    session = (now + timedelta(minutes=30)).isoformat()
    with Storage(db_path) as store, store.transaction():
        for n in range(USERS):
            chat = str(FIRST_CHAT + n)
            user = store.user_for("telegram", chat, "UTC")
            user.chat_id = chat
            user.onboarded = True
            store.save_user(user)
            store.enqueue_nudge(
                user.id,
                "pre_workout",
                now + timedelta(milliseconds=n),  # distinct due times, all due now
                {"ref": session, "session_at": session, "workout": "run"},
            )


def start_bot(db_path: Path, fake: FakeTelegram, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BOT_DB_PATH": str(db_path),
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_SEND_RATE": "200",
        "DISCORD_BOT_TOKEN": "",
        "BOT_LOG_LEVEL": "INFO",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=out, stderr=out
        )


def counts(db_path: Path) -> dict[str, int]:
    with Storage(db_path) as store:
        return store.nudge_counts()


async def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_kill_9_mid_fan_out_sends_no_nudge_twice(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    log = tmp_path / "bot.log"
    seed(db_path)
    async with FakeTelegram() as fake:

        def sent() -> int:
            return len(fake.calls_to("sendMessage"))

        first = start_bot(db_path, fake, log)
        try:
            await wait_for(lambda: sent() >= 300, 60, "the first few hundred nudges")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        at_kill = sent()
        assert at_kill < USERS, "the fan-out finished before the kill; nothing was tested"

        second = start_bot(db_path, fake, log)
        try:

            def done() -> bool:
                c = counts(db_path)
                return c["pending"] == 0 and c["sending"] == 0

            await wait_for(done, 90, "the outbox to drain after the restart")
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                second.wait(15)
            except subprocess.TimeoutExpired:
                second.kill()
                second.wait(5)

        per_chat = Counter(int(call.params["chat_id"]) for call in fake.calls_to("sendMessage"))
    with Storage(db_path) as store:
        rows = [
            nudge
            for user_id in range(1, USERS + 1)
            for nudge in store.export_user(user_id)["nudges"]
        ]
        chat_of = {u: int(store.get_user(u).chat_id) for u in range(1, USERS + 1)}  # type: ignore[union-attr, arg-type]
    interrupted = {
        chat_of[row["user_id"]] for row in rows if row["error"] == "interrupted: delivery unknown"
    }
    duplicates = {chat: n for chat, n in per_chat.items() if n > 1}
    assert duplicates == {}, f"sent twice: {list(duplicates.items())[:5]}"
    assert {row["status"] for row in rows} <= {"sent", "failed"}
    failed = {chat_of[row["user_id"]] for row in rows if row["status"] == "failed"}
    assert failed == interrupted
    missing = {FIRST_CHAT + n for n in range(USERS)} - set(per_chat)
    assert missing <= interrupted, f"lost without an interrupted record: {sorted(missing)[:5]}"
    assert len(interrupted) <= MAX_IN_FLIGHT
    assert sum(1 for row in rows if row["status"] == "sent") == USERS - len(interrupted)
    assert sum(per_chat.values()) == USERS - len(missing)
    print(
        f"killed after {at_kill} sends; interrupted {len(interrupted)}, "
        f"of which lost {len(missing)}; duplicates 0"
    )

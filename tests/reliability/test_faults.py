"""Faults through a whole nudge fan-out lose nothing and send nothing twice.

The real Telegram adapter (python-telegram-bot) and the real nudge service on a SQLite
file, against the fake Bot API injecting 429s, 5xx answers and 403s (users who blocked
the bot). Afterwards every nudge is accounted for: sent once, or failed with the reason.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.telegram import TelegramAdapter
from bot.core.coach import Coach
from bot.scheduler import NudgeService
from bot.settings import Settings
from bot.storage import Storage
from tests.conversation import FakeClock
from tests.fakes.telegram_api import FakeTelegram

USERS = 120
FIRST_CHAT = 610_000_000
BLOCKED = {FIRST_CHAT + n for n in (3, 40, 77)}
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def seed(store: Storage) -> None:
    session = (NOW + timedelta(minutes=30)).isoformat()
    with store.transaction():
        for n in range(USERS):
            chat = str(FIRST_CHAT + n)
            user = store.user_for("telegram", chat, "UTC")
            user.chat_id = chat
            store.save_user(user)
            payload = {"ref": session, "session_at": session, "workout": "run"}
            store.enqueue_nudge(user.id, "pre_workout", NOW - timedelta(seconds=n), payload)


async def test_a_fan_out_through_a_fault_storm_loses_nothing(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    async with FakeTelegram() as fake:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_bot_token=fake.token,
            telegram_base_url=fake.base_url,
            bot_db_path=tmp_path / "bot.sqlite3",
        )
        with Storage(settings.bot_db_path, clock=clock) as store:
            seed(store)
            coach = Coach(store, clock=clock)
            adapter = TelegramAdapter(coach, settings, poll_timeout=1)
            for chat in BLOCKED:
                fake.block_user(chat)
            fake.fail_next("sendMessage", status=429, retry_after=1, times=3)
            fake.fail_next("sendMessage", status=502, times=5)
            nudges = NudgeService(
                store, [adapter], rates={"telegram": 500.0}, clock=clock, per_chat_interval=0
            )
            async with adapter.running():
                for _ in range(20):  # until nothing is pending: 429s put rows back
                    await nudges.drain("telegram", wait=True)
                    if store.nudge_counts()["pending"] == 0:
                        break
                await nudges.idle()
            counts = store.nudge_counts()
            rows = store.db.execute(
                "SELECT u.chat_id, n.status, n.error FROM nudges n JOIN users u ON u.id = n.user_id"
            ).fetchall()
            unreachable = {
                int(u.chat_id)
                for u in map(store.get_user, range(1, USERS + 1))
                if u and u.unreachable
            }

        delivered = Counter(
            int(call.params["chat_id"])
            for call in fake.calls_to("sendMessage")
            if call.status == 200
        )
    assert counts["pending"] == counts["sending"] == 0
    assert max(delivered.values()) == 1  # nothing twice, 429s and 5xx included
    status = {int(chat): (state, error) for chat, state, error in rows}
    assert {chat for chat, (state, _) in status.items() if state == "sent"} == set(delivered)
    failed = {chat: error for chat, (state, error) in status.items() if state != "sent"}
    assert set(failed) == BLOCKED, failed
    assert all("blocked" in (error or "") for error in failed.values())
    assert unreachable == BLOCKED
    assert len(delivered) == USERS - len(BLOCKED)

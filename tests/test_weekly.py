"""The weekly summary through the real outbox: planned by the scheduler's horizon pass,
written at send time, sent once, and not again after a restart, whether the first process
stopped cleanly or died mid-send (at-most-once, as every nudge; see bot/scheduler).

A restart is a new `Storage` on the same file and a new `NudgeService`, as in
tests/test_scheduler.py; the clock is a FakeClock, never today's date.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.records import Nudge
from bot.scheduler import NudgeService
from bot.storage import Storage
from tests.conversation import FakeClock
from tests.test_scheduler import FakeMessenger

SATURDAY = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
SUNDAY_EVENING = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)  # 19:00 in Berlin
MONDAY = datetime(2026, 11, 30, tzinfo=UTC)


def opted_in(store: Storage, who: str = "42") -> int:
    user = store.user_for("telegram", who, "Europe/Berlin")
    user.weekly_summary = True
    user.onboarded = True
    store.save_user(user)
    store.record_soreness(user.id, "calves", 6, SATURDAY - timedelta(days=2))
    return user.id


def service(store: Storage, messenger: FakeMessenger, clock: FakeClock) -> NudgeService:
    return NudgeService(
        store, [messenger], rates={"telegram": 1000.0}, clock=clock, per_chat_interval=0.0
    )


def weekly_rows(store: Storage) -> list[tuple[str, str]]:
    """This week's summary rows (a pass plans a week or more ahead: next week's too)."""
    rows = store.db.execute(
        "SELECT due_at, status FROM nudges WHERE kind = 'weekly' "
        "AND json_extract(payload, '$.ref') = '2026-W48'"
    )
    return [(due, status) for due, status in rows.fetchall()]


def this_weeks_summary(store: Storage, user_id: int) -> Nudge:
    (planned,) = [
        n for n in store.pending_nudges_of(user_id) if n.kind == "weekly" and n.due_at < MONDAY
    ]
    return planned


async def test_the_summary_is_planned_and_sent_once_across_a_restart(db_path: Path) -> None:
    clock = FakeClock(SATURDAY)
    first = FakeMessenger()
    with Storage(db_path) as store:
        user_id = opted_in(store)
        nudges = service(store, first, clock)
        await nudges.extend_horizon()
        planned = this_weeks_summary(store, user_id)
        assert (planned.kind, planned.due_at, planned.payload["ref"]) == (
            "weekly",
            SUNDAY_EVENING,
            "2026-W48",
        )
        assert await nudges.drain("telegram", wait=True) == 0  # not due yet
        clock.set(SUNDAY_EVENING + timedelta(seconds=30))
        assert await nudges.drain("telegram", wait=True) == 1
        await nudges.stop()
    ((chat, reply),) = first.sent
    assert chat == "42" and reply.title == "Your week"
    assert "Average soreness this week: 6.0/10." in reply.text

    clock.advance(minutes=5)  # the bot restarts a few minutes later
    again = FakeMessenger()
    with Storage(db_path) as store:
        nudges = service(store, again, clock)
        assert nudges.recover() == (0, 0)
        await nudges.extend_horizon()  # plans the same week again: the ref says it exists
        assert await nudges.drain("telegram", wait=True) == 0
        assert again.sent == []
        assert [status for _, status in weekly_rows(store)] == ["sent"]


async def test_a_summary_in_flight_when_the_bot_died_is_never_sent_again(db_path: Path) -> None:
    clock = FakeClock(SATURDAY)
    with Storage(db_path) as store:
        user_id = opted_in(store)
        await service(store, FakeMessenger(), clock).extend_horizon()
        planned = this_weeks_summary(store, user_id)
        assert store.claim_nudge(planned.id)  # claimed, then kill -9 before the answer
    clock.set(SUNDAY_EVENING + timedelta(minutes=1))
    messenger = FakeMessenger()
    with Storage(db_path) as store:
        nudges = service(store, messenger, clock)
        assert nudges.recover() == (1, 0)
        await nudges.extend_horizon()
        assert await nudges.drain("telegram", wait=True) == 0
        assert messenger.sent == []
        assert [status for _, status in weekly_rows(store)] == ["failed"]


async def test_a_summary_turned_off_before_sunday_is_not_sent(db_path: Path) -> None:
    clock = FakeClock(SATURDAY)
    messenger = FakeMessenger()
    with Storage(db_path) as store:
        user_id = opted_in(store)
        nudges = service(store, messenger, clock)
        await nudges.extend_horizon()
        user = store.get_user(user_id)
        assert user is not None
        user.weekly_summary = False  # saved without a re-plan: the send-time check drops it
        store.save_user(user)
        clock.set(SUNDAY_EVENING)
        await nudges.drain("telegram", wait=True)
    assert messenger.sent == []
    with Storage(db_path) as store:
        assert [status for _, status in weekly_rows(store)] == ["skipped"]

"""The nudge planner, renderer and buttons: pure, against MemoryStore and a FakeClock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core.memory import MemoryStore
from bot.core.nudges import (
    HORIZON,
    PLAN_CHUNK,
    Drop,
    plan_nudges,
    plan_until,
    render_nudge,
    replan,
)
from bot.core.records import Nudge, ScheduleEntry, User
from bot.core.replies import Reply
from bot.core.turn import Turn
from tests.conversation import Conversation, FakeClock

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday; Berlin is UTC+1


def user(**changes: object) -> User:
    base = User(1, "test", "1001", "Europe/Berlin")
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def weekly(weekday: int, time: str, workout: str | None = None, entry_id: int = 1) -> ScheduleEntry:
    return ScheduleEntry(entry_id, 1, time, weekday=weekday, workout=workout)


def once(day: date, time: str, workout: str | None = None, entry_id: int = 2) -> ScheduleEntry:
    return ScheduleEntry(entry_id, 1, time, on_date=day, workout=workout)


def workouts(planned: list) -> list:  # type: ignore[type-arg]
    return [p for p in planned if p.kind == "pre_workout"]


# --- next fire times ----------------------------------------------------------------------


def test_weekly_session_is_nudged_lead_minutes_before_in_the_users_zone() -> None:
    planned = workouts(plan_nudges(user(), [weekly(2, "18:00", "run")], NOW, NOW + HORIZON))
    assert [p.due_at for p in planned] == [datetime(2026, 11, 25, 16, 30, tzinfo=UTC)]
    assert planned[0].payload["workout"] == "run"
    assert planned[0].payload["session_at"] == "2026-11-25T17:00:00+00:00"
    later = plan_nudges(user(lead_minutes=45), [weekly(2, "18:00")], NOW, NOW + timedelta(days=8))
    assert [p.due_at for p in workouts(later)] == [
        datetime(2026, 11, 25, 16, 15, tzinfo=UTC),
        datetime(2026, 12, 2, 16, 15, tzinfo=UTC),
    ]


def test_one_off_session_is_nudged_once() -> None:
    entry = once(date(2026, 11, 26), "07:30", "lower_body")
    planned = workouts(plan_nudges(user(), [entry], NOW, NOW + timedelta(days=30)))
    assert [p.due_at for p in planned] == [datetime(2026, 11, 26, 6, 0, tzinfo=UTC)]


def test_a_session_added_inside_its_lead_time_is_nudged_right_away() -> None:
    entry = once(date(2026, 11, 25), "10:10")  # 09:10 UTC, ten minutes from now
    planned = workouts(plan_nudges(user(), [entry], NOW, NOW + HORIZON))
    assert [p.due_at for p in planned] == [NOW]


def test_past_sessions_and_paused_or_unreachable_users_get_nothing() -> None:
    entry = once(date(2026, 11, 25), "09:00")  # 08:00 UTC, already over
    assert plan_nudges(user(), [entry], NOW, NOW + HORIZON) == []
    assert plan_nudges(user(paused=True), [weekly(2, "18:00")], NOW, NOW + HORIZON) == []
    assert plan_nudges(user(unreachable=True), [weekly(2, "18:00")], NOW, NOW + HORIZON) == []


def test_two_sessions_at_the_same_instant_get_one_nudge() -> None:
    entries = [weekly(2, "18:00", "run", 1), weekly(2, "18:00", "swim", 2)]
    assert len(workouts(plan_nudges(user(), entries, NOW, NOW + HORIZON))) == 1


# --- quiet hours --------------------------------------------------------------------------


def test_nudge_inside_quiet_hours_moves_to_their_end_when_the_workout_starts_later() -> None:
    quiet = user(quiet_start="22:00", quiet_end="07:00")
    planned = workouts(plan_nudges(quiet, [once(date(2026, 11, 26), "07:20")], NOW, NOW + HORIZON))
    assert [(p.due_at, p.status) for p in planned] == [
        (datetime(2026, 11, 26, 6, 0, tzinfo=UTC), "pending")  # 07:00 Berlin
    ]
    assert planned[0].payload["moved"] == "quiet hours"


def test_nudge_inside_quiet_hours_is_dropped_with_a_reason_when_the_workout_starts_first() -> None:
    quiet = user(quiet_start="22:00", quiet_end="07:00")
    planned = workouts(plan_nudges(quiet, [once(date(2026, 11, 26), "06:30")], NOW, NOW + HORIZON))
    assert len(planned) == 1
    assert planned[0].status == "skipped"
    assert planned[0].reason is not None and "quiet hours" in planned[0].reason


def test_quiet_hours_that_do_not_wrap_midnight() -> None:
    quiet = user(quiet_start="13:00", quiet_end="15:00")
    planned = workouts(plan_nudges(quiet, [weekly(2, "15:15")], NOW, NOW + HORIZON))
    assert [p.due_at for p in planned] == [datetime(2026, 11, 25, 14, 0, tzinfo=UTC)]


# --- DST ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "expected_session_utc"),
    [
        # spring forward: 02:30 does not exist, it is read as 03:30 local summer time
        ("Europe/Berlin", date(2026, 3, 29), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        ("America/New_York", date(2026, 3, 8), datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        # fall back: 02:30 (Berlin) / 01:30 (New York) happen twice; the first one counts
        ("Europe/Berlin", date(2026, 10, 25), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("America/New_York", date(2026, 11, 1), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    ],
)
def test_dst_days_give_exactly_one_nudge(
    zone: str, day: date, expected_session_utc: datetime
) -> None:
    hhmm = "01:30" if zone == "America/New_York" and day.month == 11 else "02:30"
    start = datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=1)
    for entry in (weekly(day.weekday(), hhmm), once(day, hhmm)):
        planned = workouts(plan_nudges(user(tz=zone), [entry], start, start + HORIZON))
        assert len(planned) == 1, (zone, entry)
        assert planned[0].payload["session_at"] == expected_session_utc.isoformat()
        assert planned[0].due_at == expected_session_utc - timedelta(minutes=30)


# --- massage ------------------------------------------------------------------------------


def test_monthly_massage_nudge_defaults_to_the_first_saturday_at_ten() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    planned = plan_nudges(user(onboarded=True), [], start, start + timedelta(days=30))
    assert [(p.kind, p.due_at) for p in planned] == [
        ("massage", datetime(2026, 12, 5, 9, 0, tzinfo=UTC)),  # Sat 5 Dec, 10:00 Berlin
        ("massage_behind", datetime(2026, 12, 15, 9, 0, tzinfo=UTC)),
    ]
    custom = user(onboarded=True, massage_day="tue", massage_time="18:30")
    first = plan_nudges(custom, [], start, start + timedelta(days=2))
    assert [(p.kind, p.due_at) for p in first] == [
        ("massage", datetime(2026, 12, 1, 17, 30, tzinfo=UTC))
    ]


def test_a_plan_is_extended_to_the_users_next_weekly_instant_past_the_horizon() -> None:
    person = user(id=4242)
    for hours in range(0, 24 * 14, 5):
        horizon = NOW + timedelta(hours=hours)
        until = plan_until(person, horizon)
        assert horizon <= until < horizon + PLAN_CHUNK
        assert plan_until(person, until) == until  # the same weekly instant
        assert plan_until(person, until + timedelta(seconds=1)) == until + PLAN_CHUNK


def test_users_weekly_planning_instants_are_spread_through_the_week() -> None:
    """So an hourly pass plans ~1/168th of the users, even when all their check-ins (or
    sessions) fall in the same hour."""
    per_hour: dict[datetime, int] = {}
    for n in range(1, 5001):
        until = plan_until(user(id=n), NOW)
        hour = until.replace(minute=0, second=0, microsecond=0)
        per_hour[hour] = per_hour.get(hour, 0) + 1
    assert len(per_hour) == 7 * 24
    assert max(per_hour.values()) <= 2 * 5000 / (7 * 24)


def test_users_who_never_set_anything_up_get_no_massage_nudges() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    assert plan_nudges(user(), [], start, start + timedelta(days=30)) == []


def _turn(store: MemoryStore, at: datetime) -> tuple[Turn, User]:
    from bot.core.content import default_library

    someone = store.user_for("test", "1001", "Europe/Berlin")
    return Turn(store, default_library(), at, someone), someone


def _nudge(store: MemoryStore, user_id: int, kind: str, due: datetime, **payload: object) -> Nudge:
    nudge_id = store.enqueue_nudge(user_id, kind, due, dict(payload))
    assert nudge_id is not None
    found = store.get_nudge(nudge_id)
    assert found is not None
    return found


def test_massage_nudges_are_decided_at_send_time_and_skipped_when_the_target_is_met() -> None:
    store = MemoryStore()
    at = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
    turn, someone = _turn(store, at)
    behind = _nudge(store, someone.id, "massage_behind", at, ref="2026-12")
    reply = render_nudge(turn, behind)
    assert isinstance(reply, Reply)
    assert "0 massage" in reply.text
    assert "m:log" in [b.data for b in reply.all_buttons]  # logging is one tap
    for day in (2, 6, 10):
        store.record_massage(someone.id, datetime(2026, 12, day, 12, tzinfo=UTC))
    dropped = render_nudge(turn, behind)
    assert isinstance(dropped, Drop) and dropped.status == "skipped"
    assert "target met" in dropped.reason


# --- rendering ----------------------------------------------------------------------------


def test_pre_workout_nudge_uses_that_workouts_focus_and_current_soreness() -> None:
    store = MemoryStore()
    turn, someone = _turn(store, NOW)
    session = NOW + timedelta(minutes=30)
    upper = _nudge(
        store, someone.id, "pre_workout", NOW, workout="upper_body", session_at=session.isoformat()
    )
    reply = render_nudge(turn, upper)
    assert isinstance(reply, Reply)
    assert "Upper back" in reply.text  # upper_body's first focus area
    assert [b.data for b in reply.all_buttons] == [
        f"ns:{upper.id}",
        f"nz:{upper.id}",
        f"nk:{upper.id}",
    ]
    store.record_soreness(someone.id, "calves", 8, NOW - timedelta(hours=2))
    run = _nudge(
        store,
        someone.id,
        "pre_workout",
        NOW + timedelta(seconds=1),
        workout="run",
        session_at=session.isoformat(),
    )
    sore = render_nudge(turn, run)
    assert isinstance(sore, Reply)
    assert sore.text.splitlines()[0].startswith("Your calves were 8/10")
    assert "1. Calves" in sore.text


def test_pre_workout_nudge_for_a_session_that_already_started_is_missed() -> None:
    store = MemoryStore()
    turn, someone = _turn(store, NOW)
    late = _nudge(store, someone.id, "pre_workout", NOW, session_at=NOW.isoformat())
    dropped = render_nudge(turn, late)
    assert isinstance(dropped, Drop) and dropped.status == "missed"


# --- the coach side: buttons, replan hooks ------------------------------------------------


def _pending(store: MemoryStore, user_id: int) -> list[Nudge]:
    return [n for n in store.nudges(user_id) if n.status == "pending"]


def _with_schedule(conversation: Conversation, store: MemoryStore) -> User:
    conversation.say("/schedule add wed fri 18:00 run")
    conversation.tap("Save")
    return conversation.user


def test_saving_a_schedule_plans_its_nudges(
    conversation: Conversation, memory_store: MemoryStore
) -> None:
    someone = _with_schedule(conversation, memory_store)
    due = [n.due_at for n in _pending(memory_store, someone.id) if n.kind == "pre_workout"]
    assert due == [datetime(2026, 11, 25, 16, 30, tzinfo=UTC)]  # Wed; Fri is past 48 h


def test_start_snooze_and_skip_buttons(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    someone = _with_schedule(conversation, memory_store)
    nudge = _pending(memory_store, someone.id)[0]
    clock.set(nudge.due_at)
    conversation.press(f"ns:{nudge.id}")
    assert conversation.last.title is not None and conversation.last.title.startswith("1/")
    conversation.tap("Next")
    assert conversation.last.title is not None and conversation.last.title.startswith("2/")

    conversation.press(f"nz:{nudge.id}")
    assert "18:40" not in conversation.last_text and "17:40" in conversation.last_text
    conversation.press(f"nz:{nudge.id}")  # twice: still one snooze
    snoozes = [n for n in memory_store.nudges(someone.id) if n.kind == "snooze"]
    assert len(snoozes) == 1
    assert snoozes[0].due_at == nudge.due_at + timedelta(minutes=10)
    assert snoozes[0].payload["workout"] == "run"
    assert "Already snoozed" in conversation.last_text

    conversation.press(f"nk:{nudge.id}")
    assert "Skipped" in conversation.last_text
    skipped = memory_store.get_nudge(nudge.id)
    assert skipped is not None and skipped.status == "skipped"
    snooze = memory_store.get_nudge(snoozes[0].id)
    assert snooze is not None and snooze.status == "skipped"  # Skip also calls off the snooze


@pytest.mark.parametrize("data", ["ns:999999", "nz:abc", "nk:", "ns:-1"])
def test_unknown_or_stale_nudge_buttons_are_answered_as_expired(
    conversation: Conversation, data: str
) -> None:
    conversation.press(data)
    assert conversation.last_text == conversation.coach.library.messages["button_expired"]


def test_someone_elses_nudge_id_is_expired(
    conversation: Conversation, memory_store: MemoryStore
) -> None:
    other = memory_store.user_for("test", "other", "UTC")
    nudge_id = memory_store.enqueue_nudge(other.id, "pre_workout", NOW, {"ref": "x"})
    conversation.press(f"nk:{nudge_id}")
    assert conversation.last_text == conversation.coach.library.messages["button_expired"]


def test_pause_drops_pending_nudges_and_resume_plans_them_again(
    conversation: Conversation, memory_store: MemoryStore
) -> None:
    someone = _with_schedule(conversation, memory_store)
    assert _pending(memory_store, someone.id)
    conversation.say("/pause")
    assert _pending(memory_store, someone.id) == []
    conversation.say("/resume")
    assert [n.kind for n in _pending(memory_store, someone.id)] == ["pre_workout"]


def test_time_zone_change_moves_every_future_nudge(
    conversation: Conversation, memory_store: MemoryStore
) -> None:
    someone = _with_schedule(conversation, memory_store)
    before = [n.due_at for n in _pending(memory_store, someone.id)]
    conversation.say("/settings tz America/New_York")
    after = [n.due_at for n in _pending(memory_store, someone.id)]
    assert before == [datetime(2026, 11, 25, 16, 30, tzinfo=UTC)]
    assert after == [datetime(2026, 11, 25, 22, 30, tzinfo=UTC)]  # 17:30 in New York


def test_lead_time_quiet_hours_and_schedule_changes_take_effect_immediately(
    conversation: Conversation, memory_store: MemoryStore
) -> None:
    someone = _with_schedule(conversation, memory_store)
    conversation.say("/settings lead 60")
    assert [n.due_at for n in _pending(memory_store, someone.id)] == [
        datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    ]
    conversation.say("/settings quiet 16:30-17:45")
    assert [n.due_at for n in _pending(memory_store, someone.id)] == [
        datetime(2026, 11, 25, 16, 45, tzinfo=UTC)  # the end of quiet hours, before 18:00
    ]
    conversation.say("/schedule clear")
    assert _pending(memory_store, someone.id) == []


def test_a_sent_sessions_nudge_is_not_planned_again_after_a_lead_change(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    someone = _with_schedule(conversation, memory_store)
    nudge = _pending(memory_store, someone.id)[0]
    memory_store.mark_nudge(nudge.id, "sent")
    clock.set(nudge.due_at + timedelta(minutes=5))
    conversation.say("/settings lead 15")
    assert _pending(memory_store, someone.id) == []


def test_replan_is_idempotent(memory_store: MemoryStore) -> None:
    turn, someone = _turn(memory_store, NOW)
    memory_store.add_schedule(someone.id, "18:00", weekday=2)
    assert replan(turn) == 1
    assert replan(turn) == 1  # replaced, not added
    assert len(memory_store.nudges(someone.id)) == 1


def test_every_change_that_moves_nudges_replans_once_per_turn(
    conversation: Conversation, memory_store: MemoryStore
) -> None:
    conversation.say("/schedule add thu 18:00")  # tomorrow: inside the planning horizon
    conversation.say("yes")
    user = conversation.user
    before = [n.due_at for n in memory_store.pending_nudges_of(user.id)]
    assert before
    conversation.say("/settings massage_day sun 09:00")  # a field no handler re-planned for
    conversation.say("/settings lead 60")
    after = [n.due_at for n in memory_store.pending_nudges_of(user.id)]
    assert before != after
    assert min(after) < min(before)  # an hour before instead of 30 minutes

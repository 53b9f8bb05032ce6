"""Nudges on time when everyone trains at 18:00: send times planned ahead (issue 20).

The planner gives each nudge a window (`bot.core.nudges.earliest_send`), the send slots
(`bot.core.send_slots`) pick the latest free instant in it against the platform's rate, the
planning pass writes it as `send_at` (`bot.scheduler.plan_ahead`) and the dispatcher sends
in that order. Fixed instants and FakeClock only; no timed asserts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.content import default_library
from bot.core.memory import MemoryStore
from bot.core.nudges import (
    EARLY_SHARE,
    HORIZON,
    MOVABLE_EARLY,
    PLAN_CHUNK,
    earliest_send,
    plan_nudges,
    send_deadline,
    snooze,
)
from bot.core.ports import Outbox
from bot.core.records import PlannedNudge, ScheduleEntry, User
from bot.core.send_slots import SendSlots
from bot.core.turn import Turn
from bot.scheduler import NudgeService
from bot.scheduler.plan_ahead import CHUNK, FRESH_READS, PIECE, PlanAhead
from tests.conversation import FakeClock
from tests.test_ports import outbox  # noqa: F401  (SQLite, memory and PostgreSQL)
from tests.test_scheduler import FakeMessenger

WEDNESDAY = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # sessions at 18:00 UTC that evening
SESSION = WEDNESDAY.replace(hour=18)
DUE = SESSION - timedelta(minutes=30)  # a 30-minute lead


def user(**settings: object) -> User:
    return User(1, "telegram", "1", "UTC", **settings)  # type: ignore[arg-type]


def session_nudge(u: User) -> PlannedNudge:
    entry = ScheduleEntry(1, u.id, "18:00", weekday=SESSION.weekday(), workout="run")
    (planned,) = plan_nudges(u, [entry], WEDNESDAY, WEDNESDAY + timedelta(hours=12))
    return planned


# ---------------------------------------------------------------- the window (pure)


def test_a_pre_workout_nudge_may_go_half_its_lead_early_and_never_after_the_session() -> None:
    planned = session_nudge(user())
    assert planned.due_at == DUE
    assert (
        planned.earliest == DUE - timedelta(minutes=30) * EARLY_SHARE == DUE - timedelta(minutes=15)
    )
    assert send_deadline(planned) == SESSION


def test_the_window_never_reaches_into_quiet_hours_ending_inside_it() -> None:
    # Quiet until 17:20: the nudge due at 17:30 may not go before 17:20.
    planned = session_nudge(user(quiet_start="23:00", quiet_end="17:20"))
    assert (planned.due_at, planned.earliest) == (DUE, SESSION.replace(hour=17, minute=20))


def test_the_window_starts_after_quiet_hours_that_begin_inside_it() -> None:
    # A short quiet spell 17:18-17:22 inside [17:15, 17:30]: only its end onwards is allowed.
    planned = session_nudge(user(quiet_start="17:18", quiet_end="17:22"))
    assert (planned.due_at, planned.earliest) == (DUE, SESSION.replace(hour=17, minute=22))


def test_a_nudge_quiet_hours_moved_to_their_end_goes_at_that_end() -> None:
    planned = session_nudge(user(quiet_start="12:00", quiet_end="17:40"))
    assert planned.payload.get("moved") == "quiet hours"
    assert planned.due_at == planned.earliest == SESSION.replace(hour=17, minute=40)


def test_massage_check_ins_and_the_weekly_summary_may_move_by_hours() -> None:
    ten = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    assert earliest_send(user(), "massage", ten) == ten - MOVABLE_EARLY
    assert earliest_send(user(), "weekly", ten) == ten - MOVABLE_EARLY
    assert timedelta(hours=1) <= MOVABLE_EARLY
    # ... but not into the night's quiet hours.
    assert earliest_send(
        user(quiet_start="22:00", quiet_end="09:00"), "massage", ten
    ) == ten.replace(hour=9)


def test_a_snooze_goes_at_its_time() -> None:
    assert earliest_send(user(), "snooze", DUE) == DUE


# ---------------------------------------------------------------- the slots (pure)


def test_with_room_a_nudge_goes_at_its_due_time() -> None:
    slots = SendSlots(30.0, WEDNESDAY)
    assert slots.place(DUE - timedelta(minutes=15), DUE, SESSION) == DUE
    # ... and an instant between two slots is kept as it is.
    odd = DUE + timedelta(seconds=5, microseconds=10)
    assert slots.place(odd - timedelta(minutes=15), odd) == odd


def test_a_crowded_minute_spreads_out_early_within_the_window() -> None:
    slots = SendSlots(1.0, WEDNESDAY)  # one a second
    earliest = DUE - timedelta(minutes=15)
    sends = [slots.place(earliest, DUE, SESSION) for _ in range(600)]
    assert sends[0] == DUE
    assert len(set(sends)) == 600  # one a slot: the rate is kept
    assert all(earliest <= at <= DUE for at in sends)
    assert min(sends) == DUE - timedelta(seconds=599)  # as late as the rate allows


def test_a_full_window_goes_late_in_order_but_never_past_the_deadline() -> None:
    slots = SendSlots(1 / 60, WEDNESDAY)  # one a minute
    earliest = DUE - timedelta(minutes=15)
    sends = [slots.place(earliest, DUE, SESSION) for _ in range(50)]
    assert sorted(sends[:16]) == [earliest + timedelta(minutes=m) for m in range(16)]
    assert sends[16:45] == [DUE + timedelta(minutes=m) for m in range(1, 30)]  # late, in order
    # Past the session start there is no slot worth taking: they keep their due time.
    assert sends[45:] == [DUE] * 5


# ---------------------------------------------------------------- the outbox


def test_the_outbox_sends_in_order_of_send_time(outbox: Outbox) -> None:  # noqa: F811
    early = outbox.user_for("telegram", "1", "UTC")
    plain = outbox.user_for("telegram", "2", "UTC")
    planned = PlannedNudge("pre_workout", DUE, {"ref": "a"}, send_at=DUE - timedelta(minutes=10))
    assert outbox.add_planned(early.id, [planned]) == 1
    plain_id = outbox.enqueue_nudge(plain.id, "pre_workout", DUE - timedelta(minutes=5), {})
    assert outbox.next_due("telegram") == DUE - timedelta(minutes=10)
    (first,) = outbox.pending_nudges(DUE - timedelta(minutes=8), 10, "telegram")
    assert (first.user_id, first.due_at, first.send_at) == (
        early.id,
        DUE,
        DUE - timedelta(minutes=10),
    )
    both = outbox.pending_nudges(DUE, 10, "telegram")
    assert [n.user_id for n in both] == [early.id, plain.id]
    assert outbox.get_nudge(plain_id or 0).send_at == DUE - timedelta(minutes=5)  # type: ignore[union-attr]
    assert outbox.send_load("telegram", DUE - timedelta(hours=1), DUE) == {
        DUE - timedelta(minutes=10): 1,
        DUE - timedelta(minutes=5): 1,
    }
    assert outbox.send_load("discord", DUE - timedelta(hours=1), DUE) == {}


def test_a_replan_takes_its_rows_out_of_the_send_load(outbox: Outbox) -> None:  # noqa: F811
    u = outbox.user_for("telegram", "1", "UTC")
    planned = PlannedNudge("pre_workout", DUE, {"ref": "a"}, send_at=DUE - timedelta(minutes=3))
    outbox.add_planned(u.id, [planned])
    outbox.replace_nudges(u.id, WEDNESDAY, [])
    assert outbox.send_load("telegram", WEDNESDAY, SESSION) == {}


# ---------------------------------------------------------------- the planning pass


def trainees(store: Outbox, count: int, first: int = 0, **settings: object) -> list[User]:
    """`count` telegram users, each training Wednesdays at 18:00 UTC with a 30-minute lead."""
    made = []
    for n in range(first, first + count):
        u = store.user_for("telegram", str(7000 + n), "UTC")
        u.onboarded = True
        for name, value in settings.items():
            setattr(u, name, value)
        store.save_user(u)
        store.add_schedule(u.id, "18:00", weekday=SESSION.weekday(), workout="run")
        made.append(u)
    return made


def planner(store: Outbox, clock: FakeClock, rate: float, **options: object) -> NudgeService:
    return NudgeService(
        store,
        [FakeMessenger()],
        rates={"telegram": rate},
        clock=clock,
        per_chat_interval=0.0,
        **options,  # type: ignore[arg-type]
    )


def pre_workout(store: Outbox, users: list[User]) -> list[tuple[datetime, datetime]]:
    """(due, send) of each user's pending pre-workout nudges for that evening's session (the
    pass plans a week or more), by send time."""
    rows = [
        (n.due_at, n.send_time)
        for u in users
        for n in store.pending_nudges_of(u.id)
        if n.kind == "pre_workout" and n.due_at < SESSION
    ]
    return sorted(rows, key=lambda row: row[1])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WEDNESDAY)


async def test_a_planning_pass_spreads_a_crowded_minute_before_it(
    outbox: Outbox,  # noqa: F811
    clock: FakeClock,
) -> None:
    users = trainees(outbox, 40)
    await planner(outbox, clock, rate=0.1).extend_horizon()  # a slot every 10 s
    rows = pre_workout(outbox, users)
    assert len(rows) == 40 and {due for due, _ in rows} == {DUE}
    sends = [send for _, send in rows]
    assert sends[-1] == DUE  # the last one at its due time
    assert len(set(sends)) == 40  # each in a slot of its own
    assert sends[0] == DUE - timedelta(seconds=390)  # as late as the rate allows
    assert all(DUE - timedelta(minutes=15) <= send <= DUE for send in sends)


async def test_with_no_crowd_every_nudge_goes_at_its_due_time(
    outbox: Outbox,  # noqa: F811
    clock: FakeClock,
) -> None:
    users = trainees(outbox, 5)
    await planner(outbox, clock, rate=30.0).extend_horizon()
    sends = [send for _, send in pre_workout(outbox, users)]
    assert sends[-1] == DUE  # the others in the slots just before it, 1/30 s apart
    assert all(DUE - timedelta(seconds=1) < send <= DUE for send in sends)


async def test_without_plan_ahead_every_nudge_is_sent_at_its_due_time(
    outbox: Outbox,  # noqa: F811
    clock: FakeClock,
) -> None:
    users = trainees(outbox, 20)
    await planner(outbox, clock, rate=0.1, plan_ahead=False).extend_horizon()
    assert {send for _, send in pre_workout(outbox, users)} == {DUE}


async def test_quiet_hours_hold_back_the_spread(outbox: Outbox, clock: FakeClock) -> None:  # noqa: F811
    users = trainees(outbox, 30, quiet_start="23:00", quiet_end="17:27")
    await planner(outbox, clock, rate=0.1).extend_horizon()  # 3 minutes hold 19 slots
    sends = [send for _, send in pre_workout(outbox, users)]
    quiet_ends = DUE - timedelta(minutes=3)
    assert [send for send in sends if send <= DUE] == [
        quiet_ends + timedelta(seconds=10 * n) for n in range(19)
    ]
    late = [send for send in sends if send > DUE]  # the rest after it, in order, before 18:00
    assert late == [DUE + timedelta(seconds=10 * n) for n in range(1, 12)]


async def test_after_many_re_plans_a_pass_reads_only_a_few_hours_again(clock: FakeClock) -> None:
    store = CountingLoads(clock)
    users = []
    for n in range(FRESH_READS + 2):  # sessions in as many different hours, that evening
        u = store.user_for("telegram", str(8000 + n), "UTC")
        store.add_schedule(u.id, f"{14 + n}:00", weekday=SESSION.weekday(), workout="run")
        users.append(u)
    service = planner(store, clock, rate=1.0)
    await service.extend_horizon()
    for u in users:  # each changes something: re-planned, planned from now at the next pass
        store.replace_nudges(u.id, clock(), [])
    clock.advance(hours=1)
    store.loads.clear()
    await service.extend_horizon()
    horizon = clock() + HORIZON
    read_again = [(a, b) for a, b in store.loads if b - a == CHUNK and a < horizon]
    assert len(read_again) == FRESH_READS


async def test_early_nudges_are_dispatched_at_their_send_time(clock: FakeClock) -> None:
    store = MemoryStore(clock)
    users = trainees(store, 10)
    await planner(store, clock, rate=0.1).extend_horizon()
    messenger = FakeMessenger()
    sender = NudgeService(store, [messenger], rates={"telegram": 1000.0}, clock=clock)
    clock.set(DUE - timedelta(seconds=45))  # 17:28:30 ... 17:29:10 are due, 17:29:20 on not
    assert await sender.drain("telegram", wait=True) == 5
    clock.set(DUE)
    assert await sender.drain("telegram", wait=True) == 5
    assert sorted(messenger.chats()) == sorted(u.platform_id for u in users)
    assert store.nudge_counts()["sent"] == 10


async def test_a_snooze_of_an_early_nudge_still_comes_ten_minutes_later(clock: FakeClock) -> None:
    store = MemoryStore(clock)
    (u,) = trainees(store, 1)
    await planner(store, clock, rate=0.1).extend_horizon()
    (nudge,) = [n for n in store.pending_nudges_of(u.id) if n.due_at == DUE]
    clock.set(DUE - timedelta(minutes=5))
    store.mark_nudge(nudge.id, "sent")
    snooze(Turn(store, default_library(), clock(), u), str(nudge.id))
    (again,) = store.pending_nudges_of(u.id)
    assert (again.kind, again.due_at, again.send_time) == (
        "snooze",
        clock() + timedelta(minutes=10),
        clock() + timedelta(minutes=10),
    )


class CountingLoads(MemoryStore):
    """A memory outbox that records the ranges of `send_load` it was asked for."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.loads: list[tuple[datetime, datetime]] = []

    def send_load(
        self, platform: str | None, start: datetime, end: datetime
    ) -> dict[datetime, int]:
        self.loads.append((start, end))
        return super().send_load(platform, start, end)


async def test_the_first_pass_reads_the_outbox_once_the_next_only_the_hour_come_into_reach(
    clock: FakeClock,
) -> None:
    store = CountingLoads(clock)
    trainees(store, 3)
    service = planner(store, clock, rate=1.0)
    await service.extend_horizon()
    # From the pass's hour to an hour past the furthest a user's plan reaches, in pieces.
    reach = WEDNESDAY + HORIZON + PLAN_CHUNK + CHUNK
    assert store.loads == pieces(WEDNESDAY, reach)
    store.loads.clear()
    clock.advance(hours=1)
    await service.extend_horizon()
    assert store.loads == pieces(reach, reach + CHUNK)


def pieces(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    count = (end - start) // PIECE
    return [(start + PIECE * n, start + PIECE * (n + 1)) for n in range(count)]


def test_slots_kept_from_an_earlier_pass_count_its_rows(clock: FakeClock) -> None:
    store = CountingLoads(clock)
    (u,) = trainees(store, 1)
    ahead = PlanAhead(store, {"telegram": 1 / 60})  # one a minute
    far = SESSION + timedelta(days=4, minutes=30)  # beyond the horizon: only the planner writes
    planned = PlannedNudge("pre_workout", far, {"ref": "a"}, earliest=far - timedelta(hours=1))
    ahead.begin_pass(clock(), clock() + HORIZON)
    (first,) = ahead.place("telegram", [planned])
    store.add_planned(u.id, [first])
    clock.advance(hours=1)
    ahead.begin_pass(clock(), clock() + HORIZON)
    store.loads.clear()
    second = ahead.send_at("telegram", replace(planned, payload={"ref": "b"}))
    assert (first.send_at, second) == (far, far - timedelta(minutes=1))
    assert store.loads == []  # that hour was not read again


async def test_a_replanned_user_frees_their_slot_for_the_next_pass(
    outbox: Outbox,  # noqa: F811
    clock: FakeClock,
) -> None:
    users = trainees(outbox, 10)
    service = planner(outbox, clock, rate=0.1)
    await service.extend_horizon()
    (at_due,) = [u for u in users if pre_workout(outbox, [u])[0][1] == DUE]
    # They drop their session (a re-plan with nothing in it): 17:30:00 is free again, and
    # the next pass sees it, although it keeps the slots it read.
    outbox.clear_schedules(at_due.id)
    outbox.replace_nudges(at_due.id, clock(), [])
    newcomer = trainees(outbox, 1, first=100)
    clock.advance(hours=1)
    await service.extend_horizon()
    assert pre_workout(outbox, newcomer) == [(DUE, DUE)]


async def test_a_re_plans_rows_take_their_slots_for_the_next_pass(clock: FakeClock) -> None:
    store = MemoryStore(clock)
    (early,) = trainees(store, 1)
    service = planner(store, clock, rate=0.1)
    await service.extend_horizon()
    # A re-plan by the coach writes its row at its due time, after the pass read that hour.
    store.clear_schedules(early.id)
    store.replace_nudges(early.id, clock(), [])
    (moved,) = trainees(store, 1, first=50)
    entries = store.schedules(moved.id)
    store.replace_nudges(moved.id, clock(), plan_nudges(moved, entries, clock(), SESSION))
    newcomer = trainees(store, 1, first=100)
    clock.advance(hours=1)
    await service.extend_horizon()
    ((due, send),) = pre_workout(store, newcomer)
    assert due == DUE and send < DUE  # 17:30:00 is the re-plan's

"""The nudge dispatcher against a real SQLite file and an in-memory Messenger.

No timing asserts: orders and counts only (durations belong to bench/nudge_fanout.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.nudges import HORIZON, plan_nudges, plan_until
from bot.core.ports import Delivery, SendResult
from bot.core.records import User
from bot.core.replies import Reply
from bot.scheduler import NudgeService, Pacer
from bot.scheduler import service as service_module
from bot.scheduler.service import (
    MAX_IN_FLIGHT,
    PLAN_SLICE_USERS,
    RTT_WINDOW_SECONDS,
    SENT_FLUSH_SECONDS,
    sends_in_flight,
)
from bot.storage import Storage
from tests.conversation import FakeClock

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@dataclass
class FakeMessenger:
    platform: str = "telegram"
    sent: list[tuple[str, Reply]] = field(default_factory=list)
    script: list[SendResult] = field(default_factory=list)  # results to return first
    blocked: set[str] = field(default_factory=set)
    in_flight: Counter[str] = field(default_factory=Counter)
    max_in_flight_per_chat: int = 0
    latency: float = 0.0  # seconds each answer takes, like a network round trip
    peak_in_flight: int = 0  # most sends in flight at once, over all chats

    async def send(self, user: User, reply: Reply) -> SendResult:
        chat = user.chat_id or user.platform_id
        self.in_flight[chat] += 1
        self.max_in_flight_per_chat = max(self.max_in_flight_per_chat, self.in_flight[chat])
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight.total())
        try:
            await asyncio.sleep(self.latency)
            if self.script:
                result = self.script.pop(0)
                if result.delivery is not Delivery.SENT:
                    return result
            if chat in self.blocked:
                return SendResult(Delivery.BLOCKED, error="Forbidden: bot was blocked by the user")
            self.sent.append((chat, reply))
            return SendResult(Delivery.SENT)
        finally:
            self.in_flight[chat] -= 1

    def chats(self) -> list[str]:
        return [chat for chat, _ in self.sent]


def seed(store: Storage, count: int, due: datetime, step: timedelta = timedelta(0)) -> list[int]:
    """`count` telegram users, each with one pending pre-workout nudge; returns nudge ids."""
    ids = []
    for n in range(count):
        user = store.user_for("telegram", str(5000 + n), "UTC")
        session = due + step * n + timedelta(minutes=30)
        payload = {"ref": session.isoformat(), "session_at": session.isoformat(), "workout": "run"}
        nudge_id = store.enqueue_nudge(user.id, "pre_workout", due + step * n, payload)
        assert nudge_id is not None
        ids.append(nudge_id)
    return ids


async def poll(condition: Callable[[], object], seconds: float = 2.0, step: float = 0.01) -> None:
    """Wait until `condition()` holds or `seconds` pass; the test's asserts then tell."""
    for _ in range(int(seconds / step)):
        if condition():
            return
        await asyncio.sleep(step)


def service(store: Storage, messenger: FakeMessenger, **kwargs: object) -> NudgeService:
    options: dict[str, object] = {
        "rates": {"telegram": 1000.0},
        "clock": lambda: NOW,
        "per_chat_interval": 0.0,
    }
    options.update(kwargs)
    return NudgeService(store, [messenger], **options)  # type: ignore[arg-type]


async def test_every_due_nudge_is_sent_once_in_order_of_due_time(sqlite_store: Storage) -> None:
    ids = seed(sqlite_store, 30, NOW - timedelta(minutes=9), step=timedelta(seconds=10))
    messenger = FakeMessenger()
    nudges = service(sqlite_store, messenger)
    assert await nudges.drain("telegram", wait=True) == 30
    assert await nudges.drain("telegram", wait=True) == 0  # nothing twice
    assert messenger.chats() == [str(5000 + n) for n in range(30)]
    statuses = {sqlite_store.get_nudge(i).status for i in ids}  # type: ignore[union-attr]
    assert statuses == {"sent"}
    assert sqlite_store.nudge_counts()["sent"] == 30


async def test_future_nudges_wait_and_the_rendered_nudge_has_its_buttons(
    sqlite_store: Storage,
) -> None:
    [due_now] = seed(sqlite_store, 1, NOW)
    later = sqlite_store.user_for("telegram", "later", "UTC")
    sqlite_store.enqueue_nudge(later.id, "pre_workout", NOW + timedelta(minutes=1), {"ref": "x"})
    messenger = FakeMessenger()
    await service(sqlite_store, messenger).drain("telegram", wait=True)
    assert messenger.chats() == ["5000"]
    reply = messenger.sent[0][1]
    assert [b.data for b in reply.all_buttons] == [
        f"ns:{due_now}",
        f"nz:{due_now}",
        f"nk:{due_now}",
    ]
    assert sqlite_store.next_due("telegram") == NOW + timedelta(minutes=1)


async def test_retry_later_pauses_the_sender_and_the_nudge_is_sent_after(
    sqlite_store: Storage,
) -> None:
    ids = seed(sqlite_store, 5, NOW - timedelta(minutes=1), step=timedelta(seconds=1))
    messenger = FakeMessenger(script=[SendResult(Delivery.RETRY_LATER, retry_after=0.2)])
    nudges = service(sqlite_store, messenger, max_in_flight=1)
    await nudges.drain("telegram", wait=True)
    assert messenger.chats() == [str(5000 + n) for n in range(5)]  # the first one again first
    assert sqlite_store.get_nudge(ids[0]).attempts == 2  # type: ignore[union-attr]
    assert sqlite_store.nudge_counts()["sent"] == 5
    assert nudges.senders["telegram"].pacer.paused_until > 0


async def test_blocked_marks_the_user_unreachable_and_later_nudges_are_not_sent(
    sqlite_store: Storage,
) -> None:
    [first] = seed(sqlite_store, 1, NOW - timedelta(minutes=2))
    user = sqlite_store.user_for("telegram", "5000", "UTC")
    second = sqlite_store.enqueue_nudge(user.id, "massage", NOW, {"ref": "2026-11"})
    messenger = FakeMessenger(blocked={"5000"})
    await service(sqlite_store, messenger).drain("telegram", wait=True)
    assert messenger.sent == []
    assert sqlite_store.get_user(user.id).unreachable  # type: ignore[union-attr]
    assert sqlite_store.get_nudge(first).status == "failed"  # type: ignore[union-attr]
    assert sqlite_store.get_nudge(second).status == "failed"  # type: ignore[arg-type,union-attr]


async def test_paused_users_get_nothing(sqlite_store: Storage) -> None:
    [nudge_id] = seed(sqlite_store, 1, NOW)
    user = sqlite_store.user_for("telegram", "5000", "UTC")
    user.paused = True
    sqlite_store.save_user(user)
    messenger = FakeMessenger()
    await service(sqlite_store, messenger).drain("telegram", wait=True)
    assert messenger.sent == []
    assert sqlite_store.get_nudge(nudge_id).status == "skipped"  # type: ignore[union-attr]


async def test_one_request_in_flight_per_chat(sqlite_store: Storage) -> None:
    user = sqlite_store.user_for("telegram", "5000", "UTC")
    for kind in ("massage", "massage_behind", "snooze"):
        payload = {"ref": kind, "of_kind": "massage"}
        sqlite_store.enqueue_nudge(user.id, kind, NOW - timedelta(minutes=1), payload)
    messenger = FakeMessenger()
    await service(sqlite_store, messenger, per_chat_interval=0.05).drain("telegram", wait=True)
    assert len(messenger.sent) == 3
    assert messenger.max_in_flight_per_chat == 1


async def test_restart_sends_within_grace_marks_older_missed_and_never_resends_sending(
    db_path: Path,
) -> None:
    with Storage(db_path) as store:
        [old] = seed(store, 1, NOW - timedelta(minutes=20))
        fresh_user = store.user_for("telegram", "fresh", "UTC")
        fresh = store.enqueue_nudge(
            fresh_user.id, "massage", NOW - timedelta(minutes=10), {"ref": "2026-11"}
        )
        cut_user = store.user_for("telegram", "cut", "UTC")
        cut = store.enqueue_nudge(cut_user.id, "massage", NOW - timedelta(minutes=1), {"ref": "m"})
        assert fresh is not None and cut is not None
        assert store.claim_nudge(cut)  # the process died between claim and mark
    with Storage(db_path) as store:
        messenger = FakeMessenger()
        nudges = service(store, messenger)
        assert nudges.recover() == (1, 1)
        await nudges.drain("telegram", wait=True)
        assert messenger.chats() == ["fresh"]
        assert store.get_nudge(old).status == "missed"  # type: ignore[union-attr]
        assert store.get_nudge(fresh).status == "sent"  # type: ignore[union-attr]
        interrupted = store.export_user(cut_user.id)["nudges"][0]
        assert (interrupted["status"], interrupted["error"]) == (
            "failed",
            "interrupted: delivery unknown",
        )


async def test_horizon_pass_plans_users_idempotently(sqlite_store: Storage) -> None:
    for n in range(3):
        user = sqlite_store.user_for("telegram", str(n), "Europe/Berlin")
        sqlite_store.add_schedule(user.id, "18:00", weekday=2)
    nudges = service(sqlite_store, FakeMessenger())
    added = await nudges.extend_horizon()
    assert added >= 3  # each user's Wednesday within 48 h, and up to a week more
    assert await nudges.extend_horizon() == 0
    assert sqlite_store.nudge_counts()["pending"] == added


def add_users(store: Storage, zones: tuple[str, ...], per_zone: int) -> None:
    """Users who train 2-4 times a week at assorted times, in `zones`."""
    n = 0
    for zone in zones:
        for _ in range(per_zone):
            user = store.user_for("telegram", f"u{n}", zone)
            user.onboarded = True
            user.lead_minutes = (15, 30, 45, 90)[n % 4]
            if n % 5 == 0:
                user.quiet_start, user.quiet_end = "22:00", "07:00"
            store.save_user(user)
            for k in range(2 + n % 3):
                hhmm = f"{(5 + 7 * n + 5 * k) % 24:02d}:{(15 * (n + k)) % 60:02d}"
                store.add_schedule(user.id, hhmm, weekday=(n + 2 * k) % 7, workout="run")
            n += 1


def outbox_rows(store: Storage) -> list[tuple[object, ...]]:
    return sorted(
        store.db.execute("SELECT user_id, kind, due_at, status, payload FROM nudges").fetchall()
    )


ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC")


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 10, 23, 9, 17, tzinfo=UTC),  # over fall-back in Berlin and New York
        datetime(2027, 3, 26, 0, 0, tzinfo=UTC),  # over spring-forward in Berlin
        datetime(2026, 12, 1, 12, 0, tzinfo=UTC),  # the first Saturday, and the 15th's eve
    ],
)
async def test_hourly_passes_plan_exactly_what_one_plan_of_the_whole_span_has(
    sqlite_store: Storage, tmp_path: Path, start: datetime
) -> None:
    """Ten days of hourly passes, each extending some users' plans by a week, give the same
    outbox as planning the whole span at once: nothing missing, nothing twice."""
    add_users(sqlite_store, ZONES, 8)
    clock = FakeClock(start)
    nudges = service(sqlite_store, FakeMessenger(), clock=clock)
    for _ in range(10 * 24):
        await nudges.extend_horizon()
        clock.advance(hours=1)
    last_horizon = clock.now - timedelta(hours=1) + HORIZON
    with Storage(tmp_path / "whole.sqlite3", clock=clock) as whole:
        add_users(whole, ZONES, 8)
        for user, entries, _ in whole.users_to_plan(start + timedelta(days=30), 1000):
            planned = plan_nudges(user, entries, start, plan_until(user, last_horizon))
            whole.add_planned(user.id, planned)
        expected = outbox_rows(whole)
    assert len(expected) > 150  # 40 users training 2-4 times a week, for 12 days
    assert outbox_rows(sqlite_store) == expected


async def test_an_hourly_pass_looks_at_a_weeks_share_of_the_users(
    sqlite_store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each user's plan is extended a week at a time, on an instant of the week set by their
    id: an hourly pass looks at about 1/168th of them, however their sessions cluster."""
    add_users(sqlite_store, ZONES, 200)
    clock = FakeClock(datetime(2026, 12, 9, 12, 0, tzinfo=UTC))
    nudges = service(sqlite_store, FakeMessenger(), clock=clock)
    looked_at: list[int] = []

    def counting_plan(user: User, *args: object, **kwargs: object) -> object:
        looked_at.append(user.id)
        return plan_nudges(user, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service_module, "plan_nudges", counting_plan)
    await nudges.extend_horizon()
    assert len(looked_at) == 200 * len(ZONES)  # the first pass plans everyone
    per_pass: list[int] = []
    for _ in range(7 * 24):
        looked_at.clear()
        clock.advance(hours=1)
        await nudges.extend_horizon()
        assert len(set(looked_at)) == len(looked_at)
        per_pass.append(len(looked_at))
    assert sum(per_pass) == 200 * len(ZONES)  # a week: each user once
    assert max(per_pass) <= 3 * 200 * len(ZONES) / (7 * 24)


async def test_a_replanned_user_is_planned_again_at_the_next_pass(
    sqlite_store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_users(sqlite_store, ZONES, 20)
    clock = FakeClock(datetime(2026, 12, 9, 12, 0, tzinfo=UTC))
    nudges = service(sqlite_store, FakeMessenger(), clock=clock)
    await nudges.extend_horizon()
    looked_at: list[int] = []

    def counting_plan(user: User, *args: object, **kwargs: object) -> object:
        looked_at.append(user.id)
        return plan_nudges(user, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service_module, "plan_nudges", counting_plan)
    clock.advance(hours=1)
    later = sqlite_store.pending_nudges(clock.now + HORIZON, 1000)
    [changed, *_] = [nudge for nudge in later if nudge.due_at > clock.now]
    sqlite_store.replace_nudges(changed.user_id, clock.now, [])  # what `replan` does
    assert sqlite_store.get_nudge(changed.id) is None
    assert await nudges.extend_horizon() > 0
    assert changed.user_id in looked_at
    assert any(
        nudge.user_id == changed.user_id
        for nudge in sqlite_store.pending_nudges(clock.now + HORIZON, 1000)
    )


async def test_a_planning_pass_yields_to_the_event_loop_between_slices(
    sqlite_store: Storage,
) -> None:
    add_users(sqlite_store, ("UTC",), 3 * PLAN_SLICE_USERS[1])
    nudges = service(sqlite_store, FakeMessenger())
    turns = 0

    async def ticker() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = turns
    await nudges.extend_horizon()
    task.cancel()
    assert turns - before >= 3  # a slice is at most PLAN_SLICE_USERS[1] users


async def test_a_planning_pass_checkpoints_the_log_in_a_worker_thread(
    sqlite_store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not in a slice's commit on the event loop, where its fsyncs held replies."""
    add_users(sqlite_store, ("UTC",), 200)
    threads: list[int] = []
    checkpoint = sqlite_store.checkpoint_wal

    def recording_checkpoint() -> tuple[int, int]:
        threads.append(threading.get_ident())
        return checkpoint()

    monkeypatch.setattr(sqlite_store, "checkpoint_wal", recording_checkpoint)
    monkeypatch.setattr(service_module, "PLAN_CHECKPOINT_SLICES", 1)
    monkeypatch.setattr(service_module, "PLAN_SLICE_USERS", (1, 20))
    await service(sqlite_store, FakeMessenger()).extend_horizon()
    assert threads
    assert threading.get_ident() not in threads


async def test_start_and_stop_with_apscheduler_sends_due_nudges(sqlite_store: Storage) -> None:
    seed(sqlite_store, 3, NOW - timedelta(minutes=1))
    messenger = FakeMessenger()
    nudges = service(sqlite_store, messenger, poll_seconds=0.05)
    await nudges.start()
    try:
        await poll(lambda: len(messenger.sent) == 3)
    finally:
        await nudges.stop()
    assert len(messenger.sent) == 3
    assert nudges.scheduler is None


async def test_the_global_rate_is_respected_approximately(sqlite_store: Storage) -> None:
    """A real, short run at 200/s: far fewer than all 400 due nudges go out in 0.5 s."""
    seed(sqlite_store, 400, NOW - timedelta(minutes=1))
    messenger = FakeMessenger()
    nudges = service(sqlite_store, messenger, rates={"telegram": 200.0})
    task = asyncio.create_task(nudges.drain("telegram"))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await nudges.idle()
    sent = len(messenger.sent)
    assert 20 <= sent <= 200  # ~100 expected; generous bounds, no timing precision claimed
    assert sqlite_store.nudge_counts()["sent"] == sent  # nothing marked sent that was not


def test_sends_in_flight_are_rate_times_round_trip_with_headroom_and_bounds() -> None:
    assert sends_in_flight(25.0, 0.1) == 5  # 2.5 in flight on average: ~3 a kill leaves unknown
    assert sends_in_flight(25.0, 0.0) == 1
    assert sends_in_flight(200.0, 0.002) == 2  # never fewer than 10 ms of sends
    assert sends_in_flight(1000.0, 0.0) == 10
    assert sends_in_flight(1000.0, 0.1) == MAX_IN_FLIGHT == 64


def test_the_round_trip_is_the_fastest_recent_send_so_queueing_elsewhere_does_not_grow_it(
    sqlite_store: Storage,
) -> None:
    """Sends that wait in the messenger's own queue (PTB's rate limiter) take longer; sizing
    to them would let more sends queue there. One fast answer in the window is the truth."""
    sender = service(sqlite_store, FakeMessenger(), rates={"telegram": 25.0}).senders["telegram"]
    sender.observe(0.1, now=0.0)
    for second in range(int(RTT_WINDOW_SECONDS)):
        sender.observe(1.0, now=float(second))
    assert (sender.rtt, sender.limit.size) == (0.1, sends_in_flight(25.0, 0.1))
    sender.observe(1.0, now=RTT_WINDOW_SECONDS + 30)  # slower for a whole window: it is
    assert (sender.rtt, sender.limit.size) == (1.0, sends_in_flight(25.0, 1.0))
    sender.observe(0.05, now=RTT_WINDOW_SECONDS + 31)  # a faster one counts at once
    assert sender.rtt == 0.05


async def test_sends_in_flight_grow_to_the_round_trip_so_the_rate_is_kept(
    sqlite_store: Storage,
) -> None:
    """At 100/s with every answer 50 ms away, the rate needs 5 sends in flight (10 ms of
    sends, the old sizing, would allow 1: 20/s). The sender measures the round trip."""
    seed(sqlite_store, 60, NOW)
    messenger = FakeMessenger(latency=0.05)
    nudges = service(sqlite_store, messenger, rates={"telegram": 100.0})
    sender = nudges.senders["telegram"]
    assert sender.limit.size == 1  # no round trip measured yet
    await nudges.drain("telegram", wait=True)
    assert len(messenger.sent) == 60
    assert sender.rtt >= 0.05
    assert sender.limit.size >= sends_in_flight(100.0, 0.05) == 10
    assert messenger.peak_in_flight >= 5  # 100/s x 50 ms: the configured rate was reached
    assert messenger.max_in_flight_per_chat == 1


async def test_pacer_spaces_sends() -> None:
    now = [0.0]
    pacer = Pacer(10.0, burst_s=0.0, clock=lambda: now[0])
    await pacer.acquire()
    assert pacer._next == pytest.approx(0.1)
    pacer.pause(5)
    assert pacer.paused_until == 5


async def test_a_sent_mark_rides_with_the_next_claim(sqlite_store: Storage) -> None:
    first, second = seed(sqlite_store, 2, NOW)
    nudges = service(sqlite_store, FakeMessenger(), max_in_flight=1)
    await nudges.drain("telegram")  # both started; the first answer is in before the 2nd claim
    assert sqlite_store.get_nudge(first).status == "sent"  # type: ignore[union-attr]
    await nudges.idle()
    assert sqlite_store.get_nudge(second).status == "sent"  # type: ignore[union-attr]


async def test_the_last_sent_mark_is_written_without_another_claim(sqlite_store: Storage) -> None:
    [only] = seed(sqlite_store, 1, NOW)
    nudges = service(sqlite_store, FakeMessenger())
    await nudges.drain("telegram")
    await poll(
        lambda: sqlite_store.get_nudge(only).status == "sent",  # type: ignore[union-attr]
        seconds=SENT_FLUSH_SECONDS * 10,
        step=SENT_FLUSH_SECONDS / 10,
    )
    assert sqlite_store.get_nudge(only).status == "sent"  # type: ignore[union-attr]
    (sent_at,) = sqlite_store.db.execute(
        "SELECT sent_at FROM nudges WHERE id = ?", [only]
    ).fetchone()
    assert sent_at is not None


async def test_start_up_sends_the_due_backlog_before_planning_everyone(
    sqlite_store: Storage,
) -> None:
    seed(sqlite_store, 3, NOW - timedelta(minutes=1))
    planned = sqlite_store.user_for("telegram", "planned", "Europe/Berlin")
    sqlite_store.add_schedule(planned.id, "18:00", weekday=2)  # not yet in the outbox
    messenger = FakeMessenger()
    sent_before_planning: list[int] = []
    nudges = service(sqlite_store, messenger, poll_seconds=0.05)
    plan_everyone = nudges.extend_horizon

    async def extend_horizon() -> int:
        sent_before_planning.append(len(messenger.sent))
        return await plan_everyone()

    nudges.extend_horizon = extend_horizon  # type: ignore[method-assign]
    await nudges.start()
    try:
        await poll(lambda: sqlite_store.pending_nudges_of(planned.id))
    finally:
        await nudges.stop()
    assert sent_before_planning == [3]
    assert len(sqlite_store.pending_nudges_of(planned.id)) == 1


async def test_planning_rests_while_a_backlog_of_due_nudges_goes_out(
    sqlite_store: Storage,
) -> None:
    seed(sqlite_store, 10, NOW)
    messenger = FakeMessenger()
    nudges = service(sqlite_store, messenger, rates={"telegram": 200.0})  # sends interleave
    pauses_while_sending: list[float] = []

    async def send(user: User, reply: Reply) -> SendResult:
        pauses_while_sending.append(nudges.planning_pause(0.01))
        return SendResult(Delivery.SENT)

    messenger.send = send  # type: ignore[method-assign]
    assert nudges.planning_pause(0.01) == 0.0
    await nudges.drain("telegram", wait=True)
    assert pauses_while_sending[0] == pytest.approx(0.04)  # nine more were still due
    assert nudges.planning_pause(0.01) == 0.0


async def test_a_failed_claim_loses_no_permit_no_mark_and_no_nudge(
    sqlite_store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed(sqlite_store, 3, NOW)
    messenger = FakeMessenger()
    nudges = service(sqlite_store, messenger, max_in_flight=1)
    claim = sqlite_store.claim_nudge
    calls = 0

    def claim_failing_once(nudge_id: int) -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first answer's mark rides in this transaction
            raise sqlite3.OperationalError("database is locked")
        return claim(nudge_id)

    monkeypatch.setattr(sqlite_store, "claim_nudge", claim_failing_once)
    with pytest.raises(sqlite3.OperationalError):
        await nudges.drain("telegram")
    async with asyncio.timeout(5):  # a leaked send permit would hang here
        await nudges.drain("telegram", wait=True)  # what the dispatcher loop does next
    assert messenger.chats() == ["5000", "5001", "5002"]
    assert {sqlite_store.get_nudge(i).status for i in ids} == {"sent"}  # type: ignore[union-attr]


async def test_one_commit_claims_a_group_and_a_stop_returns_its_unsent_rows(
    sqlite_store: Storage,
) -> None:
    ids = seed(sqlite_store, 4, NOW)
    messenger = FakeMessenger()
    nudges = service(sqlite_store, messenger, rates={"telegram": 5.0}, max_in_flight=4)
    drain = asyncio.create_task(nudges.drain("telegram"))
    await poll(lambda: messenger.sent, seconds=1.0)
    statuses = [sqlite_store.get_nudge(i).status for i in ids]  # type: ignore[union-attr]
    assert statuses.count("pending") == 0  # all four claimed at once, sent 1 per 0.2 s
    drain.cancel()
    with pytest.raises(asyncio.CancelledError):
        await drain
    await nudges.idle()
    statuses = [sqlite_store.get_nudge(i).status for i in ids]  # type: ignore[union-attr]
    assert statuses[0] == "sent"
    assert "sending" not in statuses
    assert statuses.count("pending") == 4 - len(messenger.sent)


async def test_a_429_returns_the_rest_of_the_claimed_group_unsent_and_in_order(
    sqlite_store: Storage,
) -> None:
    ids = seed(sqlite_store, 5, NOW)
    messenger = FakeMessenger(script=[SendResult(Delivery.RETRY_LATER, retry_after=0.2)])
    nudges = service(sqlite_store, messenger, rates={"telegram": 10.0}, max_in_flight=4)
    await nudges.drain("telegram", wait=True)
    chats = messenger.chats()
    assert sorted(chats) == [str(5000 + n) for n in range(5)]
    # The pacer's burst lets the second start before the 429 is known; the rest of the group
    # waited through the pause back in the queue, behind the retried first one.
    assert chats.index("5000") < chats.index("5002") < chats.index("5003") < chats.index("5004")
    attempts = [sqlite_store.get_nudge(i).attempts for i in ids]  # type: ignore[union-attr]
    assert attempts == [2, 1, 1, 1, 1]  # only the 429'd one was tried twice


async def test_a_429_during_a_slot_wait_leaves_no_claimed_row_through_the_pause(
    sqlite_store: Storage,
) -> None:
    ids = seed(sqlite_store, 5, NOW)
    messenger = FakeMessenger()

    async def slow_429_first(user: User, reply: Reply) -> SendResult:
        if user.platform_id == "5000":  # answered while the next row waits for its slot
            await asyncio.sleep(0.01)
            return SendResult(Delivery.RETRY_LATER, retry_after=30.0)
        messenger.sent.append((user.platform_id, reply))
        return SendResult(Delivery.SENT)

    messenger.send = slow_429_first  # type: ignore[method-assign]
    nudges = service(sqlite_store, messenger, rates={"telegram": 10.0}, max_in_flight=4)
    drain = asyncio.create_task(nudges.drain("telegram"))
    await asyncio.sleep(0.5)  # well inside the 30 s pause
    statuses = [sqlite_store.get_nudge(i).status for i in ids]  # type: ignore[union-attr]
    drain.cancel()
    with pytest.raises(asyncio.CancelledError):
        await drain
    await nudges.idle()
    assert "sending" not in statuses  # a kill now would lose nothing
    assert statuses.count("pending") == 5 - len(messenger.sent)


async def test_a_stop_whose_unclaim_hits_a_locked_database_still_stops_and_loses_nothing(
    sqlite_store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed(sqlite_store, 4, NOW)
    messenger = FakeMessenger()
    nudges = service(sqlite_store, messenger, rates={"telegram": 2.0}, max_in_flight=4)
    unclaim = sqlite_store.unclaim_nudge
    calls = 0

    def unclaim_failing_once(nudge_id: int) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise sqlite3.OperationalError("database is locked")
        return unclaim(nudge_id)

    monkeypatch.setattr(sqlite_store, "unclaim_nudge", unclaim_failing_once)
    await nudges.start()
    await poll(lambda: messenger.sent, seconds=1.0)
    async with asyncio.timeout(5):
        await nudges.stop()
    statuses = [sqlite_store.get_nudge(i).status for i in ids]  # type: ignore[union-attr]
    assert "sending" not in statuses
    assert statuses.count("sent") == len(messenger.sent)


# Instants the calendar makes special. At each, a day of the bot's life (planning every
# hour, draining every minute) sends every due nudge exactly once and leaves nothing due.
SPECIAL_INSTANTS = {
    "first Saturday of the month": datetime(2026, 12, 5, 8, 0, tzinfo=UTC),  # massage check-in
    "the 15th": datetime(2026, 12, 15, 8, 0, tzinfo=UTC),  # behind on massages
    "31 December": datetime(2026, 12, 31, 12, 0, tzinfo=UTC),
    "29 February": datetime(2028, 2, 29, 8, 0, tzinfo=UTC),
    "spring forward in Berlin": datetime(2027, 3, 28, 0, 0, tzinfo=UTC),
    "fall back in Berlin": datetime(2026, 10, 25, 0, 0, tzinfo=UTC),
    "spring forward in New York": datetime(2027, 3, 14, 5, 0, tzinfo=UTC),
    "fall back in New York": datetime(2026, 11, 1, 4, 0, tzinfo=UTC),
}


@pytest.mark.parametrize("start", SPECIAL_INSTANTS.values(), ids=SPECIAL_INSTANTS.keys())
async def test_a_day_at_a_special_instant_sends_every_due_nudge_once(
    sqlite_store: Storage, start: datetime
) -> None:
    clock = FakeClock(start)
    for n, zone in enumerate(("Europe/Berlin", "America/New_York", "UTC")):
        user = sqlite_store.user_for("telegram", f"{zone}-{n}", zone)
        user.onboarded = True
        sqlite_store.save_user(user)
        for weekday in range(7):
            sqlite_store.add_schedule(user.id, "02:30", weekday=weekday, workout="run")
            sqlite_store.add_schedule(user.id, "10:15", weekday=weekday)
    messenger = FakeMessenger()
    nudges = service(sqlite_store, messenger, clock=clock)
    for minute in range(24 * 60):
        if minute % 60 == 0:
            await nudges.extend_horizon()
        await nudges.drain("telegram", wait=True)
        due = sqlite_store.next_due("telegram")
        assert due is None or due > clock.now, f"left due at {clock.now}"
        clock.advance(minutes=1)
    await nudges.idle()
    rows = sqlite_store.db.execute(
        "SELECT user_id, kind, due_at, status FROM nudges WHERE due_at < ?",
        (clock.now.isoformat(),),
    ).fetchall()
    assert {status for *_, status in rows} <= {"sent", "skipped", "missed"}
    sent = [(user_id, kind, due_at) for user_id, kind, due_at, status in rows if status == "sent"]
    assert len(sent) == len(set(sent)) == len(messenger.sent)
    kinds = Counter(kind for _, kind, _ in sent)
    assert kinds["pre_workout"] >= 3 * 2  # each user's two sessions of the day, at least
    expected_massage = {5: "massage", 15: "massage_behind"}.get(start.day)
    assert {k for k in kinds if k != "pre_workout"} == ({expected_massage} - {None})
    if expected_massage:
        assert kinds[expected_massage] == 3  # once for each user, in their own zone

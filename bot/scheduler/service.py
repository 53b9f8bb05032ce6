"""`NudgeService`: plans the horizon and dispatches due nudges (see the package docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeGuard, runtime_checkable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.clock import Clock, system_clock
from bot.core.content import Library, default_library
from bot.core.nudges import HORIZON, PLAN_CHUNK, Drop, plan_nudges, plan_until, render_nudge
from bot.core.ports import Delivery, Messenger, Outbox, SendResult
from bot.core.records import Nudge, User
from bot.core.replies import Reply
from bot.core.turn import Turn
from bot.scheduler.plan_ahead import CHUNK, PlanAhead

log = logging.getLogger(__name__)

HEARTBEAT = timedelta(seconds=30)
"""How often the scheduler records that it is alive; `healthcheck` allows a few missed."""

BATCH_NUDGES = 500
PLAN_SLICE_SECONDS = 0.004  # planning holds the event loop this long at a time, about
PLAN_SLICE_USERS = (1, 500)  # users per slice: sized to PLAN_SLICE_SECONDS within these
PLAN_CHECKPOINT_SLICES = 4  # a WAL checkpoint in a worker thread after this many slices
INTERRUPTED = "interrupted: delivery unknown"
SENT_FLUSH_SECONDS = 0.05
STOP_FLUSH_ATTEMPTS = 5
FIRST_PASS_WAIT = timedelta(minutes=5)
PLANNING_BACKOFF = 4.0  # during a backlog, planning pauses 4x each slice's time: <= 1/5 CPU
# Sends in flight: enough to keep the rate when each takes the measured round trip, the
# fastest send of the last RTT_WINDOW_SECONDS. The fastest, not an average: a send's
# duration also counts any wait inside the messenger (a rate limiter, a connection pool;
# with PTB's overall limit at the pacer's rate, replies made nudges queue there), and
# sizing to that lets more sends queue, measure longer still, and grow to MAX_IN_FLIGHT
# queued nudges a reply waits behind. A slower network is followed once a whole window
# is slower. Before any answer: 10 ms of sends, what the sender always allowed.
RTT_WINDOW_SECONDS = 300.0
RTT_BUCKETS = 10  # the window's fastest sends are kept per 30 s
IN_FLIGHT_HEADROOM = 2.0  # x rate x round trip: answers slower than the fastest one
IN_FLIGHT_FLOOR_SECONDS = 0.01  # never fewer than 10 ms of sends: claims stay grouped
MAX_IN_FLIGHT = 64  # and never more: each is a nudge whose fate a kill -9 leaves unknown
# Several workers on one database (PostgreSQL):
PLANNER = "planner"  # the role of the worker running a planning pass, one at a time
REAP_SECONDS = 1.0  # a caught-up worker looks for a dead worker's sends this often at most
SHARED_BURST_SECONDS = 0.02  # the shared bucket holds this much of the rate (at least 1)


def sends_in_flight(rate: float, rtt: float) -> int:
    """How many sends may be in flight to keep `rate` when each takes `rtt` seconds: rate x
    round trip (Little's law) with headroom, at least 10 ms worth, 1 to MAX_IN_FLIGHT."""
    need = rate * max(IN_FLIGHT_FLOOR_SECONDS, rtt * IN_FLIGHT_HEADROOM)
    return max(1, min(MAX_IN_FLIGHT, math.ceil(need - 1e-9)))


class Pacer:
    """A paced global rate: one send every 1/rate s, a burst of at most `burst_s` worth
    to catch up with sleep overshoot; `pause(s)` holds every send (a 429's retry_after)."""

    def __init__(
        self,
        rate: float,
        burst_s: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        shared: Callable[[], float] | None = None,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.interval = 1.0 / rate
        self.burst_s = max(burst_s, self.interval)
        self.clock = clock
        # The budget every worker shares (a token bucket in the database): takes one send,
        # returns 0.0, or the seconds until one may be there. None: this process alone.
        self.shared = shared
        self._next = 0.0
        self.paused_until = 0.0

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + max(0.0, seconds))

    async def wait_unpaused(self) -> None:
        while (left := self.paused_until - self.clock()) > 0:
            await asyncio.sleep(left)

    async def acquire(self, give_up: Callable[[], bool] | None = None) -> bool:
        """Wait for the next send slot; False, without taking one, as soon as `give_up()`
        (checked at least once per interval) says the send should not happen."""
        while True:
            if give_up is not None and give_up():
                return False
            now = self.clock()
            wait = max(self.paused_until - now, self._next - now)
            if wait <= 0 and self.shared is not None:
                wait = self.shared()  # taken when 0.0: the send goes now
            if wait <= 0:
                break
            await asyncio.sleep(wait if give_up is None else min(wait, self.interval))
        self._next = max(self._next, now - self.burst_s) + self.interval
        return True


@dataclass(slots=True)
class _Ready:
    """A due nudge rendered and holding a send permit and its chat, not yet claimed."""

    nudge: Nudge
    user: User
    chat: str
    reply: Reply


class _RoundTrip:
    """The fastest send of the last RTT_WINDOW_SECONDS, kept as the fastest per bucket."""

    def __init__(self) -> None:
        self._buckets: deque[tuple[float, float]] = deque()  # (bucket start, fastest)

    def add(self, seconds: float, now: float) -> None:
        if self._buckets and now - self._buckets[-1][0] < RTT_WINDOW_SECONDS / RTT_BUCKETS:
            started, fastest = self._buckets[-1]
            self._buckets[-1] = (started, min(fastest, seconds))
        else:
            self._buckets.append((now, seconds))
        while now - self._buckets[0][0] > RTT_WINDOW_SECONDS:
            self._buckets.popleft()

    @property
    def seconds(self) -> float:
        return min((fastest for _, fastest in self._buckets), default=0.0)


class _Permits:
    """Send permits: a semaphore whose size can change (sends in flight follow the round
    trip). Shrinking takes effect as sends end; a release without an acquire raises."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.used = 0
        self._waiters: list[asyncio.Future[None]] = []

    def locked(self) -> bool:
        return self.used >= self.size

    async def acquire(self) -> None:
        while self.used >= self.size:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:  # cancelled, maybe after being woken: wake the next one
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                self._wake()
                raise
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        self.used += 1

    def release(self) -> None:
        if self.used <= 0:
            raise ValueError("send permit released more often than acquired")
        self.used -= 1
        self._wake()

    def resize(self, size: int) -> None:
        self.size = size
        self._wake()

    def _wake(self) -> None:
        free = self.size - self.used
        for waiter in self._waiters:
            if free <= 0:
                break
            if not waiter.done():
                waiter.set_result(None)
                free -= 1


@dataclass(slots=True)
class _Sender:
    """One platform's dispatcher state."""

    messenger: Messenger
    pacer: Pacer
    max_in_flight: int | None = None  # fixed; None: sized to rate x measured round trip
    round_trip: _RoundTrip = field(default_factory=_RoundTrip)
    limit: _Permits = field(init=False)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: set[str] = field(default_factory=set)  # chats with a request in flight
    chat_ready: dict[str, float] = field(default_factory=dict)  # monotonic time of next slot
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    refetch: bool = False
    sent: int = 0
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)  # nothing due is unsent
    backlog: bool = False  # a drain is working through due nudges right now
    # Sends Telegram answered, not yet marked: written with the next claim, or after
    # SENT_FLUSH_SECONDS when no claim comes (one transaction per nudge instead of two).
    answered: list[tuple[int, datetime]] = field(default_factory=list)
    # Claimed rows whose request never started, not yet back to pending (same retries).
    unsent: list[int] = field(default_factory=list)
    flush_timer: asyncio.TimerHandle | None = None

    def __post_init__(self) -> None:
        size = self.max_in_flight or sends_in_flight(self.pacer.rate, self.rtt)
        self.limit = _Permits(size)

    @property
    def rtt(self) -> float:
        """The round trip: the fastest send of the last RTT_WINDOW_SECONDS (0.0 before any)."""
        return self.round_trip.seconds

    def observe(self, seconds: float, now: float | None = None) -> None:
        """A send was answered after `seconds`: unless fixed, size the permits again. Few
        requests in flight: each is a nudge whose fate a kill -9 would leave unknown."""
        self.round_trip.add(seconds, time.monotonic() if now is None else now)
        if self.max_in_flight is None:
            self.limit.resize(sends_in_flight(self.pacer.rate, self.rtt))


class NudgeService:
    """Plans nudges into the outbox and sends them through the platforms' messengers."""

    def __init__(
        self,
        store: Outbox,
        messengers: Sequence[Messenger],
        *,
        rates: Mapping[str, float] | None = None,
        library: Library | None = None,
        grace: timedelta = timedelta(minutes=15),
        clock: Clock = system_clock,
        horizon: timedelta = HORIZON,
        extend_every: timedelta = timedelta(hours=1),
        max_in_flight: int | None = None,
        per_chat_interval: float = 1.0,
        poll_seconds: float = 5.0,
        plan_ahead: bool = True,
    ) -> None:
        self.store = store
        self.library = library or default_library()
        self.grace = grace
        self.clock = clock
        self.horizon = horizon
        self.extend_every = extend_every
        self.per_chat_interval = per_chat_interval
        self.poll_seconds = poll_seconds
        self.plan_ahead = plan_ahead  # False: every nudge is sent at its due time (a baseline)
        self._ahead: PlanAhead | None = None  # the send slots, kept from pass to pass
        self._planner = False  # several workers: this one holds the planner's role
        rates = rates or {}
        self.shared = store if _is_shared(store) and store.worker_id is not None else None
        self.senders = {
            m.platform: _Sender(
                m, self._pacer(m.platform, rates.get(m.platform, 25.0)), max_in_flight
            )
            for m in messengers
        }
        self._reaped = 0.0
        self.scheduler: AsyncIOScheduler | None = None
        self._loops: list[asyncio.Task[None]] = []
        self.started = asyncio.Event()

    def _pacer(self, platform: str, rate: float) -> Pacer:
        """The platform's pacer; one of several workers also takes each send from the budget
        they share, so that together they keep the platform's rate (Telegram's is per token)."""
        shared = self.shared
        if shared is None:
            return Pacer(rate)
        capacity = max(1.0, rate * SHARED_BURST_SECONDS)
        return Pacer(rate, shared=lambda: shared.take_send_token(platform, rate, capacity))

    # --- lifecycle -----------------------------------------------------------------------

    def recover(self) -> tuple[int, int]:
        """Close what a previous process left: (interrupted sends, expired pending rows).

        One of several workers fails only the rows of workers that are gone (the store
        knows which are alive), and marks overdue rows missed only when it starts alone:
        with others running, an overdue row is a backlog they are working through, not a
        bot that was down."""
        interrupted = self.store.fail_interrupted(INTERRUPTED)
        minutes = int(self.grace.total_seconds() // 60)
        expired = 0
        if self.shared is None or not self.shared.others_alive():
            expired = self.store.expire_nudges(
                self.clock() - self.grace, f"missed: more than {minutes} min late (bot was down)"
            )
        if interrupted or expired:
            log.warning(
                "nudges: %d interrupted sends marked failed (not resent), %d overdue marked missed",
                interrupted,
                expired,
            )
        return interrupted, expired

    async def start(self) -> None:
        """Recover, start APScheduler (horizon job in the background) and the dispatchers."""
        self.recover()
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self.extend_horizon,
            IntervalTrigger(seconds=self.extend_every.total_seconds(), timezone=UTC),
            id="nudge-horizon",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.add_job(
            self._beat_job,
            IntervalTrigger(seconds=HEARTBEAT.total_seconds(), timezone=UTC),
            id="heartbeat",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.start()
        self.scheduler = scheduler
        self.beat()
        for platform, sender in self.senders.items():
            self._loops.append(asyncio.create_task(self._run(platform, sender)))
        self._loops.append(asyncio.create_task(self._first_horizon()))
        self.started.set()
        log.info("nudges: ready to dispatch (%s)", ", ".join(self.senders) or "no platform")

    async def _beat_job(self) -> None:
        """A coroutine, so APScheduler runs it on the event loop, beside every other use of
        the store's connection (a plain function would run in a worker thread)."""
        self.beat()
        self.reap()

    def reap(self, every: float = 0.0) -> int:
        """One of several workers: fail the rows a dead worker left in `sending` (never
        resent), at most once per `every` seconds; the survivors carry on without a
        restart. Never raises."""
        if self.shared is None or time.monotonic() - self._reaped < every:
            return 0
        self._reaped = time.monotonic()
        try:
            failed = self.store.fail_interrupted(INTERRUPTED)
        except Exception:
            log.warning("nudges: could not look for a dead worker's sends", exc_info=True)
            return 0
        if failed:
            log.warning("nudges: %d sends of a worker that died marked failed (not resent)", failed)
        return failed

    def beat(self) -> None:
        """Say the scheduler is alive (`python -m bot healthcheck` reads it); never raises."""
        try:
            self.store.record_heartbeat(self.clock())
        except Exception:  # a locked database: the next beat tries again
            log.warning("nudges: could not record the heartbeat", exc_info=True)

    async def _first_horizon(self) -> None:
        """The start-up planning pass, once what is already due has gone out.

        The previous process planned 48 h ahead, so after a restart the outbox already holds
        what is due in the next hour; planning every user first (seconds at 100k users)
        would only slow down a backlog that is late already. Waits FIRST_PASS_WAIT at most.
        """
        waits = [asyncio.create_task(s.caught_up.wait()) for s in self.senders.values()]
        try:
            if waits:
                await asyncio.wait(waits, timeout=FIRST_PASS_WAIT.total_seconds())
        finally:
            for wait in waits:
                wait.cancel()
        try:
            await self.extend_horizon()
        except Exception:  # the hourly pass tries again
            log.exception("nudges: the start-up planning pass failed")

    async def stop(self) -> None:
        if self._planner and self.shared is not None:
            self._planner = False
            self.shared.release_role(PLANNER)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        for task in self._loops:
            task.cancel()
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loops.clear()
        await self.idle()
        for platform, sender in self.senders.items():
            log.info(
                "nudges: %s: %d sent; round trip %.1f ms (the fastest in %.0f s), "
                "%d sends in flight allowed",
                platform,
                sender.sent,
                sender.rtt * 1000,
                RTT_WINDOW_SECONDS,
                sender.limit.size,
            )
        for _ in range(STOP_FLUSH_ATTEMPTS):
            if not any(sender.answered or sender.unsent for sender in self.senders.values()):
                return
            await asyncio.sleep(SENT_FLUSH_SECONDS * 4)
            for sender in self.senders.values():
                self._flush_marks(sender)
        for sender in self.senders.values():
            self._cancel_flush(sender)
            if sender.answered:
                log.error(
                    "nudges: %d delivered nudges could not be recorded as sent (ids %s); "
                    "the next start records them as interrupted and does not resend them",
                    len(sender.answered),
                    ", ".join(str(nudge_id) for nudge_id, _ in sender.answered[:20]),
                )
            if sender.unsent:
                log.error(
                    "nudges: %d claimed nudges that were never sent could not be put back "
                    "(ids %s); the next start records them as interrupted",
                    len(sender.unsent),
                    ", ".join(str(nudge_id) for nudge_id in sender.unsent[:20]),
                )

    async def idle(self) -> None:
        """Wait until no send is in flight and every answer is recorded."""
        for sender in self.senders.values():
            while sender.tasks:
                await asyncio.gather(*list(sender.tasks), return_exceptions=True)
            self._flush_marks(sender)

    def wake(self) -> None:
        for sender in self.senders.values():
            sender.wake.set()

    # --- planning ------------------------------------------------------------------------

    async def extend_horizon(self) -> int:
        """Extend every user's plan to now + `horizon`; returns rows added.

        Incremental: each user's plan ends at their bookmark (`users.planned_until`), so a
        pass only looks at users whose plan ends before the new horizon and extends it to
        their next weekly planning instant (`plan_until`): an hourly pass looks at about
        1/168th of the users. Users never planned, or re-planned since (`replan` clears
        the bookmark), and users whose plan ended in the past (the bot was down) are
        planned from now. Small slices (~PLAN_SLICE_SECONDS each), yielding in between:
        replies never wait long behind planning."""
        shared = self.shared
        if shared is not None:
            # The role is kept from pass to pass, so one worker plans every pass and its
            # kept send slots (`PlanAhead`) count every row planned beyond the horizon. A
            # worker that takes the role over (the planner stopped or died) starts afresh.
            if not shared.try_role(PLANNER):
                log.info("nudges: another worker is planning; this one skips the pass")
                return 0
            if not self._planner:
                self._planner, self._ahead = True, None
        return await self._extend_horizon()

    async def _extend_horizon(self) -> int:
        end = self.clock() + self.horizon
        users = added = slices = 0
        longest = cpu = 0.0
        size = 32
        checkpoint: asyncio.Future[tuple[int, int]] | None = None
        started = time.monotonic()
        log.info("nudges: planning pass started (horizon to %s)", end.isoformat())
        try:
            if self.plan_ahead:
                cpu += await self._warm_send_slots(end)
            while True:
                slice_started, cpu_started = time.perf_counter(), time.thread_time()
                planned_users, planned_rows = self._plan_slice(end, size)
                spent = time.perf_counter() - slice_started
                cpu += time.thread_time() - cpu_started
                if not planned_users:
                    break
                users, added, slices = users + planned_users, added + planned_rows, slices + 1
                longest = max(longest, spent)
                size = _next_slice_size(size, planned_users, spent)
                # The log's checkpoint in a thread, so that no slice's commit runs it (with
                # its fsyncs) on the event loop.
                idle = checkpoint is None or checkpoint.done()
                if slices % PLAN_CHECKPOINT_SLICES == 0 and idle and _has_log(self.store):
                    checkpoint = asyncio.ensure_future(asyncio.to_thread(self.store.checkpoint_wal))
                await asyncio.sleep(self.planning_pause(spent))
        finally:
            if checkpoint is not None:
                with contextlib.suppress(Exception):
                    await checkpoint
        log.info(
            "nudges: horizon planned: %d users looked at, %d added in %.2f s "
            "(%.2f s CPU, %d slices, longest %.1f ms)",
            users,
            added,
            time.monotonic() - started,
            cpu,
            slices,
            longest * 1000,
        )
        if added:
            self.wake()
        return added

    def _plan_slice(self, end: datetime, limit: int) -> tuple[int, int]:
        """Plan up to `limit` users whose plan ends before `end`, up to `end`, in one
        transaction and without yielding (so no turn of the coach re-plans one of them
        half-way); returns (users looked at, rows added)."""
        now = self.clock()
        added, due_now = 0, False
        marks: list[tuple[int, datetime]] = []
        with self.store.transaction():
            # Read in the transaction: a store that locks the listed users (PostgreSQL)
            # keeps a turn from re-planning one of them until this plan is written.
            batch = self.store.users_to_plan(end, limit)
            if not batch:
                return 0, 0
            for user, entries, until in batch:
                mark = plan_until(user, end)
                from_now = until is None or until < now  # new, re-planned, or the bot was down
                start = now if from_now or until is None else until
                try:
                    planned = plan_nudges(user, entries, start, mark, catch_up=from_now)
                except Exception:  # one broken user must not stop everyone's plan
                    log.exception("nudges: planning user %d failed", user.id)
                    planned, mark = [], end  # tried again at the next pass
                if planned:
                    if self.plan_ahead:
                        planned = self._send_slots().place(user.platform, planned, from_now)
                    added += self.store.add_planned(user.id, planned)
                    due_now = due_now or min(p.send_at or p.due_at for p in planned) <= now
                marks.append((user.id, mark))
            self.store.set_planned_until(marks)
        if due_now:  # a session about to start: its nudge goes now, not at the next poll
            self.wake()
        return len(batch), added

    async def _warm_send_slots(self, end: datetime) -> float:
        """Start the pass's send slots: read what is not kept yet (everything after a
        start), a piece at a time, resting like a slice. Returns the CPU time it took."""
        ahead = self._send_slots()
        ahead.begin_pass(self.clock(), end)
        cpu = 0.0
        started, cpu_started = time.perf_counter(), time.thread_time()
        for _ in ahead.warm(end + PLAN_CHUNK + CHUNK):  # one piece read per step
            cpu += time.thread_time() - cpu_started
            await asyncio.sleep(self.planning_pause(time.perf_counter() - started))
            started, cpu_started = time.perf_counter(), time.thread_time()
        return cpu + time.thread_time() - cpu_started

    def _send_slots(self) -> PlanAhead:
        """The send slots the planning passes place nudges in (`bot.scheduler.plan_ahead`)."""
        if self._ahead is None:
            rates = {platform: sender.pacer.rate for platform, sender in self.senders.items()}
            self._ahead = PlanAhead(self.store, rates)
        return self._ahead

    def planning_pause(self, spent: float) -> float:
        """How long planning rests after a slice that took `spent` seconds.

        Planning is for later; due nudges are late already. While any dispatcher works
        through a backlog (the top of the hour, when everyone's session is at 18:00), the
        hourly pass takes at most a fifth of the CPU; otherwise it only yields.
        """
        if any(sender.backlog for sender in self.senders.values()):
            return spent * PLANNING_BACKOFF
        return 0.0

    # --- dispatch ------------------------------------------------------------------------

    async def _run(self, platform: str, sender: _Sender) -> None:
        while True:
            try:
                await self.drain(platform)
                sender.caught_up.set()
                self.reap(every=REAP_SECONDS)
                await self._sleep_until_due(platform, sender)
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must survive a bad row or a locked database
                log.exception("nudges: dispatcher for %s failed; retrying", platform)
                await asyncio.sleep(1.0)

    async def _sleep_until_due(self, platform: str, sender: _Sender) -> None:
        sender.wake.clear()
        timeout = self.poll_seconds
        due = self.store.next_due(platform)
        if due is not None:
            seconds = (due - self.clock()).total_seconds()
            timeout = max(0.0, min(timeout, seconds))
            if self.scheduler is not None and seconds > 0:
                self.scheduler.add_job(
                    _wake,
                    # APScheduler waits in real time; the bot's clock may be shifted.
                    DateTrigger(run_date=datetime.now(UTC) + (due - self.clock()), timezone=UTC),
                    args=(sender,),
                    id=f"nudge-wake-{platform}",
                    replace_existing=True,
                    misfire_grace_time=None,
                )
        # Not `asyncio.wait_for`: on Python 3.11 it swallows a cancellation that arrives as the
        # event is set, and `stop()` then waits forever for a dispatcher that keeps running.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await sender.wake.wait()

    async def drain(self, platform: str, wait: bool = False) -> int:
        """Send every nudge of `platform` due now, earliest first; returns sends started.

        With `wait`, also waits for the sends in flight (tests)."""
        sender = self.senders[platform]
        started = 0
        group: list[_Ready] = []  # prepared, holding a send permit, not yet claimed
        try:
            while True:
                sender.refetch = False
                batch = self.store.pending_nudges(self.clock(), BATCH_NUDGES, platform)
                sender.backlog = bool(batch)
                if not batch:
                    break
                progressed, next_ready = 0, float("inf")
                for nudge in batch:
                    await sender.pacer.wait_unpaused()
                    if sender.refetch:
                        break
                    outcome = await self._prepare(sender, nudge)
                    if isinstance(outcome, float):
                        next_ready = min(next_ready, outcome)
                        continue
                    progressed += 1
                    if outcome is None:
                        continue
                    group.append(outcome)
                    if len(group) >= self._group_size(sender) or sender.limit.locked():
                        started += await self._launch(sender, group)
                started += await self._launch(sender, group)
                if sender.refetch:
                    continue
                if not progressed:
                    delay = next_ready - time.monotonic()
                    if delay == float("inf"):
                        break
                    await asyncio.sleep(max(0.0, min(delay, self.poll_seconds)))
        finally:
            self._unreserve(sender, group)
        if wait:
            await self.idle()
        return started

    @staticmethod
    def _group_size(sender: _Sender) -> int:
        """How many nudges one claim commits: what the send permits allow at once."""
        return sender.limit.size

    async def _prepare(self, sender: _Sender, nudge: Nudge) -> _Ready | float | None:
        """Render one due nudge and reserve a send permit and its chat for it.

        None: closed (paused, unreachable, dropped, render failed) or gone; a float: the
        chat is busy until that monotonic time, try again later."""
        if self.shared is not None and not self._still_pending(nudge):
            return None  # another worker claimed (or closed) it since this batch was read
        user = self.store.get_user(nudge.user_id)
        if user is None:
            return None
        if user.paused:
            self.store.mark_nudge(nudge.id, "skipped", error="paused")
            return None
        if user.unreachable:
            self.store.mark_nudge(nudge.id, "failed", error="unreachable: the user blocked the bot")
            return None
        chat = user.chat_id or user.platform_id
        ready_at = sender.chat_ready.get(chat, 0.0)
        if chat in sender.in_flight or ready_at > time.monotonic():
            return max(ready_at, time.monotonic() + 0.05)
        await sender.limit.acquire()
        if sender.refetch or chat in sender.in_flight:  # a 429 arrived while we waited
            sender.limit.release()
            return time.monotonic() + 0.05
        try:
            turn = Turn(self.store, self.library, self.clock(), user)
            outcome = render_nudge(turn, nudge)
        except Exception as exc:
            sender.limit.release()
            log.exception("nudges: rendering nudge %d failed", nudge.id)
            self.store.mark_nudge(nudge.id, "failed", error=f"render failed: {type(exc).__name__}")
            return None
        if isinstance(outcome, Drop):
            sender.limit.release()
            self.store.mark_nudge(nudge.id, outcome.status, error=outcome.reason)
            return None
        sender.in_flight.add(chat)
        return _Ready(nudge, user, chat, outcome)

    def _still_pending(self, nudge: Nudge) -> bool:
        """One of several workers: every worker reads the same due rows, so a row of this
        batch may be another's by now. Checked before rendering, so that a worker neither
        renders it again nor closes it (paused, dropped) under the one sending it."""
        current = self.store.get_nudge(nudge.id)
        return current is not None and current.status == "pending"

    async def _launch(self, sender: _Sender, group: list[_Ready]) -> int:
        """Claim `group` in one commit, then start each send in its slot of the global rate;
        empties `group` and returns the sends started.

        One commit per group rather than per nudge: the commit is most of a claim's cost. A
        claimed row waits at most `len(group)` send intervals for its request to go out (see
        the package docstring). Claimed rows not sent, because a 429 paused the sender or the
        launch was cancelled (a graceful stop), go back to pending: nothing is lost."""
        if not group:
            return 0
        started = 0
        claimed = set() if sender.refetch else self._claim(sender, [r.nudge.id for r in group])
        try:
            while group and not sender.refetch:
                ready = group[0]
                if ready.nudge.id not in claimed:  # re-planned away meanwhile
                    self._unreserve(sender, [group.pop(0)])
                    continue
                if not await sender.pacer.acquire(give_up=lambda: sender.refetch):
                    break  # a 429 paused the sender: not through the pause in `sending`
                self._start_send(sender, group.pop(0))
                started += 1
        finally:
            unsent = [ready.nudge.id for ready in group if ready.nudge.id in claimed]
            self._unreserve(sender, group)
            if unsent:
                sender.unsent.extend(unsent)
                self._flush_marks(sender)  # never raises: a failure keeps them for a retry
        return started

    def _start_send(self, sender: _Sender, ready: _Ready) -> None:
        sender.chat_ready[ready.chat] = time.monotonic() + self.per_chat_interval
        task = asyncio.create_task(self._send(sender, ready))
        sender.tasks.add(task)
        task.add_done_callback(sender.tasks.discard)

    @staticmethod
    def _unreserve(sender: _Sender, group: list[_Ready]) -> None:
        """Give back the permits and chats of prepared nudges that will not be sent now."""
        for ready in group:
            sender.in_flight.discard(ready.chat)
            sender.limit.release()
        group.clear()

    async def _send(self, sender: _Sender, ready: _Ready) -> None:
        nudge, user = ready.nudge, ready.user
        try:
            began = time.monotonic()
            try:
                result = await sender.messenger.send(user, ready.reply)
            except Exception as exc:  # delivered or not, we cannot know: never resend
                log.exception("nudges: send raised for nudge %d", nudge.id)
                result = SendResult(Delivery.FAILED, error=f"send raised {type(exc).__name__}")
            else:
                sender.observe(time.monotonic() - began)  # an answer: a round trip
            self._record(sender, nudge, user, result)
        finally:
            sender.in_flight.discard(ready.chat)
            sender.limit.release()

    def _claim(self, sender: _Sender, nudge_ids: Sequence[int]) -> set[int]:
        """Claim rows for sending (those still pending); the buffered marks go in the same
        commit, and leave their buffers only once it succeeded."""
        answered, unsent = list(sender.answered), list(sender.unsent)
        with self.store.transaction():
            self._write_marks(answered, unsent)
            claimed = {nudge_id for nudge_id in nudge_ids if self.store.claim_nudge(nudge_id)}
        self._written(sender, len(answered), len(unsent))
        return claimed

    def _flush_marks(self, sender: _Sender) -> bool:
        """Write the buffered marks now (timer, idle, stop, a group not sent); False if that
        failed, and then they stay buffered for the next claim or the timer."""
        answered, unsent = list(sender.answered), list(sender.unsent)
        if not answered and not unsent:
            return True
        try:
            with self.store.transaction():
                self._write_marks(answered, unsent)
        except Exception:  # a locked database: keep the marks, try again shortly
            log.exception("nudges: recording nudge outcomes failed; retrying")
            self._cancel_flush(sender)
            self._schedule_flush(sender)
            return False
        self._written(sender, len(answered), len(unsent))
        return True

    def _write_marks(self, answered: list[tuple[int, datetime]], unsent: list[int]) -> None:
        if answered:
            self.store.mark_sent(answered)
        for nudge_id in unsent:
            self.store.unclaim_nudge(nudge_id)

    def _written(self, sender: _Sender, answered: int, unsent: int) -> None:
        """The first buffered marks are committed; no flush is due if none is left."""
        del sender.answered[:answered]
        del sender.unsent[:unsent]
        if not sender.answered and not sender.unsent:
            self._cancel_flush(sender)

    def _schedule_flush(self, sender: _Sender) -> None:
        if sender.flush_timer is None:
            loop = asyncio.get_running_loop()
            sender.flush_timer = loop.call_later(SENT_FLUSH_SECONDS, self._flush_marks, sender)

    @staticmethod
    def _cancel_flush(sender: _Sender) -> None:
        if sender.flush_timer is not None:
            sender.flush_timer.cancel()
            sender.flush_timer = None

    def _record(self, sender: _Sender, nudge: Nudge, user: User, result: SendResult) -> None:
        if result.delivery is Delivery.SENT:
            sender.answered.append((nudge.id, self.clock()))
            sender.sent += 1
            self._schedule_flush(sender)
        elif result.delivery is Delivery.RETRY_LATER:
            self.store.release_nudge(nudge.id, error=f"rate limited: {result.error}"[:500])
            sender.pacer.pause(result.retry_after)
            if self.shared is not None:  # the limit is the token's: every worker waits
                with contextlib.suppress(Exception):
                    self.shared.pause_sends(user.platform, result.retry_after, sender.pacer.rate)
            sender.refetch = True
            log.warning(
                "nudges: rate limited, pausing %s for %.1f s", user.platform, result.retry_after
            )
        elif result.delivery is Delivery.BLOCKED:
            self.store.mark_nudge(nudge.id, "failed", error=f"blocked: {result.error}"[:500])
            self.store.set_unreachable(user.id)
        else:
            self.store.mark_nudge(nudge.id, "failed", error=(result.error or "failed")[:500])


@runtime_checkable
class SharedOutbox(Protocol):
    """An outbox several worker processes drain together (PostgreSQL's `PgStorage` once it
    joined the workers): their liveness, one-at-a-time roles and a shared send budget."""

    worker_id: int | None

    def others_alive(self) -> bool: ...

    def try_role(self, role: str) -> bool: ...

    def release_role(self, role: str) -> None: ...

    def take_send_token(self, platform: str, rate: float, capacity: float = 1.0) -> float: ...

    def pause_sends(self, platform: str, seconds: float, rate: float) -> None: ...


def _is_shared(store: object) -> TypeGuard[SharedOutbox]:
    return isinstance(store, SharedOutbox)


@runtime_checkable
class _WriteAheadLog(Protocol):
    """A store with a write-ahead log to checkpoint (SQLite's `Storage`)."""

    def checkpoint_wal(self) -> tuple[int, int]: ...


def _has_log(store: object) -> TypeGuard[_WriteAheadLog]:
    return isinstance(store, _WriteAheadLog)


def _next_slice_size(size: int, done: int, spent: float) -> int:
    """Users for the next planning slice: what fits in PLAN_SLICE_SECONDS at the last
    slice's pace, changing by at most 2x at a time."""
    if done < size:  # the last slice ran out of users: its pace says little
        return size
    fits = size * PLAN_SLICE_SECONDS / max(spent, 1e-6)
    low, high = PLAN_SLICE_USERS
    return int(max(low, min(high, size * 2, max(size / 2, fits))))


async def _wake(sender: _Sender) -> None:
    """APScheduler's wake-up call for a dispatcher. A coroutine, so that APScheduler runs it
    on the event loop: a plain function would run in a worker thread, and asyncio's Event
    must not be set from another thread."""
    sender.wake.set()


@contextlib.asynccontextmanager
async def run_nudges(
    store: Outbox, messengers: Sequence[Messenger], **options: Any
) -> AsyncIterator[NudgeService]:
    """Run a `NudgeService` for `messengers` for the duration of the block; `options` are
    `NudgeService`'s (rates, grace, library, clock...)."""
    service = NudgeService(store, messengers, **options)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()

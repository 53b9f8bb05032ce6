"""Nudge lateness when everyone trains at 18:00: sends planned ahead vs sent when due.

    .venv/bin/python bench/nudge_lateness.py                  # 100,000 users (+ 200,000 short)
    .venv/bin/python bench/nudge_lateness.py --users 5000 --rate 1.5   # the same shape, quick
    .venv/bin/python bench/nudge_lateness.py --realtime-users 3000     # + the real-time run

Simulated runs (the real planner and dispatcher, no waiting an hour): `NudgeService` on a
real SQLite file, its clock and every wait on a virtual clock. The event loop here is
asyncio's own with a selector that, when the loop would sleep, moves the clock on instead
(the Pacer is given the loop's clock), so an hour of sending at --rate msg/s takes the CPU
time of planning, rendering and writing 100,000 nudges, not an hour. The messenger answers
each send --rtt virtual seconds later. Lateness = sent - due (the outbox's sent_at and
due_at; early sends count as 0 late); p99 is the nearest-rank 99th percentile.

1. Main case (issue 20's goal): --users users over Europe/London, Europe/Berlin,
   America/New_York and Asia/Tokyo, half training at 17:30 and half at 18:00 local on
   Wednesday 9 Dec 2026, 30-minute lead, --rate msg/s. Run twice on copies of one seeded
   file: planned ahead (the bot) and without (`plan_ahead=False`, every nudge at its due
   time: the baseline). Goal: p99 <= 60 s.
2. Capacity-short case: --short-users users in one zone (Europe/Berlin), a quarter each at
   17:00, 17:30, 18:00 and 18:30: each half-hour's 50,000 nudges need 28 min at 30/s and
   have 15 min of early window, so thousands must go late in any schedule. (All at 17:30
   and 18:00 would leave a third past their session start in any schedule: p99 unbounded.)
   Goal: our p99 within 10% of the bound.
3. The bound: the smallest p99 lateness any schedule at --rate msg/s could reach with each
   nudge sent no earlier than its window opens (due - half the lead): the least L for which
   99% of the nudges fit in [earliest, due + L], found by bisection on L; for each L the
   most that fit is a matching of nudges to send slots, which earliest-deadline-first over
   the slots finds (Glover's rule for intervals), computed per group of nudges with the
   same window.
4. --realtime-users (default 3,000; 0 skips it): `python -m bot` against the fake Bot API
   (tests/fakes/telegram_api.py, real python-telegram-bot, real SQLite), users training in
   one zone at one time, started 3 minutes before their nudges are due; waits until every
   user got one and reads lateness from the outbox.

The last line is JSON: `users`, `p99_lateness_s`, `bound_p99_lateness_s`, `duplicates`
(main case), and the rest of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import math
import selectors
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.nudges import EARLY_SHARE  # noqa: E402
from bot.core.ports import Delivery, SendResult  # noqa: E402
from bot.core.records import User  # noqa: E402
from bot.core.replies import Reply  # noqa: E402
from bot.scheduler import NudgeService, Pacer  # noqa: E402
from bot.storage import Storage  # noqa: E402

START = datetime(2026, 12, 9, 0, 0, tzinfo=UTC)  # a Wednesday: no massage nudge within 48 h
DAY_END = START + timedelta(days=1)
"""The run ends here: the planner plans users up to a week further (next Wednesday too),
and only this Wednesday's nudges are measured."""
ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
MAIN_TIMES = ("17:30", "18:00")
SHORT_ZONE = "Europe/Berlin"
SHORT_TIMES = ("17:00", "17:30", "18:00", "18:30")
LEAD_MINUTES = 30
FIRST_CHAT = 900_000_000
P = 0.99


# ----------------------------------------------------------------------------- virtual time


class _JumpingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """A selector that never sleeps: when nothing is ready it moves the loop's clock on by
    the timeout instead (the loop only waits for its next timer here; no sockets)."""

    loop: VirtualTimeLoop

    def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # nothing scheduled: a real wait (another thread's call_soon)
            return super().select(None)
        self.loop.now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """asyncio's loop on a virtual clock: `time()` moves only when the loop would sleep."""

    def __init__(self) -> None:
        selector = _JumpingSelector()
        super().__init__(selector)
        selector.loop = self
        self.now = 0.0

    def time(self) -> float:
        return self.now


# ----------------------------------------------------------------------------- seeding


def seed(db_path: Path, users: int, zones: Sequence[str], times: Sequence[str]) -> None:
    """`users` Telegram users, spread evenly over `zones` x `times`, each with one weekly
    session on START's weekday at that local time and a 30-minute lead."""
    weekday = START.weekday()
    with Storage(db_path, clock=lambda: START) as store, store.transaction():
        for n in range(users):
            chat = str(FIRST_CHAT + n)
            user = store.user_for("telegram", chat, zones[n % len(zones)])
            user.chat_id = chat
            user.onboarded = True
            user.lead_minutes = LEAD_MINUTES
            store.save_user(user)
            hhmm = times[(n // len(zones)) % len(times)]
            store.add_schedule(user.id, hhmm, weekday=weekday, workout="run")


# ----------------------------------------------------------------------------- simulation


@dataclass
class CountingMessenger:
    """Answers every send after `rtt` (virtual) seconds; counts sends per chat."""

    rtt: float
    platform: str = "telegram"
    per_chat: Counter[str] = field(default_factory=Counter)

    async def send(self, user: User, reply: Reply) -> SendResult:
        self.per_chat[user.chat_id or user.platform_id] += 1
        await asyncio.sleep(self.rtt)
        return SendResult(Delivery.SENT)


@dataclass
class Outcome:
    sent: int
    missed: int
    duplicates: int
    late: list[float]  # seconds, one per sent nudge (early = 0)
    windows: list[tuple[float, float]]  # (earliest, due) of every nudge, s after START
    plan_s: float
    dispatch_s: float
    virtual_h: float
    last_send: str


async def simulate(db_path: Path, rate: float, rtt: float, plan_ahead: bool) -> Outcome:
    loop = asyncio.get_running_loop()
    origin = loop.time()

    def clock() -> datetime:
        return START + timedelta(seconds=loop.time() - origin)

    messenger = CountingMessenger(rtt)
    with Storage(db_path, clock=clock) as store:
        nudges = NudgeService(
            store,
            [messenger],
            rates={"telegram": rate},
            clock=clock,
            per_chat_interval=0.0,
            max_in_flight=max(2, math.ceil(rate * rtt * 2)),
            plan_ahead=plan_ahead,
        )
        sender = nudges.senders["telegram"]
        sender.pacer = Pacer(rate, clock=loop.time)  # the virtual clock, not time.monotonic
        began = time.perf_counter()
        await nudges.extend_horizon()
        plan_s = time.perf_counter() - began
        began = time.perf_counter()
        while True:
            await nudges.drain("telegram")
            following = store.next_due("telegram")
            if following is None or following >= DAY_END:
                break
            await asyncio.sleep(max(0.0, (following - clock()).total_seconds()))
        await nudges.idle()
        dispatch_s = time.perf_counter() - began
        rows = store.db.execute(
            "SELECT due_at, sent_at, status FROM nudges WHERE kind = 'pre_workout' AND due_at < ?",
            [DAY_END.isoformat()],
        ).fetchall()
    late, windows = [], []
    early = timedelta(minutes=LEAD_MINUTES) * EARLY_SHARE
    for due_text, sent_text, status in rows:
        due = datetime.fromisoformat(due_text)
        windows.append(((due - early - START).total_seconds(), (due - START).total_seconds()))
        if status == "sent":
            late.append(max(0.0, (datetime.fromisoformat(sent_text) - due).total_seconds()))
    missed = sum(1 for *_, status in rows if status != "sent")
    return Outcome(
        sent=len(late),
        missed=missed,
        duplicates=sum(n - 1 for n in messenger.per_chat.values() if n > 1),
        late=late,
        windows=windows,
        plan_s=plan_s,
        dispatch_s=dispatch_s,
        virtual_h=(loop.time() - origin) / 3600,
        last_send=clock().strftime("%H:%M:%S"),
    )


def run_virtual(db_path: Path, rate: float, rtt: float, plan_ahead: bool) -> Outcome:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(simulate(db_path, rate, rtt, plan_ahead))
    finally:
        loop.close()


# ----------------------------------------------------------------------------- figures


def quantile(values: Iterable[float], q: float = P) -> float:
    """Nearest rank: the ceil(q n)-th smallest."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def most_on_time(groups: Sequence[tuple[float, float, int]], rate: float, slack: float) -> float:
    """How many nudges at most can be sent at `rate` within [earliest, due + slack]: the
    send slots matched earliest-deadline-first (optimal for interval windows), as a flow."""
    jobs = sorted((earliest, due + slack, float(count)) for earliest, due, count in groups)
    heap: list[tuple[float, float]] = []  # (deadline, count left)
    served, t, i = 0.0, -math.inf, 0
    while i < len(jobs) or heap:
        if not heap:
            t = max(t, jobs[i][0])
        while i < len(jobs) and jobs[i][0] <= t:
            heapq.heappush(heap, (jobs[i][1], jobs[i][2]))
            i += 1
        deadline, left = heapq.heappop(heap)
        if deadline < t:
            continue  # too late for these: dropped (they would count as late)
        release = jobs[i][0] if i < len(jobs) else math.inf
        end = min(release, deadline, t + left / rate)
        done = (end - t) * rate
        served += done
        t = end
        if left - done > 1e-9 and t < deadline:
            heapq.heappush(heap, (deadline, left - done))
    return served


def bound_p99(windows: Sequence[tuple[float, float]], rate: float) -> float:
    """The least p99 lateness any schedule at `rate` could give these windows."""
    groups = Counter(windows)
    grouped = [(earliest, due, count) for (earliest, due), count in groups.items()]
    need = math.ceil(P * len(windows))
    if most_on_time(grouped, rate, 0.0) >= need - 1e-6:
        return 0.0
    low, high = 0.0, len(windows) / rate + 1.0
    while high - low > 0.01:
        middle = (low + high) / 2
        if most_on_time(grouped, rate, middle) >= need - 1e-6:
            high = middle
        else:
            low = middle
    return high


def describe(name: str, outcome: Outcome) -> dict[str, Any]:
    figures = {
        "sent": outcome.sent,
        "missed": outcome.missed,
        "duplicates": outcome.duplicates,
        "p50_lateness_s": round(quantile(outcome.late, 0.5), 2),
        "p99_lateness_s": round(quantile(outcome.late), 2),
        "max_lateness_s": round(max(outcome.late, default=0.0), 2),
        "plan_s": round(outcome.plan_s, 2),
        "dispatch_cpu_s": round(outcome.dispatch_s, 1),
        "simulated_h": round(outcome.virtual_h, 2),
    }
    print(f"  {name}: {json.dumps(figures)}", flush=True)
    return figures


def case(
    label: str,
    tmp: Path,
    *,
    users: int,
    zones: Sequence[str],
    times: Sequence[str],
    args: argparse.Namespace,
    baseline: bool,
) -> dict[str, Any]:
    template = tmp / f"{label}.sqlite3"
    began = time.perf_counter()
    seed(template, users, zones, times)
    seeded = time.perf_counter() - began
    print(
        f"{label}: {users:,} users, {', '.join(zones)} at {', '.join(times)} local, "
        f"{LEAD_MINUTES} min lead, {args.rate:g} msg/s (seeded in {seeded:.1f} s)",
        flush=True,
    )
    runs: dict[str, Outcome] = {}
    for name, ahead in (("planned ahead", True), ("baseline", False))[: 2 if baseline else 1]:
        copy = tmp / f"{label}-{'ahead' if ahead else 'due'}.sqlite3"
        shutil.copyfile(template, copy)
        runs[name] = run_virtual(copy, args.rate, args.rtt, ahead)
    ours = describe("planned ahead", runs["planned ahead"])
    bound = round(bound_p99(runs["planned ahead"].windows, args.rate), 2)
    result: dict[str, Any] = {"users": users, **ours, "bound_p99_lateness_s": bound}
    vs_bound = ours["p99_lateness_s"] / bound if bound > 0 else None
    print(
        f"  bound (rate and windows allow): p99 {bound:.2f} s; ours {ours['p99_lateness_s']:.2f} s"
        + (f" = {vs_bound:.3f}x the bound" if vs_bound is not None else ""),
        flush=True,
    )
    result["vs_bound"] = None if vs_bound is None else round(vs_bound, 3)
    if baseline:
        base = describe("baseline (sent when due)", runs["baseline"])
        # Ours may be ~0: count it as at least one send interval, the rate's resolution.
        ratio = base["p99_lateness_s"] / max(ours["p99_lateness_s"], 1 / args.rate)
        print(
            f"  baseline p99 {base['p99_lateness_s']:.2f} s vs planned ahead "
            f"{ours['p99_lateness_s']:.2f} s: {ratio:.0f}x less late "
            f"(ours counted as >= one send interval, {1 / args.rate:.3f} s)",
            flush=True,
        )
        result["baseline_p99_lateness_s"] = base["p99_lateness_s"]
        result["baseline_max_lateness_s"] = base["max_lateness_s"]
        result["baseline_ratio"] = round(ratio, 1)
        result["duplicates"] += base["duplicates"]
    return result


# ----------------------------------------------------------------------------- real time


async def realtime(tmp: Path, users: int, rate: float) -> dict[str, Any]:
    from tests.fakes.telegram_api import FakeTelegram
    from tests.processes import start_bot, stop_gracefully

    db_path = tmp / "realtime.sqlite3"
    seed(db_path, users, ("Europe/Berlin",), ("18:00",))
    due = datetime(2026, 12, 9, 16, 30, tzinfo=UTC)  # 18:00 in Berlin, 30 min lead
    start = due - timedelta(minutes=3)
    log = tmp / "realtime.log"
    print(
        f"real time: {users:,} users due at {due:%H:%M} UTC, `python -m bot` from "
        f"{start:%H:%M} at {rate:g} msg/s against the fake Bot API ...",
        flush=True,
    )
    async with FakeTelegram() as fake:
        spawned = time.monotonic()
        process = start_bot(db_path, fake, clock_start=start, rate=rate, log=log)
        deadline = spawned + 180 + 3 * users / rate
        try:
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                if len(fake.calls_to("sendMessage")) >= users:
                    break
                if process.poll() is not None:
                    raise RuntimeError(f"the bot exited: see {log}")
            await asyncio.sleep(1.0)  # the last marks are written 50 ms after the answer
        finally:
            await stop_gracefully(process, timeout=30)
        calls = fake.calls_to("sendMessage")
    per_chat = Counter(int(c.params["chat_id"]) for c in calls)
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT due_at, send_at, sent_at FROM nudges WHERE status = 'sent' "
            "AND kind = 'pre_workout'"
        ).fetchall()
    late = [
        max(0.0, (datetime.fromisoformat(sent) - datetime.fromisoformat(due)).total_seconds())
        for due, _, sent in rows
    ]
    planned_from = min((datetime.fromisoformat(at) for _, at, _ in rows), default=due)
    span = calls[-1].at - calls[0].at if len(calls) > 1 else 0.0
    result = {
        "users": users,
        "sent": len(calls),
        "lost": users - len(per_chat),
        "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
        "p99_lateness_s": round(quantile(late), 2),
        "max_lateness_s": round(max(late, default=0.0), 2),
        "first_send_planned_s_before_due": round((due - planned_from).total_seconds(), 1),
        "achieved_rate": round((len(calls) - 1) / span, 1) if span else None,
        "baseline_last_s_late_computed": round(users / rate, 1),
    }
    print(f"  {json.dumps(result)}", flush=True)
    return result


# ----------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000, help="main case (4 zones)")
    parser.add_argument("--rate", type=float, default=30.0, help="send rate, msg/s")
    parser.add_argument(
        "--short-users", type=int, default=None, help="capacity-short case (default 2x --users)"
    )
    parser.add_argument("--rtt", type=float, default=0.05, help="simulated answer time, s")
    parser.add_argument(
        "--realtime-users", type=int, default=3_000, help="real-time run (0: skip it)"
    )
    parser.add_argument("--realtime-rate", type=float, default=30.0)
    args = parser.parse_args(argv)
    short_users = 2 * args.users if args.short_users is None else args.short_users
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        main_case = case(
            "main", tmp, users=args.users, zones=ZONES, times=MAIN_TIMES, args=args, baseline=True
        )
        short = None
        if short_users:
            short = case(
                "capacity-short",
                tmp,
                users=short_users,
                zones=(SHORT_ZONE,),
                times=SHORT_TIMES,
                args=args,
                baseline=False,
            )
        real = None
        if args.realtime_users:
            real = asyncio.run(realtime(tmp, args.realtime_users, args.realtime_rate))
    verdict = "met" if main_case["p99_lateness_s"] <= 60 else "NOT met"
    print(f"goal p99 <= 60 s at {args.users:,} users: {verdict}", flush=True)
    if short is not None and short["vs_bound"] is not None:
        within = "within" if short["vs_bound"] <= 1.10 else "NOT within"
        print(f"capacity-short: {short['vs_bound']:.3f}x the bound ({within} 10%)", flush=True)
    print(
        json.dumps(
            {
                "users": main_case["users"],
                "p99_lateness_s": main_case["p99_lateness_s"],
                "bound_p99_lateness_s": main_case["bound_p99_lateness_s"],
                "duplicates": main_case["duplicates"]
                + (short["duplicates"] if short else 0)
                + (real["duplicates"] if real else 0),
                "rate": args.rate,
                "baseline_p99_lateness_s": main_case["baseline_p99_lateness_s"],
                "baseline_ratio": main_case["baseline_ratio"],
                "missed": main_case["missed"],
                "short": short,
                "realtime": real,
            }
        )
    )


if __name__ == "__main__":
    main()

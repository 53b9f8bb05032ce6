"""Nudge planning at 100,000 users: pass times, rows, RSS, and replies while a pass runs.

    .venv/bin/python bench/planning.py                  # 100,000 users
    .venv/bin/python bench/planning.py --users 20000    # quicker

What it does, in a temp directory, at a fixed instant (Wednesday 9 Dec 2026 12:00 UTC,
`BOT_CLOCK_START`; no monthly massage nudge is due within the first 48 h):
1. Seeds N onboarded Telegram users through the storage API, each with 2-5 weekly sessions
   (06:00-21:45 local) in one of six time zones, and nothing planned; plus 20 users who
   only ask for /help. A copy of the file also gets a backlog of --backlog nudges (default
   4,000: 160 s at 25/s) due 10 s after the start.
2. Runs the real `python -m bot` (TELEGRAM_SEND_RATE=--rate, default 25/s) against the fake
   Bot API (tests/fakes/telegram_api.py) in this process, answering every request after
   --latency s (default 0.1, a real round trip), three times:
   - "start-up": the first start on the file: its planning pass plans every user up to
     their weekly planning instant past the 48 h horizon, 2 to 9 days (the nudges it
     plans due at once, sessions about to start, go out meanwhile).
   - "restart": a restart one hour later (`BOT_CLOCK_START` + 1 h): its planning pass
     extends the plan by the hour the horizon moved, and, being the first pass of the
     process, reads the send slots the outbox holds (later passes keep them).
   - "with a backlog": the first start on the copy, the backlog going out at the full rate
     while the pass runs (the pass then rests 4x each slice).
   During each, /help goes to the bot from the /help users, one at a time and only while
   a long poll is waiting at the fake (so the fake's latency does not count): latency =
   the /help update queued -> the bot's sendMessage arriving. "During the pass" = between
   the bot's log lines "planning pass started" (or "ready to dispatch", for code without
   it) and "horizon planned"; the baseline ("idle") is the same measurement for --idle s
   after the pass. Nudge rate while planning = nudges arriving at the fake while the pass
   ran (after the first one) / that time, against --rate. Pass time, its own CPU (the
   slices' thread time), users looked at and rows added come from the bot's log line;
   process CPU (all threads: sending, the log's checkpoints) and peak RSS from psutil.
3. Sweep (in this process, `NudgeService.extend_horizon` on a copy of the file with a
   stepped clock): a first pass 2 h after the start (reported on its own: it reads the
   outbox's send slots), then --sweep-hours hourly passes (default 100: the horizon then
   reaches the 15th of the month, when every user's "behind on massages" reminder is due
   at 10:00 local, six time zones in six hours). CPU per pass and the longest the pass
   held the event loop (a task that only yields measures the gaps). These are the hourly
   passes of a bot that keeps running.

Goals (issue 15): /help p99 <= 100 ms during any pass; an hourly pass <= 1 s of CPU (the
sweep's passes); nudges >= 0.95 of the rate while planning. The ratio against the same
run's baseline: /help p99 during the start-up pass / idle. The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.scheduler import NudgeService  # noqa: E402
from bot.storage import Storage  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.processes import start_bot, stop_gracefully  # noqa: E402

START = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
)
WORKOUTS = ("run", "cycle", "swim", "lower_body", "upper_body", "full_body")
FIRST_CHAT = 600_000_000
HELP_USERS = range(900_000_001, 900_000_021)
BACKLOG_DELAY = timedelta(seconds=10)
READY = "ready to dispatch"
PASS_STARTED = "planning pass started"
PASS_DONE = re.compile(
    r"horizon planned(?:: (?P<users>\d+) users looked at,)?,? (?P<added>\d+) added in "
    r"(?P<wall>[\d.]+) s(?: \((?P<cpu>[\d.]+) s CPU, (?P<slices>\d+) slices, "
    r"longest (?P<longest>[\d.]+) ms\))?"
)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


# ----------------------------------------------------------------------------- seeding


def seed(db_path: Path, users: int) -> dict[str, int]:
    rnd = random.Random(15)
    sessions = 0
    with Storage(db_path, clock=lambda: START) as store, store.transaction():
        for n in range(users):
            chat = str(FIRST_CHAT + n)
            user = store.user_for("telegram", chat, ZONES[n % len(ZONES)])
            user.chat_id = chat
            user.onboarded = True
            store.save_user(user)
            for weekday in sorted(rnd.sample(range(7), rnd.randint(2, 5))):
                hhmm = f"{rnd.randint(6, 21):02d}:{rnd.choice((0, 15, 30, 45)):02d}"
                store.add_schedule(user.id, hhmm, weekday=weekday, workout=rnd.choice(WORKOUTS))
                sessions += 1
        for uid in HELP_USERS:
            user = store.user_for("telegram", str(uid), "UTC")
            user.chat_id = str(uid)
            user.onboarded = True
            store.save_user(user)
    return {"users": users, "sessions": sessions}


# ----------------------------------------------------------------------------- the bot


@dataclass
class Watch:
    """What the bench saw of one bot run, on its own clock (time.monotonic)."""

    log: Path
    log_offset: int = 0
    ready: tuple[float, float] | None = None  # (when, process CPU) "ready to dispatch"
    pass_started: float | None = None
    pass_done: float | None = None
    pass_line: dict[str, Any] = field(default_factory=dict)
    cpu_at_start: float | None = None
    cpu_at_done: float | None = None
    rss: int = 0
    help: list[tuple[float, float]] = field(default_factory=list)  # (queued at, latency)


async def watch(process: subprocess.Popen[bytes], seen: Watch, stop_event: asyncio.Event) -> None:
    """Poll the bot's log, CPU and memory every 20 ms."""
    ps = psutil.Process(process.pid)
    while not stop_event.is_set():
        now = time.monotonic()
        if process.poll() is not None:
            raise RuntimeError(f"the bot exited: see {seen.log}")
        seen.rss = max(seen.rss, ps.memory_info().rss)
        with seen.log.open("rb") as log:
            log.seek(seen.log_offset)
            text = log.read().decode(errors="replace")
        cpu = sum(ps.cpu_times()[:2])
        if seen.ready is None and READY in text:
            seen.ready = (now, cpu)
        if seen.pass_started is None and PASS_STARTED in text:
            seen.pass_started, seen.cpu_at_start = now, cpu
        found = PASS_DONE.search(text)
        if found and seen.pass_done is None:
            if seen.pass_started is None:  # code without the "started" line: it starts
                seen.pass_started, seen.cpu_at_start = seen.ready or (now, cpu)  # when ready
            seen.pass_done, seen.cpu_at_done = now, cpu
            seen.pass_line = {k: v for k, v in found.groupdict().items() if v is not None}
        await asyncio.sleep(0.02)


def poll_waiting(fake: FakeTelegram) -> bool:
    """A getUpdates long poll is in its waiting phase (past the fake's latency)."""
    polls = fake.calls_to("getUpdates")
    return (
        bool(polls)
        and polls[-1].status is None
        and (time.monotonic() - polls[-1].at > fake.latency + 0.005)
    )


async def ask_help(fake: FakeTelegram, seen: Watch, stop_event: asyncio.Event) -> None:
    """/help, one at a time, each when a long poll waits; records the latency of each."""
    rnd = random.Random(7)
    n = 0
    while not stop_event.is_set():
        while not poll_waiting(fake):
            await asyncio.sleep(0.002)
            if stop_event.is_set():
                return
        uid = HELP_USERS[n % len(HELP_USERS)]
        n += 1
        checked = len(fake.calls_to("sendMessage"))
        queued = time.monotonic()
        fake.push_text("/help", user_id=uid)
        reply = None
        while reply is None and time.monotonic() - queued < 30:
            await asyncio.sleep(0.002)
            calls = fake.calls_to("sendMessage")
            for call in calls[checked:]:
                if call.params.get("chat_id") == uid and call.at >= queued:
                    reply = call
                    break
            checked = max(checked, len(calls) - 50)
        if reply is None:
            raise RuntimeError("the bot did not answer /help within 30 s")
        seen.help.append((queued, reply.at - queued))
        await asyncio.sleep(0.03 + rnd.random() * 0.05)


async def run_bot(
    db_path: Path,
    fake: FakeTelegram,
    *,
    clock_start: datetime,
    rate: float,
    log: Path,
    idle: float,
) -> dict[str, Any]:
    """One bot run until its first planning pass is over and `idle` seconds more."""
    fake.clear_calls()
    gc.collect()
    gc.freeze()
    seen = Watch(log, log.stat().st_size if log.exists() else 0)
    spawned = time.monotonic()
    process = start_bot(db_path, fake, clock_start=clock_start, rate=rate, log=log)
    stop_event = asyncio.Event()
    watcher = asyncio.create_task(watch(process, seen, stop_event))
    asker: asyncio.Task[None] | None = None
    try:
        deadline = spawned + 900
        while seen.pass_done is None and time.monotonic() < deadline:
            if asker is None and poll_waiting(fake):
                asker = asyncio.create_task(ask_help(fake, seen, stop_event))
            if watcher.done():
                watcher.result()
            await asyncio.sleep(0.05)
            gc.freeze()  # the fake's records: see bench/nudge_fanout.py
        if seen.pass_done is None:
            raise RuntimeError(f"no planning pass finished: see {log}")
        await asyncio.sleep(idle)
    finally:
        stop_event.set()
        for task in (watcher, asker):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
        await stop_gracefully(process, timeout=30)
    assert seen.pass_started is not None and seen.pass_done is not None
    began, done = seen.pass_started, seen.pass_done
    during = [lat for at, lat in seen.help if began <= at <= done]
    after = [lat for at, lat in seen.help if at > done + 0.5]
    nudges = [
        c.at
        for c in fake.calls_to("sendMessage")
        if began <= c.at <= done and c.params.get("chat_id", 0) < HELP_USERS[0]
    ]
    rate_while = (len(nudges) - 1) / (nudges[-1] - nudges[0]) if len(nudges) > 2 else None
    line = seen.pass_line
    return {
        "pass_s": float(line["wall"]),
        "pass_cpu_s": float(line["cpu"]) if "cpu" in line else None,
        "process_cpu_during_pass_s": round((seen.cpu_at_done or 0) - (seen.cpu_at_start or 0), 2),
        "users_looked_at": int(line["users"]) if "users" in line else None,
        "rows_added": int(line["added"]),
        "longest_slice_ms": float(line["longest"]) if "longest" in line else None,
        "pass_started_after_spawn_s": round(began - spawned, 2),
        "help_during_pass": len(during),
        "help_p50_ms": ms(percentile(during, 0.5)),
        "help_p99_ms": ms(percentile(during, 0.99)),
        "help_max_ms": ms(max(during, default=None)),
        "help_idle": len(after),
        "help_idle_p50_ms": ms(percentile(after, 0.5)),
        "help_idle_p99_ms": ms(percentile(after, 0.99)),
        "nudges_during_pass": len(nudges),
        "nudge_rate_during_pass": None if rate_while is None else round(rate_while, 2),
        "peak_rss_mb": round(seen.rss / 2**20, 1),
    }


# ----------------------------------------------------------------------------- sweep


class NoMessenger:
    platform = "telegram"

    async def send(self, user: Any, reply: Any) -> Any:  # pragma: no cover - never due
        raise AssertionError("the sweep sends nothing")


async def longest_hold(gaps: list[float], stop_event: asyncio.Event) -> None:
    """Only yields; records in gaps[0] the longest the event loop kept it waiting."""
    last = time.perf_counter()
    while not stop_event.is_set():
        await asyncio.sleep(0)
        tick = time.perf_counter()
        gaps[0] = max(gaps[0], tick - last)
        last = tick


async def timed_pass(nudges: NudgeService, at: datetime) -> dict[str, Any]:
    """One planning pass: its CPU (the process's), wall time, rows and longest loop hold."""
    gaps = [0.0]
    stop_event = asyncio.Event()
    task = asyncio.create_task(longest_hold(gaps, stop_event))
    await asyncio.sleep(0)
    cpu, wall = time.process_time(), time.perf_counter()
    added = await nudges.extend_horizon()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    stop_event.set()
    await task
    return {
        "at": at.isoformat(),
        "cpu_s": cpu,
        "wall_s": wall,
        "added": added,
        "longest_hold_ms": gaps[0] * 1000,
    }


async def sweep(db_path: Path, hours: int, rate: float) -> dict[str, Any]:
    """Hourly passes in this process with a stepped clock; CPU and loop holds per pass.

    The first pass is the first after a start: it also reads the send slots the outbox
    holds (`bot.scheduler.plan_ahead`), which later passes keep. It is reported on its
    own; the hourly figures are the passes after it, as in a bot that keeps running."""
    now = [START + timedelta(hours=2)]
    passes: list[dict[str, Any]] = []
    with Storage(db_path, clock=lambda: now[0]) as store:
        # Its send slots too (planning ahead), at the rate the real runs use.
        nudges = NudgeService(
            store, [NoMessenger()], rates={"telegram": rate}, clock=lambda: now[0]
        )
        first = await timed_pass(nudges, now[0])
        for _ in range(hours):
            now[0] += timedelta(hours=1)
            passes.append(await timed_pass(nudges, now[0]))
    cpus = [p["cpu_s"] for p in passes]
    worst = max(passes, key=lambda p: p["cpu_s"])
    return {
        "first_pass_after_start_cpu_s": round(first["cpu_s"], 3),
        "first_pass_after_start_longest_hold_ms": round(first["longest_hold_ms"], 1),
        "passes": len(passes),
        "cpu_median_s": round(statistics.median(cpus), 3),
        "cpu_p90_s": round(percentile(cpus, 0.9) or 0.0, 3),
        "cpu_max_s": round(worst["cpu_s"], 3),
        "cpu_max_at": worst["at"],
        "rows_max_pass": max(p["added"] for p in passes),
        "rows_median_pass": statistics.median(p["added"] for p in passes),
        "rows_at_cpu_max": worst["added"],
        "longest_loop_hold_ms": round(max(p["longest_hold_ms"] for p in passes), 1),
        "rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
    }


# ----------------------------------------------------------------------------- main


def copy_db(source: Path, target: Path) -> None:
    with Storage(source) as store:
        store.db.execute("VACUUM INTO ?", [str(target)])


def add_backlog(db_path: Path, users: int, count: int) -> None:
    """`count` nudges due 10 s after START, for the first `count` users: the sender's work
    while the start-up pass runs."""
    due = START + BACKLOG_DELAY
    session = (START + timedelta(hours=3)).isoformat()
    with Storage(db_path, clock=lambda: START) as store, store.transaction():
        for n in range(count):
            store.enqueue_nudge(
                1 + n % users,
                "pre_workout",
                due + timedelta(milliseconds=n),
                {"ref": f"bench:{n}", "session_at": session, "workout": "run"},
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--backlog", type=int, default=4_000)
    parser.add_argument("--idle", type=float, default=10.0, help="baseline seconds after")
    parser.add_argument("--sweep-hours", type=int, default=100)
    parser.add_argument("--keep", type=Path, default=None, help="keep files and logs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = args.keep or Path(tmp)
        tmp_path.mkdir(parents=True, exist_ok=True)
        db, busy_db = tmp_path / "bot.sqlite3", tmp_path / "busy.sqlite3"
        began = time.monotonic()
        seeded = seed(db, args.users)
        copy_db(db, busy_db)
        add_backlog(busy_db, args.users, args.backlog)
        seconds = time.monotonic() - began
        print("seeded:", json.dumps(seeded), f"in {seconds:.1f} s", flush=True)
        async with FakeTelegram(latency=args.latency) as fake:
            first = await run_bot(
                db,
                fake,
                clock_start=START,
                rate=args.rate,
                log=tmp_path / "bot.log",
                idle=args.idle,
            )
            print("start-up pass:", json.dumps(first), flush=True)
            hourly = await run_bot(
                db,
                fake,
                clock_start=START + timedelta(hours=1),
                rate=args.rate,
                log=tmp_path / "bot.log",
                idle=2.0,
            )
            print("restart 1 h later, its first pass:", json.dumps(hourly), flush=True)
            busy = await run_bot(
                busy_db,
                fake,
                clock_start=START,
                rate=args.rate,
                log=tmp_path / "busy.log",
                idle=args.idle,
            )
            print("start-up pass with a nudge backlog:", json.dumps(busy), flush=True)
        swept = None
        if args.sweep_hours > 0:
            copy = tmp_path / "sweep.sqlite3"
            copy_db(db, copy)
            swept = await sweep(copy, args.sweep_hours, args.rate)
            print("sweep of hourly passes (in-process):", json.dumps(swept), flush=True)

    p99, idle_p99 = first["help_p99_ms"], first["help_idle_p99_ms"]
    rate_while = busy["nudge_rate_during_pass"]
    result = {
        "users": args.users,
        "latency_s": args.latency,
        "startup_pass_s": first["pass_s"],
        "startup_pass_cpu_s": first["pass_cpu_s"],
        "startup_rows_added": first["rows_added"],
        "startup_pass_with_backlog_s": busy["pass_s"],
        "restart_pass_s": hourly["pass_s"],
        "restart_pass_cpu_s": hourly["pass_cpu_s"],
        "restart_rows_added": hourly["rows_added"],
        "restart_users_looked_at": hourly["users_looked_at"],
        "help_p99_during_restart_pass_ms": hourly["help_p99_ms"],
        "hourly_pass_cpu_median_s": None if swept is None else swept["cpu_median_s"],
        "hourly_pass_cpu_p90_s": None if swept is None else swept["cpu_p90_s"],
        "hourly_pass_cpu_max_s": None if swept is None else swept["cpu_max_s"],
        "sweep_longest_loop_hold_ms": None if swept is None else swept["longest_loop_hold_ms"],
        "help_p50_during_pass_ms": first["help_p50_ms"],
        "help_p99_during_pass_ms": p99,
        "help_p99_idle_ms": idle_p99,
        "help_p99_ratio_pass_vs_idle": round(p99 / idle_p99, 2) if p99 and idle_p99 else None,
        "help_p99_during_pass_with_backlog_ms": busy["help_p99_ms"],
        "help_p99_idle_with_backlog_ms": busy["help_idle_p99_ms"],
        "nudge_rate_during_pass": rate_while,
        "nudge_ratio_during_pass": None if rate_while is None else round(rate_while / args.rate, 3),
        "peak_rss_mb": max(first["peak_rss_mb"], hourly["peak_rss_mb"], busy["peak_rss_mb"]),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())

"""Nudge fan-out: N users due at the same minute, sent by the real `python -m bot`.

    .venv/bin/python bench/nudge_fanout.py                # 100,000 users, at 0 and 100 ms
    .venv/bin/python bench/nudge_fanout.py --users 5000   # quicker
    .venv/bin/python bench/nudge_fanout.py --latency 0.1  # one round-trip time only

What it does, in a temp directory, at a fixed instant (Wednesday 9 Dec 2026 12:00 UTC, the
bot's `BOT_CLOCK_START` and the seeding clock: no monthly massage nudge falls within the
48 h the bot plans, so a run on the first Saturday of a month measures the same thing):
1. Seeds N Telegram users, each with a weekly session 30 minutes after that instant and
   that session's pending pre-workout nudge already in the outbox, due then (what a
   previous process would have planned): the restart-with-a-full-outbox case.
2. For each --latency (default 0 and 0.1 s: every Bot API answer that late, like a real
   round trip), starts the fake Telegram Bot API (tests/fakes/telegram_api.py) in this
   process and `python -m bot` as a subprocess pointed at it (real python-telegram-bot,
   real SQLite), each run on a fresh copy of the seeded files.
3. High-rate run: TELEGRAM_SEND_RATE=--rate (default 1000/s, the settings' maximum) until
   every user got a nudge. Start-up = process spawn until the first nudge reaches the fake
   (imports, PTB initialise and recovery included); "ready" = until the service logs that
   it is ready to dispatch. RSS = the bot process's peak resident memory (psutil).
   Achieved rate = sends / (last arrival - first arrival) at the fake.
4. Default-rate run: a fresh file of --sample-users users at the default 25/s, stopped
   after --window seconds of sending (a full 100k fan-out at 25/s takes over an hour);
   achieved = arrivals in the window / window.
Duplicates = messages beyond the first per chat; lost = users with no message at the end
of the high-rate run. p99 lateness = sent_at - due_at from the outbox, counted from the
bot's start for nudges due before it (at 1000/s, 100,000 nudges take 100 s to go out, so
the last ones are ~100 s late by construction). Round trip and sends in flight: what the
bot logged at its stop. At 100 ms the sends in flight are capped at 64: 640/s at most.
The last line is JSON, one entry per latency.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.nudges import HORIZON, plan_nudges  # noqa: E402
from bot.storage import Storage  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.processes import start_bot, stop_gracefully  # noqa: E402

FIRST_CHAT = 800_000_000
START = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)  # a Wednesday: no massage nudge within 48 h
STOP_LINE = re.compile(r"round trip ([\d.]+) ms .*?(\d+) sends in flight allowed")


def seed(db_path: Path, users: int) -> None:
    now = START
    session = now + timedelta(minutes=30)  # its nudge is due at START
    hhmm = f"{session:%H:%M}"
    with Storage(db_path, clock=lambda: now) as store, store.transaction():
        for n in range(users):
            chat = str(FIRST_CHAT + n)
            user = store.user_for("telegram", chat, "UTC")
            user.chat_id = chat
            user.onboarded = True
            store.save_user(user)
            entry = store.add_schedule(user.id, hhmm, weekday=session.weekday(), workout="run")
            planned = plan_nudges(user, [entry], session - timedelta(minutes=31), now + HORIZON)
            store.add_planned(user.id, planned)


def lateness_p99(db_path: Path, started: datetime = START) -> float:
    """p99 of how late nudges went out, counted from when the bot started (its clock reads
    START then) if they were due before: the wait before the start is the benchmark's."""
    with Storage(db_path) as store:
        rows = store.db.execute(
            "SELECT due_at, sent_at FROM nudges WHERE status = 'sent'"
        ).fetchall()
    if not rows:
        return 0.0
    late = sorted(
        (datetime.fromisoformat(sent) - max(datetime.fromisoformat(due), started)).total_seconds()
        for due, sent in rows
    )
    return round(late[min(len(late) - 1, int(len(late) * 0.99))], 2)


async def run(  # noqa: PLR0917
    db_path: Path,
    fake: FakeTelegram,
    rate: float,
    log: Path,
    users: int,
    window: float | None,
) -> dict[str, Any]:
    fake.clear_calls()
    spawned = time.monotonic()
    process = start_bot(db_path, fake, clock_start=START, rate=rate, log=log)
    ps = psutil.Process(process.pid)
    rss = 0
    first: float | None = None
    ready_at: float | None = None
    deadline = spawned + 30 + (window if window is not None else users / min(rate, 20.0))
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            # The fake keeps every call it answered. Without this, this process's full
            # garbage collections walk all of them, and the fake stops answering for up to
            # 0.7 s at 100k calls: the pause throttled the bot under test (30k users: 989/s
            # with them, 1002/s without). Frozen objects are skipped by collections.
            gc.freeze()
            rss = max(rss, ps.memory_info().rss)
            if ready_at is None and "ready to dispatch" in log.read_text(errors="replace"):
                ready_at = time.monotonic()
            calls = fake.calls_to("sendMessage")
            if calls and first is None:
                first = calls[0].at
            if len(calls) >= users:
                break
            if window is not None and first is not None and time.monotonic() - first > window:
                break
            if process.poll() is not None:
                raise RuntimeError(f"the bot exited: see {log}")
    finally:
        await stop_gracefully(process, timeout=30)
    calls = fake.calls_to("sendMessage")
    if not calls:
        raise RuntimeError(f"no nudge was sent: see {log}")
    first = calls[0].at
    if window is not None:
        in_window = [c for c in calls if c.at <= first + window]
        achieved = len(in_window) / window
    else:
        span = calls[-1].at - first
        achieved = (len(calls) - 1) / span if span > 0 else float(len(calls))
    per_chat = Counter(int(c.params["chat_id"]) for c in calls)
    stopped = STOP_LINE.findall(log.read_text(errors="replace"))
    return {
        "startup_s": round(first - spawned, 2),
        "rss_mb": round(rss / 2**20, 1),
        "achieved_rate": round(achieved, 1),
        "sent": len(calls),
        "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
        "unsent_at_stop": users - len(per_chat),
        "ready_s": None if ready_at is None else round(ready_at - spawned, 2),
        "completed": len(per_chat) >= users,
        "round_trip_ms": float(stopped[-1][0]) if stopped else None,
        "sends_in_flight": int(stopped[-1][1]) if stopped else None,
    }


async def one_latency(
    args: argparse.Namespace, latency: float, tmp_path: Path, templates: tuple[Path, Path]
) -> dict[str, Any]:
    """The high-rate and the default-rate run with every answer `latency` s late."""
    tag = f"{latency * 1000:g}ms"
    high_db, sample_db = tmp_path / f"high-{tag}.sqlite3", tmp_path / f"sample-{tag}.sqlite3"
    for template, copy in zip(templates, (high_db, sample_db), strict=True):
        shutil.copyfile(template, copy)
    async with FakeTelegram(latency=latency) as fake:
        high = await run(
            high_db, fake, args.rate, tmp_path / f"high-{tag}.log", args.users, args.high_window
        )
        high["p99_lateness_s"] = lateness_p99(high_db)
        print(f"{tag} high rate:", json.dumps(high), flush=True)
        sample = await run(
            sample_db,
            fake,
            args.default_rate,
            tmp_path / f"sample-{tag}.log",
            args.sample_users,
            args.window,
        )
        print(f"{tag} default rate ({args.window:.0f} s window):", json.dumps(sample), flush=True)
    return {
        "latency_s": latency,
        "users": args.users,
        "startup_s": high["startup_s"],
        "ready_s": high["ready_s"],
        "rss_mb": high["rss_mb"],
        "configured_rate": args.rate,
        "achieved_rate": high["achieved_rate"],
        "ratio": round(high["achieved_rate"] / args.rate, 3),
        "sends_in_flight": high["sends_in_flight"],
        "round_trip_ms": high["round_trip_ms"],
        "duplicates": int(high["duplicates"] + sample["duplicates"]),
        "lost": int(high["unsent_at_stop"]) if high["completed"] else None,
        "unsent_at_stop": high["unsent_at_stop"],
        "p99_lateness_s": high["p99_lateness_s"],
        "default_configured_rate": args.default_rate,
        "default_achieved_rate": sample["achieved_rate"],
        "default_ratio": round(sample["achieved_rate"] / args.default_rate, 3),
        "default_sends_in_flight": sample["sends_in_flight"],
        "default_window_s": args.window,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--default-rate", type=float, default=25.0)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--sample-users", type=int, default=2_000)
    parser.add_argument(
        "--high-window", type=float, default=None, help="time-box the high-rate run (s)"
    )
    parser.add_argument(
        "--latency",
        type=float,
        nargs="+",
        default=[0.0, 0.1],
        help="seconds every Bot API answer takes; one run each (default: 0 and 0.1)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        templates = (tmp_path / "high.sqlite3", tmp_path / "sample.sqlite3")
        began = time.monotonic()
        seed(templates[0], args.users)
        seed(templates[1], args.sample_users)
        seconds = time.monotonic() - began
        print(f"seeded {args.users:,} + {args.sample_users:,} users in {seconds:.1f} s")
        results = [
            await one_latency(args, latency, tmp_path, templates) for latency in args.latency
        ]
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())

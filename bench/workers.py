"""The message path with several workers: 1, 2 and 3 `python -m bot` processes on one
PostgreSQL database, and 1 on SQLite, in one run, against the fake Bot API.

    .venv/bin/python bench/workers.py [--updates 1500] [--rounds 3]

Every worker receives Telegram's posts on a webhook of its own (with several workers all
receive: docs/scaling.md); the bench is the load balancer, posting each update to the next
worker of the group in turn, `--in-flight` posts at a time per worker. Messages rotate
through a soreness report, "what should I roll?" and /help, each from another of `--updates`
returning users (one message each per round: a user's updates are seconds apart in life,
so the ordering across workers costs its 20 ms settle and one batched check, not waits on
a sibling), each answered with one message. A round times one group from its first post
to the last answer (`sendMessage`) recorded by the fake; the groups take turns within each
round (their order rotating), because this machine's speed drifts by up to 2x within a
minute, and each figure is the median over rounds. The baseline is one worker on
PostgreSQL, measured in the same run; ratios are the median of the per-round ratios.

The PostgreSQL server is a throwaway one (tests/pg.py: initdb and pg_ctl, as the `postgres`
user when run as root, fsync off), each group on a database of its own. The fake Bot API,
the driver and PostgreSQL share this machine's cores with the workers, as they would not
in production: the ratios understate what a worker adds on a machine of its own.

Also measured, per update: the CPU time of the workers (their processes' user + system
time over the timed rounds) and of the PostgreSQL server's processes, the figures
docs/scaling.md sizes workers with.

Then (`--nudges`, 600 by default) 3 workers at TELEGRAM_SEND_RATE=30 fan out that many due
nudges together: the sends per second the fake Bot API received from all of them, overall
and in the busiest second, and each worker's share.

Goals: adding a worker never lowers throughput; 2 workers >= 1.3x one on a 2-core machine;
3 workers at 30/s send <= 30/s together. The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.telegram_api import FakeTelegram
from tests.pg import PostgresServer, _binaries
from tests.workers import WEBHOOK_PATH, Worker, seed_due_nudges, start_worker, wait_for

TEXTS = ("calves 6/10, quads a bit tight", "what should I roll? I have 10 min", "/help")
FIRST_USER = 730_000_000
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Group:
    """One configuration: its workers, and its figures per round."""

    name: str
    workers: list[Worker]
    fake: FakeTelegram
    per_s: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    db_cpu_ms: list[float] = field(default_factory=list)
    bench_cpu_ms: list[float] = field(default_factory=list)  # the fake Bot API and driver


def cpu_seconds(pid: int) -> float:
    """A process's user + system CPU time so far (0.0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def postgres_cpu_seconds() -> float:
    """The CPU time of every process named postgres (the throwaway server's)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
    return total


async def drive(group: Group, updates: int, in_flight: int, first_user: int) -> float:
    """Post `updates` round-robin to the group's workers; seconds until all are answered."""
    fake = group.fake
    assert fake.webhook is not None
    secret = str(fake.webhook["secret_token"])
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    urls = [f"http://127.0.0.1:{w.webhook_port}{WEBHOOK_PATH}" for w in group.workers]
    bodies = [fake.push_text(TEXTS[n % len(TEXTS)], user_id=first_user + n) for n in range(updates)]
    answered_before = len(fake.calls_to("sendMessage"))
    slots = asyncio.Semaphore(in_flight * len(urls))
    turn = itertools.cycle(urls)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def post(url: str, body: dict[str, object]) -> None:
            async with slots, http.post(url, json=body, headers=headers) as answer:
                if answer.status != 200:
                    raise RuntimeError(f"the worker answered {answer.status}")

        started = time.perf_counter()
        await asyncio.gather(*(post(next(turn), body) for body in bodies))
        await wait_for(
            lambda: len(fake.calls_to("sendMessage")) - answered_before >= updates,
            120,
            f"{group.name}: every answer",
        )
        return time.perf_counter() - started


@contextlib.contextmanager
def postgres() -> Iterator[PostgresServer]:
    binaries = _binaries()
    if binaries is None:
        sys.exit("bench/workers.py needs PostgreSQL's initdb and pg_ctl")
    server = PostgresServer(binaries)
    server.start()
    try:
        yield server
    finally:
        server.stop()


GROUPS = ("postgres-1", "postgres-2", "postgres-3", "sqlite-1")


async def main(
    updates: int, rounds: int, in_flight: int, names: tuple[str, ...] = GROUPS
) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    with postgres() as server:
        async with contextlib.AsyncExitStack() as fakes:
            groups: list[Group] = []

            async def group(name: str, n: int, sqlite: bool = False) -> Group:
                # A fake Bot API each: every group registers a webhook secret of its own.
                fake = await fakes.enter_async_context(FakeTelegram())
                url = None if sqlite else server.url(server.create_database())
                workers = [
                    start_worker(
                        folder / f"{name}-{i}.log",
                        token=fake.token,
                        base_url=fake.base_url,
                        database_url=url,
                        db_path=folder / f"{name}.sqlite3",
                        rate=1000,
                        webhook=True,
                    )
                    for i in range(n)
                ]
                return Group(name, workers, fake)

            try:
                for name in names:
                    store, n = name.split("-")
                    groups.append(await group(name, int(n), sqlite=store == "sqlite"))
                every = [w for g in groups for w in g.workers]
                await wait_for(lambda: all(w.ready() for w in every), 60, "every worker")
                await wait_for(
                    lambda: all(g.fake.webhook is not None for g in groups), 10, "the webhooks"
                )
                for g in groups:  # warm-up: imports, caches, connections, the users' rows
                    await drive(g, updates, in_flight, FIRST_USER)
                for r in range(rounds):
                    for g in groups[r % len(groups) :] + groups[: r % len(groups)]:
                        pids = [w.process.pid for w in g.workers]
                        cpu, db_cpu = sum(map(cpu_seconds, pids)), postgres_cpu_seconds()
                        own = cpu_seconds(os.getpid())
                        seconds = await drive(g, updates, in_flight, FIRST_USER)
                        cpu = sum(map(cpu_seconds, pids)) - cpu
                        db_cpu = postgres_cpu_seconds() - db_cpu
                        own = cpu_seconds(os.getpid()) - own
                        g.bench_cpu_ms.append(own / updates * 1000)
                        g.per_s.append(updates / seconds)
                        g.cpu_ms.append(cpu / updates * 1000)
                        g.db_cpu_ms.append(db_cpu / updates * 1000)
                        print(
                            f"round {r + 1} {g.name:11} {updates / seconds:7.0f} updates/s  "
                            f"workers {cpu / updates * 1000:.2f} ms CPU/update, "
                            f"PostgreSQL {db_cpu / updates * 1000:.2f}, "
                            f"fake and driver {own / updates * 1000:.2f}",
                            flush=True,
                        )
            finally:
                for worker in (w for g in groups for w in g.workers):
                    if worker.process.poll() is None:
                        worker.process.terminate()
                for worker in (w for g in groups for w in g.workers):
                    worker.stop()

    base = groups[0]
    result: dict[str, object] = {"updates": updates, "rounds": rounds, "cores": os.cpu_count()}
    print(
        f"\n{'group':11} {'updates/s':>9} {'ratio':>6} {'CPU ms/update':>14} {'PG ms/update':>13}"
    )
    for g in groups:
        ratio = statistics.median(a / b for a, b in zip(g.per_s, base.per_s, strict=True))
        row = {
            "updates_per_s": round(statistics.median(g.per_s)),
            "ratio": round(ratio, 2),
            "worker_cpu_ms_per_update": round(statistics.median(g.cpu_ms), 2),
            "postgres_cpu_ms_per_update": round(statistics.median(g.db_cpu_ms), 2),
        }
        result[g.name] = row
        print(
            f"{g.name:11} {row['updates_per_s']:>9} {row['ratio']:>6} "
            f"{row['worker_cpu_ms_per_update']:>14} {row['postgres_cpu_ms_per_update']:>13}"
        )
    return result


async def shared_rate(
    server: PostgresServer, nudges: int, rate: float, n: int = 3
) -> dict[str, Any]:
    """`n` workers at TELEGRAM_SEND_RATE=`rate` fan out `nudges` due nudges together: the
    rate measured at the fake Bot API (sendMessage arrivals), overall and in the busiest
    second, and how many each worker sent."""
    folder = Path(tempfile.mkdtemp(prefix="bench-rate-"))
    url = server.url(server.create_database())
    seed_due_nudges(url, nudges, datetime.now(UTC) + timedelta(seconds=6), FIRST_USER)
    async with FakeTelegram() as fake:
        workers = [
            start_worker(
                folder / f"rate-{i}.log",
                token=fake.token,
                base_url=fake.base_url,
                database_url=url,
                rate=rate,
            )
            for i in range(n)
        ]
        try:
            await wait_for(lambda: all(w.ready() for w in workers), 60, "the workers")
            await wait_for(
                lambda: len(fake.calls_to("sendMessage")) >= nudges, nudges / rate * 3, "nudges"
            )
        finally:
            for worker in workers:
                worker.process.terminate()
            for worker in workers:
                worker.stop()
        at = sorted(call.at for call in fake.calls_to("sendMessage"))
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT claimed_by, count(*) FROM nudges WHERE status = 'sent' GROUP BY 1 ORDER BY 1"
        ).fetchall()
    busiest = max(sum(1 for t in at if start <= t < start + 1.0) for start in at)
    return {
        "workers": n,
        "configured_per_s": rate,
        "sent": len(at),
        "sent_per_s": round((len(at) - 1) / (at[-1] - at[0]), 2),
        "busiest_second": busiest,
        "per_worker": [int(count) for _, count in rows],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=1500, help="updates per group and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    parser.add_argument("--in-flight", type=int, default=32, help="posts at a time per worker")
    parser.add_argument(
        "--groups", default=",".join(GROUPS), help="which, e.g. postgres-1,postgres-2 (all)"
    )
    parser.add_argument(
        "--nudges", type=int, default=600, help="nudges 3 workers fan out at 30/s (600; 0: none)"
    )
    args = parser.parse_args()
    names = tuple(args.groups.split(","))
    result = asyncio.run(main(args.updates, args.rounds, args.in_flight, names))
    if args.nudges:
        with postgres() as server:
            rate = asyncio.run(shared_rate(server, args.nudges, 30.0))
        print(
            f"\n3 workers at TELEGRAM_SEND_RATE=30: {rate['sent_per_s']} sends/s together at the "
            f"fake Bot API, {rate['busiest_second']} in the busiest second; per worker "
            f"{rate['per_worker']}"
        )
        result["shared_rate"] = rate
    print(json.dumps(result))

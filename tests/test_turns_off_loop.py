"""Coach turns on a store that blocks (PostgreSQL) run in worker threads, never on the event
loop; on SQLite they stay on the loop. Many turns at once on PostgreSQL lose nothing."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

from bot.adapters.policy import run_turn
from bot.core.coach import Coach
from bot.core.turn import Sender
from bot.storage import Storage
from bot.storage_pg import PgStorage

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def _threads_of(coach: Coach) -> list[int]:
    """Record the thread each turn runs in."""
    seen: list[int] = []
    respond = coach.respond

    def recording(sender: Sender, text: str):  # type: ignore[no-untyped-def]
        seen.append(threading.get_ident())
        return respond(sender, text)

    coach.respond = recording  # type: ignore[method-assign]
    return seen


async def test_a_turn_on_postgres_runs_in_a_worker_thread(pg_url: str) -> None:
    with PgStorage(pg_url) as store:
        coach = Coach(store)
        seen = _threads_of(coach)
        outcome = await run_turn(coach, coach.respond, Sender("telegram", "1"), "calves 6/10")
        assert outcome.replies
        assert seen and seen[0] != threading.get_ident()
        user = store.user_for("telegram", "1", "UTC")
        assert [r.severity for r in store.soreness_since(user.id, LONG_AGO)] == [6]


async def test_a_turn_on_sqlite_stays_on_the_event_loop(tmp_path: Path) -> None:
    with Storage(tmp_path / "bot.sqlite3") as store:
        coach = Coach(store)
        seen = _threads_of(coach)
        await run_turn(coach, coach.respond, Sender("telegram", "1"), "calves 6/10")
        assert seen == [threading.get_ident()]


async def test_many_turns_at_once_on_postgres_lose_nothing(pg_url: str) -> None:
    """Turns of 4 users, 5 each, all at once in worker threads: every report is kept, and
    the loop keeps ticking meanwhile."""
    with PgStorage(pg_url) as store:
        coach = Coach(store)
        ticks = 0

        async def ticking() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        ticker = asyncio.create_task(ticking())
        turns = [
            run_turn(coach, coach.respond, Sender("telegram", str(who)), f"calves {n}/10")
            for who in range(4)
            for n in range(1, 6)
        ]
        outcomes = await asyncio.gather(*turns)
        ticker.cancel()
        assert all(outcome.handled_as != "error" for outcome in outcomes)
        for who in range(4):
            user = store.user_for("telegram", str(who), "UTC")
            severities = sorted(r.severity for r in store.soreness_since(user.id, LONG_AGO))
            assert severities == [1, 2, 3, 4, 5]
        assert ticks > 0


async def test_a_failed_turn_on_postgres_leaves_no_trace(pg_url: str) -> None:
    with PgStorage(pg_url) as store:
        coach = Coach(store)
        sender = Sender("telegram", "1")
        await run_turn(coach, coach.respond, sender, "hi")
        user = store.user_for("telegram", "1", "UTC")

        def failing_save(*args: object) -> None:
            raise RuntimeError("the database went away mid-turn")

        store.save_user = failing_save  # type: ignore[method-assign,assignment]
        outcome = await run_turn(coach, coach.respond, sender, "calves 6/10")
        assert outcome.handled_as == "error"
        assert store.soreness_since(user.id, LONG_AGO) == []  # the report was rolled back

"""The nudge scheduler on PostgreSQL (a throwaway server, tests/pg.py).

The core tests of tests/test_scheduler.py run here again: the `sqlite_store` fixture below
hands them a `PgStorage`. Then what only PostgreSQL does: the scheduler on a loop of its
own (`run_nudges_beside`), sending through the bot's loop, and a restart.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.scheduler import run_nudges_beside
from bot.storage_pg import PgStorage

# Collected here too, on PostgreSQL (they use only the Outbox API).
from tests.test_scheduler import (  # noqa: F401
    NOW,
    FakeMessenger,
    poll,
    seed,
    service,
    test_a_429_returns_the_rest_of_the_claimed_group_unsent_and_in_order,
    test_a_failed_claim_loses_no_permit_no_mark_and_no_nudge,
    test_a_replanned_user_is_planned_again_at_the_next_pass,
    test_a_sent_mark_rides_with_the_next_claim,
    test_an_hourly_pass_looks_at_a_weeks_share_of_the_users,
    test_blocked_marks_the_user_unreachable_and_later_nudges_are_not_sent,
    test_every_due_nudge_is_sent_once_in_order_of_due_time,
    test_future_nudges_wait_and_the_rendered_nudge_has_its_buttons,
    test_horizon_pass_plans_users_idempotently,
    test_one_commit_claims_a_group_and_a_stop_returns_its_unsent_rows,
    test_one_request_in_flight_per_chat,
    test_paused_users_get_nothing,
    test_retry_later_pauses_the_sender_and_the_nudge_is_sent_after,
    test_start_and_stop_with_apscheduler_sends_due_nudges,
    test_start_up_sends_the_due_backlog_before_planning_everyone,
)


@pytest.fixture
def sqlite_store(pg_url: str) -> Iterator[PgStorage]:
    """PostgreSQL under the name tests/test_scheduler.py's tests ask for."""
    with PgStorage(pg_url) as store:
        yield store


async def test_beside_the_bot_loop_the_scheduler_sends_through_it(pg_url: str) -> None:
    with PgStorage(pg_url) as store:
        seed(store, 5, NOW - timedelta(minutes=1))
        bot_loop = threading.get_ident()
        sent_on: set[int] = set()
        messenger = FakeMessenger()
        original = messenger.send

        async def send(user, reply):  # type: ignore[no-untyped-def]
            sent_on.add(threading.get_ident())
            return await original(user, reply)

        messenger.send = send  # type: ignore[method-assign]
        options = {"rates": {"telegram": 1000.0}, "clock": lambda: NOW, "poll_seconds": 0.05}
        async with run_nudges_beside(store, [messenger], per_chat_interval=0.0, **options):
            await poll(lambda: len(messenger.sent) == 5, seconds=10)
            # The bot's loop is free meanwhile: it answers at once.
            await asyncio.wait_for(asyncio.sleep(0), timeout=1)
        assert len(messenger.sent) == 5
        assert sent_on == {bot_loop}  # every send ran on the bot's loop
        assert store.nudge_counts()["sent"] == 5  # and was recorded before the stop returned


async def test_beside_a_start_up_error_is_raised_to_the_bot(pg_url: str) -> None:
    with PgStorage(pg_url) as store:
        store.close()  # a store that cannot answer: recover() fails at start
        with pytest.raises(Exception, match="closed"):
            async with run_nudges_beside(store, [FakeMessenger()]):
                pass


async def test_restart_fails_what_was_in_flight_and_sends_the_rest(pg_url: str) -> None:
    with PgStorage(pg_url) as store:
        [old] = seed(store, 1, NOW - timedelta(minutes=20))
        fresh_user = store.user_for("telegram", "fresh", "UTC")
        fresh = store.enqueue_nudge(
            fresh_user.id, "massage", NOW - timedelta(minutes=10), {"ref": "2026-11"}
        )
        cut_user = store.user_for("telegram", "cut", "UTC")
        cut = store.enqueue_nudge(cut_user.id, "massage", NOW - timedelta(minutes=1), {"ref": "m"})
        assert fresh is not None and cut is not None
        assert store.claim_nudge(cut)  # the process died between claim and mark
    with PgStorage(pg_url) as store:
        messenger = FakeMessenger()
        nudges = service(store, messenger)
        assert nudges.recover() == (1, 1)
        await nudges.drain("telegram", wait=True)
        assert messenger.chats() == ["fresh"]
        assert store.get_nudge(old).status == "missed"  # type: ignore[union-attr]
        assert store.get_nudge(cut).status == "failed"  # type: ignore[union-attr]

"""Several `python -m bot` workers on one PostgreSQL database (docs/scaling.md), as real
processes against the fake Bot API:

- they drain one outbox, each nudge at most once, also when one of them is killed with -9
  mid-fan-out: the survivors finish it and fail only the dead worker's sends in flight;
- together they keep one send budget: 3 workers at TELEGRAM_SEND_RATE=30 send <= 30/s;
- one planning pass at a time (the planner's advisory lock);
- with webhooks every worker receives, and one user's updates are handled in order even
  when two workers get them at the same moment.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import psycopg
import pytest

from bot.core.clock import system_clock
from bot.scheduler.service import INTERRUPTED, PLANNER, NudgeService
from bot.storage_pg import PgStorage
from tests.fakes.telegram_api import FakeTelegram
from tests.workers import (
    WEBHOOK_PATH,
    Worker,
    seed_due_nudges,
    start_worker,
    stopped_at_exit,
    wait_for,
)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
FIRST_CHAT = 710_000_000


def seed(url: str, users: int, due: datetime) -> None:
    seed_due_nudges(url, users, due, FIRST_CHAT)


def workers_for(
    fake: FakeTelegram, url: str, tmp_path: Path, n: int, **options: object
) -> list[Worker]:
    return [
        start_worker(
            tmp_path / f"worker{i}.log",
            token=fake.token,
            base_url=fake.base_url,
            database_url=url,
            **options,  # type: ignore[arg-type]
        )
        for i in range(n)
    ]


def sends(fake: FakeTelegram) -> list[float]:
    return [call.at for call in fake.calls_to("sendMessage")]


def drained(url: str) -> bool:
    """Nothing due is pending, nothing is in flight (planned-ahead rows may wait)."""
    with PgStorage(url) as store:
        due = store.next_due("telegram")
        return store.nudge_counts()["sending"] == 0 and (due is None or due > system_clock())


def outbox(url: str) -> list[tuple[int, str, str | None, int | None]]:
    """(chat, status, error, claimed_by) of every seeded nudge."""
    with PgStorage(url) as store, store.pool.connection() as conn:
        rows = conn.execute(
            "SELECT u.chat_id, n.status, n.error, n.claimed_by FROM nudges n "
            "JOIN users u ON u.id = n.user_id WHERE n.kind = 'pre_workout'"
        ).fetchall()
    return [(int(chat), status, error, claimed) for chat, status, error, claimed in rows]


@pytest.mark.slow
async def test_three_workers_send_each_nudge_at_most_once_when_one_is_killed_9(
    pg_url: str, tmp_path: Path
) -> None:
    users = 600
    seed(pg_url, users, datetime.now(UTC) + timedelta(seconds=3.5))  # due once all are up
    async with FakeTelegram() as fake:
        with stopped_at_exit(workers_for(fake, pg_url, tmp_path, 3, rate=200)) as workers:
            await wait_for(lambda: all(w.ready() for w in workers), 30, "three workers")
            await wait_for(lambda: len(sends(fake)) >= 150, 30, "the fan-out to start")
            victim = workers[0]
            victim.kill_9()
            assert len(sends(fake)) < users, "the fan-out finished before the kill"
            await wait_for(lambda: drained(pg_url), 60, "the survivors to drain the outbox")
            survivors = {w.worker_id for w in workers[1:]}
            assert all(w.process.poll() is None for w in workers[1:])
        per_chat = Counter(int(call.params["chat_id"]) for call in fake.calls_to("sendMessage"))

    duplicates = {chat: n for chat, n in per_chat.items() if n > 1}
    assert duplicates == {}, f"sent twice: {list(duplicates.items())[:5]}"
    rows = outbox(pg_url)
    interrupted = {(chat, claimed) for chat, _, error, claimed in rows if error == INTERRUPTED}
    # Only the dead worker's sends in flight were failed, and by the survivors, no restart.
    assert {claimed for _, claimed in interrupted} <= {victim.worker_id}
    assert len(interrupted) <= 64
    assert {status for chat, status, error, _ in rows if error != INTERRUPTED} == {"sent"}
    missing = set(range(FIRST_CHAT, FIRST_CHAT + users)) - set(per_chat)
    assert missing <= {chat for chat, _ in interrupted}, "lost without an interrupted record"
    claimers = Counter(claimed for _, status, _, claimed in rows if status == "sent")
    assert survivors <= set(claimers), "every survivor took part in the fan-out"


@pytest.mark.slow
async def test_three_workers_at_rate_30_send_at_most_30_a_second_together(
    pg_url: str, tmp_path: Path
) -> None:
    users = 100
    seed(pg_url, users, datetime.now(UTC) + timedelta(seconds=3.5))
    async with FakeTelegram() as fake:
        with stopped_at_exit(workers_for(fake, pg_url, tmp_path, 3, rate=30)) as workers:
            await wait_for(lambda: all(w.ready() for w in workers), 30, "three workers")
            await wait_for(lambda: len(sends(fake)) >= users, 30, "every nudge")
        at = sorted(sends(fake))

    sustained = (len(at) - 1) / (at[-1] - at[0])
    busiest = max(sum(1 for t in at if start <= t < start + 1.0) for start in at)
    claimers = Counter(claimed for _, status, _, claimed in outbox(pg_url) if status == "sent")
    assert len(claimers) == 3, f"all three workers sent: {claimers}"
    assert sustained <= 30.0 * 1.01, f"{sustained:.2f}/s"
    # The bucket holds one token; what a busy machine adds is arrival jitter: a send granted
    # at the end of one second that reaches the fake in the next (two at most).
    assert busiest <= 32, f"{busiest} sends in one second"


async def test_one_planning_pass_at_a_time(pg_url: str) -> None:
    """The planner's lock is a session advisory lock: while one worker holds it, another
    worker's pass plans nothing; once it is free (released, or its worker died), it plans,
    and keeps the role until it stops."""
    with PgStorage(pg_url) as first, PgStorage(pg_url) as second, PgStorage(pg_url) as third:
        for worker in (first, second, third):
            worker.join_workers()
        user = second.user_for("telegram", "42", "UTC")
        second.add_schedule(user.id, "18:00", weekday=None, on_date=None, workout="run")
        service = NudgeService(second, [])
        assert first.try_role(PLANNER)
        assert await service.extend_horizon() == 0  # another worker is planning
        assert second.pending_nudges_of(user.id) == []
        first.leave_workers()  # as a kill -9 does: its session ends, its locks go
        assert await service.extend_horizon() > 0
        assert second.pending_nudges_of(user.id) != []
        assert not third.try_role(PLANNER)  # the planner keeps its role from pass to pass
        await service.stop()
        assert third.try_role(PLANNER)  # ... until it stops


@pytest.mark.slow
async def test_webhooks_on_two_workers_handle_a_users_updates_in_order(
    pg_url: str, tmp_path: Path
) -> None:
    """Each user sends /history (slow: a chart and a body map are drawn) and then /help, and
    the two posts reach two workers at the same moment, /help a little first: every user
    still gets all of /history's answer before /help's."""
    users = [720_000_000 + n for n in range(6)]
    with PgStorage(pg_url) as store:
        for user_id in users:  # something to chart, so that /history draws
            user = store.user_for("telegram", str(user_id), "UTC")
            store.record_soreness(user.id, "calves", 6, datetime.now(UTC) - timedelta(hours=5))
    async with FakeTelegram() as fake:
        with stopped_at_exit(workers_for(fake, pg_url, tmp_path, 2, webhook=True)) as workers:
            await wait_for(lambda: all(w.ready() for w in workers), 30, "two workers")
            await wait_for(lambda: fake.webhook is not None, 10, "the webhook")
            assert fake.webhook is not None
            secret = str(fake.webhook["secret_token"])
            async with aiohttp.ClientSession() as http:

                async def post(worker: Worker, update: dict[str, object], delay: float) -> None:
                    await asyncio.sleep(delay)
                    url = f"http://127.0.0.1:{worker.webhook_port}{WEBHOOK_PATH}"
                    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
                    async with http.post(url, json=update, headers=headers) as answer:
                        assert answer.status == 200

                posts = []
                for user_id in users:
                    first = fake.push_text("/history", user_id=user_id)
                    second = fake.push_text("/help", user_id=user_id)
                    posts += [post(workers[0], first, 0.005), post(workers[1], second, 0.0)]
                await asyncio.gather(*posts)
            answered = lambda: {  # noqa: E731
                int(call.params["chat_id"])
                for call in fake.calls_to("sendMessage")
                if str(call.params.get("text", "")).startswith(HELP)
            }
            await wait_for(lambda: answered() >= set(users), 30, "every answer")
            await asyncio.sleep(0.5)  # anything of /history still coming in
        order: dict[int, list[str]] = {}
        for call in fake.calls:
            chat = call.params.get("chat_id")
            if call.method in ("sendMessage", "sendPhoto") and chat is not None:
                text = str(call.params.get("text", ""))
                kind = "help" if text.startswith(HELP) else call.method
                order.setdefault(int(chat), []).append(kind)

    assert all(order[user][-1] == "help" for user in users), order
    assert all("sendPhoto" in order[user] for user in users), "/history drew its pictures"


HELP = "I help you recover"


def test_a_start_fails_only_the_sends_of_workers_that_are_gone(pg_url: str) -> None:
    """A row in `sending` is failed only when the worker that claimed it no longer holds its
    liveness lock: a live worker may still get Telegram's answer for it."""
    with PgStorage(pg_url) as alive, PgStorage(pg_url) as dying, PgStorage(pg_url) as new:
        for store in (alive, dying, new):
            store.join_workers()
        user = alive.user_for("telegram", "7", "UTC")
        now = datetime.now(UTC)
        ids = [
            alive.enqueue_nudge(user.id, "pre_workout", now - timedelta(seconds=n), {"ref": str(n)})
            for n in (1, 2)
        ]
        assert None not in ids
        assert alive.claim_nudge(ids[0]) and dying.claim_nudge(ids[1])  # type: ignore[arg-type]
        assert new.fail_interrupted() == 0  # both claimers are alive
        dying.leave_workers()  # its session ends, as with a kill -9
        assert new.fail_interrupted(INTERRUPTED) == 1
        statuses = {n: new.get_nudge(n).status for n in ids}  # type: ignore[arg-type, union-attr]
        assert statuses == {ids[0]: "sending", ids[1]: "failed"}
        assert sorted(new.live_workers()) == sorted([alive.worker_id, new.worker_id])


def test_the_send_budget_is_one_bucket_for_every_worker(pg_url: str) -> None:
    with PgStorage(pg_url) as one, PgStorage(pg_url) as two:
        assert one.take_send_token("telegram", rate=10) == 0.0  # the bucket's one token
        wait = two.take_send_token("telegram", rate=10)
        assert 0.0 < wait <= 0.1  # the other worker waits for the refill
        one.pause_sends("telegram", 2.0, rate=10)  # a 429's retry_after, for everyone
        assert two.take_send_token("telegram", rate=10) > 1.9


def test_workers_and_a_bot_that_runs_alone_exclude_each_other(pg_url: str) -> None:
    from bot.storage_pg import BOT_LOCK, WorkerConflictError

    with PgStorage(pg_url) as worker, psycopg.connect(pg_url, autocommit=True) as old:
        got = old.execute("SELECT pg_try_advisory_lock(%s)", (BOT_LOCK,)).fetchone()
        assert got is not None and got[0]  # an older bot, one per database, is running
        with pytest.raises(WorkerConflictError):
            worker.join_workers()
        old.execute("SELECT pg_advisory_unlock(%s)", (BOT_LOCK,))
        worker.join_workers()
        got = old.execute("SELECT pg_try_advisory_lock(%s)", (BOT_LOCK,)).fetchone()
        assert got is not None and not got[0]  # and now the older bot would not start


class _Roles:
    """Workers as adapters see them, in one process: a role goes to the first who asks,
    until it is given back (as the database's advisory locks do across processes)."""

    def __init__(self) -> None:
        self.held: dict[str, object] = {}
        self.asking: object = None

    def for_(self, who: object) -> _Roles:
        view = _Roles()
        view.held, view.asking = self.held, who
        return view

    def try_role(self, role: str) -> bool:
        return self.held.setdefault(role, self.asking) is self.asking


async def test_discord_one_worker_holds_the_gateway_the_others_send_over_rest(
    tmp_path: Path, clock: object
) -> None:
    from bot.adapters.discord import DiscordAdapter
    from bot.core.coach import Coach
    from bot.core.replies import Reply
    from bot.storage import Storage
    from tests.fakes.discord_api import FakeDiscord
    from tests.test_discord_adapter import USER_ID, make_settings

    roles = _Roles()
    async with FakeDiscord() as fake:
        with Storage(tmp_path / "bot.sqlite3") as store:
            coach = Coach(store, clock=clock, default_tz="UTC")  # type: ignore[arg-type]

            def adapter(name: str) -> DiscordAdapter:
                return DiscordAdapter(
                    coach,
                    make_settings(fake, tmp_path),
                    guild_ready_timeout=0.01,
                    workers=roles.for_(name),  # type: ignore[arg-type]
                    takeover_seconds=0.1,
                )

            first, second = adapter("first"), adapter("second")
            async with first.running(), second.running():
                assert len(fake.identifies) == 1  # one gateway session, the first's
                user = store.user_for("discord", str(USER_ID), "UTC")
                assert (await second.send(user, Reply("Time to roll"))).sent  # over REST
                assert len(fake.dms_to(USER_ID)) == 1
                assert first.client is not None
                await first.client.close()  # the gateway's worker goes away (its stop()
                # would also put discord.py's URLs back, shared by both in this process)...
                roles.held.clear()  # ...and with it its lock
                await wait_for(lambda: len(fake.identifies) == 2, 10, "a takeover")


async def test_telegram_one_worker_polls_the_others_send_and_take_over(
    tmp_path: Path, clock: object
) -> None:
    from bot.adapters.telegram import TelegramAdapter
    from bot.core.coach import Coach
    from bot.core.replies import Reply
    from bot.storage import Storage
    from tests.test_telegram_adapter import make_settings

    roles = _Roles()
    async with FakeTelegram() as fake:
        with Storage(tmp_path / "bot.sqlite3") as store:
            coach = Coach(store, clock=clock, default_tz="UTC")  # type: ignore[arg-type]

            def adapter(name: str) -> TelegramAdapter:
                return TelegramAdapter(
                    coach,
                    make_settings(fake, tmp_path),
                    poll_timeout=1,
                    workers=roles.for_(name),  # type: ignore[arg-type]
                    takeover_seconds=0.1,
                )

            first, second = adapter("first"), adapter("second")
            async with first.running(), second.running():
                assert first.application.updater is not None
                assert second.application.updater is not None
                assert first.application.updater.running  # the poller
                assert not second.application.updater.running  # sends only
                user = store.user_for("telegram", "1001", "UTC")
                assert (await second.send(user, Reply("Time to roll"))).sent
                await first.application.updater.stop()  # the poller goes away...
                roles.held.clear()  # ...and with it its lock
                await wait_for(lambda: second.application.updater.running, 10, "a takeover")  # type: ignore[union-attr]
                fake.push_text("/help")
                await fake.wait_for_calls("sendMessage", 2)

"""Discord shards split across workers (DISCORD_SHARD_COUNT > 1, docs/scaling.md): the
fair-share rule, one process running every shard, and two workers on a real PostgreSQL
sharing them (real advisory locks), handing them over when one joins or dies."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord import DiscordAdapter
from bot.adapters.discord.adapter import SHARD, fair_share, shard_round
from bot.core.coach import Coach
from bot.core.ports import Workers
from bot.storage import Storage
from tests.fakes.discord_api import FakeDiscord, shard_of
from tests.test_discord_adapter import make_settings, slash
from tests.workers import Worker, start_worker, stopped_at_exit, wait_for

GUILD = 1200000000000000001  # the fake's guild: on shard 1 of 2
assert shard_of(GUILD, 2) == 1


# --- the rule ----------------------------------------------------------------------


def test_fair_share_is_the_ceiling_of_shards_per_live_worker() -> None:
    assert fair_share(1, 1) == 1
    assert fair_share(2, 2) == 1
    assert fair_share(4, 3) == 2
    assert fair_share(5, 2) == 3
    assert fair_share(2, 5) == 1
    assert fair_share(3, 0) == 3  # no worker seen (yet): this one runs them all


class _Locks:
    """The role locks of several workers, as the database keeps them."""

    def __init__(self) -> None:
        self.owner: dict[int, str] = {}
        self.held: dict[str, set[int]] = {}

    def round(self, worker: str, shard_count: int, live: int) -> tuple[list[int], list[int]]:
        held = self.held.setdefault(worker, set())

        def take(shard: int) -> bool:
            return self.owner.setdefault(shard, worker) == worker

        taken, give_up = shard_round(shard_count, held, live, take)
        for shard in give_up:
            held.discard(shard)
            del self.owner[shard]
        held.update(taken)
        return taken, give_up

    def die(self, worker: str) -> None:
        for shard in self.held.pop(worker, set()):
            del self.owner[shard]


def test_shard_round_spreads_the_shards_and_hands_them_over() -> None:
    locks = _Locks()
    assert locks.round("a", 4, live=1) == ([0, 1, 2, 3], [])  # alone: all of them
    assert locks.round("b", 4, live=2) == ([], [])  # b joined: nothing free yet
    assert locks.round("a", 4, live=2) == ([], [2, 3])  # a keeps its lowest two
    assert locks.round("b", 4, live=2) == ([2, 3], [])
    assert locks.round("c", 4, live=3) == ([], [])  # share 2 each: c is a spare
    assert locks.round("a", 4, live=3) == ([], []) and locks.round("b", 4, live=3) == ([], [])
    locks.die("a")  # its locks go with its connection
    assert locks.round("c", 4, live=2) == ([0, 1], [])  # the spare takes them over
    assert locks.round("b", 4, live=2) == ([], [])
    assert sorted(locks.owner) == [0, 1, 2, 3]
    locks.die("b")
    assert locks.round("c", 4, live=1) == ([2, 3], [])
    assert locks.held == {"c": {0, 1, 2, 3}}


def test_one_shard_is_today_s_single_gateway() -> None:
    assert shard_round(1, set(), 3, lambda _: True) == ([0], [])
    assert shard_round(1, {0}, 3, lambda _: True) == ([], [])


# --- one process, every shard ---------------------------------------------------------


async def test_one_process_runs_every_shard_and_answers_on_each(
    tmp_path: Path, clock: object
) -> None:
    async with FakeDiscord(shard_count=2) as fake:
        with Storage(tmp_path / "bot.sqlite3") as store:
            coach = Coach(store, clock=clock, default_tz="UTC")  # type: ignore[arg-type]
            settings = make_settings(fake, tmp_path, discord_shard_count=2)
            adapter = DiscordAdapter(
                coach, settings, guild_ready_timeout=0.01, identify_seconds=0.05
            )
            async with adapter.running():
                await wait_for(lambda: fake.connected == 2, 10, "two shards")
                assert fake.shards_connected == [[0, 2], [1, 2]]
                assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]
                assert adapter.shards == {0, 1}
                assert len(fake.calls_to("PUT /applications/{application_id}/commands")) == 1
                _, replies = await slash(fake, "help", guild_id=GUILD)  # shard 1
                assert replies
                _, replies = await slash(fake, "help")  # a DM: shard 0
                assert replies


# --- two workers on PostgreSQL -----------------------------------------------------------


def worker_adapter(
    coach: Coach, fake: FakeDiscord, tmp_path: Path, workers: Workers
) -> DiscordAdapter:
    """One worker's Discord adapter for two shards, with short takeover and IDENTIFY waits."""
    return DiscordAdapter(
        coach,
        make_settings(fake, tmp_path, discord_shard_count=2),
        guild_ready_timeout=0.01,
        workers=workers,
        takeover_seconds=0.2,
        identify_seconds=0.3,
    )


async def test_two_workers_split_the_shards_and_take_over_a_dead_one_s(
    pg_url: str, tmp_path: Path, clock: object
) -> None:
    from bot.storage_pg import PgStorage

    async with FakeDiscord(shard_count=2) as fake:
        with (
            Storage(tmp_path / "bot.sqlite3") as store,
            PgStorage(pg_url) as first_db,
            PgStorage(pg_url) as second_db,
        ):
            coach = Coach(store, clock=clock, default_tz="UTC")  # type: ignore[arg-type]

            def shards() -> list[list[int]]:
                return [i["shard"] for i in fake.identifies]

            first_db.join_workers()
            first = worker_adapter(coach, fake, tmp_path, first_db)
            second = worker_adapter(coach, fake, tmp_path, second_db)
            async with first.running():
                await wait_for(lambda: fake.connected == 2, 10, "the first worker's shards")
                assert first.shards == {0, 1}  # alone: it runs both
                syncs = "PUT /applications/{application_id}/commands"
                assert len(fake.calls_to(syncs)) == 1  # by shard 0's worker only

                second_db.join_workers()  # a second worker joins: one shard each
                async with second.running():
                    await wait_for(lambda: second.shards == {1}, 10, "a shard for the second")
                    await wait_for(lambda: fake.connected == 2, 10, "two sessions again")
                    assert first.shards == {0}
                    assert shards() == [[0, 2], [1, 2], [1, 2]]
                    assert len(fake.calls_to(syncs)) == 1  # not per worker
                    _, replies = await slash(fake, "help", guild_id=GUILD)  # to the second
                    assert replies

                    await _die(first, first_db)  # the first worker dies...
                    await wait_for(lambda: second.shards == {0, 1}, 10, "a takeover")
                    await wait_for(lambda: fake.connected == 2, 10, "shard 0 back")
                    assert shards()[-1] == [0, 2]
                    assert len(fake.calls_to(syncs)) == 2  # shard 0's new worker syncs
                    _, replies = await slash(fake, "help")  # a DM: shard 0, now the second's
                    assert replies
                    _, replies = await slash(fake, "help", guild_id=GUILD)
                    assert replies
                    assert second_db.try_role(SHARD.format(0))  # its lock, held already
        at = fake.identified_at
        assert len(at) == 4
        # One IDENTIFY per identify_seconds from the two workers together.
        assert min(b - a for a, b in itertools.pairwise(at)) >= 0.3 * 0.95


async def test_a_worker_beyond_the_shards_sends_over_rest_and_is_the_spare(
    pg_url: str, tmp_path: Path, clock: object
) -> None:
    from bot.core.replies import Reply
    from bot.storage_pg import PgStorage
    from tests.fakes.discord_api import USER_ID

    async with FakeDiscord(shard_count=2) as fake:
        with (
            Storage(tmp_path / "bot.sqlite3") as store,
            PgStorage(pg_url) as a_db,
            PgStorage(pg_url) as b_db,
            PgStorage(pg_url) as c_db,
        ):
            coach = Coach(store, clock=clock, default_tz="UTC")  # type: ignore[arg-type]
            for db in (a_db, b_db, c_db):
                db.join_workers()
            a, b, c = (worker_adapter(coach, fake, tmp_path, db) for db in (a_db, b_db, c_db))
            async with a.running(), b.running(), c.running():
                assert (a.shards, b.shards, c.shards) == ({0}, {1}, set())  # share: 1 each
                await wait_for(lambda: fake.connected == 2, 10, "two shards")
                user = store.user_for("discord", str(USER_ID), "UTC")
                assert (await c.send(user, Reply("Time to roll"))).sent  # over REST
                assert len(fake.dms_to(USER_ID)) == 1

                await _die(a, a_db)
                await wait_for(lambda: c.shards == {0}, 10, "the spare taking shard 0")
                await wait_for(lambda: fake.shards_connected == [[0, 2], [1, 2]], 10, "both")
                assert b.shards == {1}
                _, replies = await slash(fake, "help")  # a DM: shard 0, now the spare's
                assert replies


async def _die(adapter: DiscordAdapter, workers: Any) -> None:
    """As a killed worker: its gateway sessions end and the database drops its locks (its
    `stop()` would also put discord.py's URLs back, shared by every adapter here)."""
    assert adapter._takeover is not None and adapter.client is not None
    adapter._takeover.cancel()
    await adapter.client.close()
    workers.leave_workers()
    adapter.shards = set()


# --- real worker processes ---------------------------------------------------------------


@pytest.mark.slow
async def test_two_worker_processes_run_a_shard_each_and_one_survives_a_kill_9(
    pg_url: str, tmp_path: Path
) -> None:
    """As deployed: `python -m bot` twice, with the production periods (a round of the
    shards every 5 s, one IDENTIFY per 5 s), so this one takes 10-20 s."""
    running = re.compile(rb"Discord: running shards \[([\d, ]*)\] of 2")

    def shards_of(worker: Worker) -> set[int]:
        """What the worker runs, from its last line saying so."""
        found = running.findall(worker.log.read_bytes()) if worker.log.exists() else []
        return {int(n) for n in found[-1].split(b",") if n.strip()} if found else set()

    async with FakeDiscord(shard_count=2) as fake:
        env = {
            "DISCORD_BOT_TOKEN": fake.token,
            "DISCORD_API_BASE_URL": fake.api_base_url,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
            "DISCORD_SHARD_COUNT": "2",
        }
        workers = [
            start_worker(
                tmp_path / f"worker{i}.log",
                token="",
                base_url="http://127.0.0.1:9/bot",
                database_url=pg_url,
                env=env,
            )
            for i in range(2)
        ]
        with stopped_at_exit(workers):
            await wait_for(
                lambda: fake.connected == 2 and all(len(shards_of(w)) == 1 for w in workers),
                40,
                "a shard each",
            )
            assert fake.shards_connected == [[0, 2], [1, 2]]
            victim = next(w for w in workers if shards_of(w) == {1})
            survivor = next(w for w in workers if w is not victim)
            sessions = len(fake.identifies)
            victim.kill_9()
            await wait_for(lambda: shards_of(survivor) == {0, 1}, 20, "a takeover of shard 1")
            await wait_for(
                lambda: len(fake.identifies) > sessions and fake.connected == 2, 15, "shard 1 back"
            )
            assert fake.shards_connected == [[0, 2], [1, 2]]
            assert [i["shard"] for i in fake.identifies[sessions:]] == [[1, 2]]
            _, replies = await slash(fake, "help", guild_id=GUILD)  # shard 1, the survivor
            assert replies
            assert survivor.process.poll() is None

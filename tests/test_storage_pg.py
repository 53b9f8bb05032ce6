"""PostgreSQL `PgStorage` specifics, on a throwaway server (tests/pg.py): migrations,
transactions per thread, claims that several workers can share, and the outbox tests of
tests/test_storage.py that use only the store's API, run here against PostgreSQL.

The contract itself (the `store` and `outbox` fixtures) runs on PostgreSQL in
tests/test_storage.py and tests/test_ports.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import psycopg
import pytest

from bot.core.records import PlannedNudge
from bot.storage_pg import (
    MIGRATIONS,
    SCHEMA_VERSION,
    TABLES,
    NewerSchemaError,
    PgStorage,
    migrate,
    redact_message,
    redact_url,
    schema_version,
)

# The SQLite-named tests of tests/test_storage.py that use only the Store/Outbox API: the
# `sqlite_store` fixture below hands them a PostgreSQL store, so both backends pass them.
from tests.test_storage import (  # noqa: F401  (collected here too, on PostgreSQL)
    test_a_failed_transaction_writes_nothing,
    test_a_replan_clears_the_users_planning_bookmark,
    test_an_unclaimed_nudge_is_pending_again_with_its_attempt_undone,
    test_enqueue_nudge_is_idempotent_on_user_kind_and_due_at,
    test_mark_nudge_records_status_error_and_sent_at,
    test_pending_nudges_are_due_ones_earliest_first_up_to_limit,
    test_users_to_plan_lists_plans_ending_before_an_instant_earliest_first,
)

T0 = datetime(2025, 3, 10, 18, 0, tzinfo=UTC)


@pytest.fixture
def sqlite_store(pg_url: str) -> Iterator[PgStorage]:
    """PostgreSQL under the name tests/test_storage.py's outbox tests ask for."""
    with PgStorage(pg_url) as store:
        yield store


@pytest.fixture
def pg(pg_url: str) -> Iterator[PgStorage]:
    with PgStorage(pg_url) as store:
        yield store


# ---------------------------------------------------------------- schema and migrations


def test_a_new_database_has_every_table_at_the_latest_schema_version(pg: PgStorage) -> None:
    assert SCHEMA_VERSION == len(MIGRATIONS) >= 3
    with pg.pool.connection() as conn:
        assert schema_version(conn) == SCHEMA_VERSION
        found = {
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        }
    assert {*TABLES, "schema_version"} <= found


def test_migration_from_version_1_keeps_data(pg_empty_url: str) -> None:
    with psycopg.connect(pg_empty_url, autocommit=True) as conn:
        assert migrate(conn, target=1) == 1
        assert conn.execute("SELECT to_regclass('nudges')").fetchone() == (None,)
        conn.execute(
            "INSERT INTO users (platform, platform_id, tz, lead_minutes, paused, unreachable, "
            "onboarded, massage_day, massage_time, massage_target, dialog, created_at) "
            "VALUES ('telegram', '7', 'Europe/Berlin', 20, false, false, true, 'sun', '09:00', "
            "2, '{\"step\": \"tz\"}', '2025-01-01T00:00:00+00:00')"
        )
        conn.execute(
            "INSERT INTO soreness (user_id, area, severity, at, note) "
            "VALUES (1, 'calves', 6, '2025-03-10T18:00:00+00:00', 'old report')"
        )
        conn.execute("INSERT INTO schedules (user_id, time, weekday) VALUES (1, '18:00', 0)")

    with PgStorage(pg_empty_url) as store:
        with store.pool.connection() as conn:
            assert schema_version(conn) == SCHEMA_VERSION
        user = store.user_for("telegram", "7", "UTC")
        assert (user.id, user.tz, user.lead_minutes, user.onboarded) == (
            1,
            "Europe/Berlin",
            20,
            True,
        )
        assert user.dialog == {"step": "tz"}
        assert user.created_at == datetime(2025, 1, 1, tzinfo=UTC)
        (report,) = store.soreness_since(user.id, T0)
        assert (report.area, report.severity, report.at, report.note) == (
            "calves",
            6,
            T0,
            "old report",
        )
        # Every user of an older database is planned from now, once.
        ((listed, entries, until),) = store.users_to_plan(T0, 10)
        assert (listed.id, [e.time for e in entries], until) == (1, ["18:00"], None)
        store.set_planned_until([(user.id, T0)])
        assert store.users_to_plan(T0, 10) == []
        assert store.enqueue_nudge(user.id, "pre_workout", T0, {}) is not None
        assert store.user_for("telegram", "8", "UTC").id == 2  # the id sequence goes on


def test_migration_from_version_2_adds_the_later_columns_with_defaults(
    pg_empty_url: str,
) -> None:
    with psycopg.connect(pg_empty_url, autocommit=True) as conn:
        assert migrate(conn, target=2) == 2
        conn.execute(
            "INSERT INTO users (platform, platform_id, tz, lead_minutes, paused, unreachable, "
            "onboarded, massage_day, massage_time, massage_target, dialog, created_at) "
            "VALUES ('telegram', '7', 'UTC', 30, false, false, true, 'sat', '10:00', 3, "
            "'{}', now())"
        )
        conn.execute(
            "INSERT INTO nudges (user_id, kind, due_at, payload, created_at) "
            "VALUES (1, 'pre_workout', '2025-03-10T18:00:00+00:00', '{\"ref\": \"s\"}', now())"
        )
    with PgStorage(pg_empty_url) as store:
        user = store.get_user(1)
        assert user is not None and not user.body_map and not user.weekly_summary
        (nudge,) = store.pending_nudges_of(1)
        assert (nudge.payload, nudge.answer) == ({"ref": "s"}, None)


def test_migration_from_version_3_sends_the_planned_rows_at_their_due_time(
    pg_empty_url: str,
) -> None:
    due = datetime(2025, 3, 10, 18, 0, tzinfo=UTC)
    with psycopg.connect(pg_empty_url, autocommit=True) as conn:
        assert migrate(conn, target=3) == 3
        conn.execute(
            "INSERT INTO users (platform, platform_id, tz, lead_minutes, paused, unreachable, "
            "onboarded, massage_day, massage_time, massage_target, dialog, created_at) "
            "VALUES ('telegram', '7', 'UTC', 30, false, false, true, 'sat', '10:00', 3, "
            "'{}', now())"
        )
        conn.execute(
            "INSERT INTO nudges (user_id, kind, due_at, payload, created_at) "
            "VALUES (1, 'pre_workout', %s, '{\"ref\": \"s\"}', now())",
            (due,),
        )
    with PgStorage(pg_empty_url) as store:
        (nudge,) = store.pending_nudges_of(1)
        assert (nudge.due_at, nudge.send_at) == (due, due)
        assert store.next_due("telegram") == due
        assert [n.id for n in store.pending_nudges(due, 10, "telegram")] == [nudge.id]
        assert store.send_load("telegram", due, due + timedelta(minutes=1)) == {due: 1}


def test_a_database_newer_than_the_code_is_refused(pg_empty_url: str) -> None:
    with PgStorage(pg_empty_url) as store, store.pool.connection() as conn:
        conn.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(NewerSchemaError, match="newer"):
        PgStorage(pg_empty_url)


def test_workers_starting_together_migrate_once(pg_empty_url: str) -> None:
    def open_and_close(_: int) -> int:
        with PgStorage(pg_empty_url) as store, store.pool.connection() as conn:
            return schema_version(conn)

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(open_and_close, range(4))) == [SCHEMA_VERSION] * 4
    with psycopg.connect(pg_empty_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone() == (1,)


# ---------------------------------------------------------------- transactions


def test_a_failed_nested_block_rolls_back_to_where_it_began(pg: PgStorage) -> None:
    user = pg.user_for("telegram", "1", "UTC")
    with pg.transaction():
        pg.record_soreness(user.id, "calves", 5, T0)
        with pytest.raises(RuntimeError), pg.transaction():
            pg.record_soreness(user.id, "quads", 4, T0)
            raise RuntimeError("the inner block fails")
        pg.record_massage(user.id, T0)
    assert [r.area for r in pg.soreness_since(user.id, T0)] == ["calves"]
    assert pg.count_rows(user.id) == 3


def test_a_turn_in_another_thread_does_not_see_an_uncommitted_one(pg: PgStorage) -> None:
    user = pg.user_for("telegram", "1", "UTC")
    written, seen = threading.Event(), threading.Event()
    counted: list[int] = []

    def other_thread() -> None:
        written.wait(10)
        counted.append(len(pg.soreness_since(user.id, T0)))
        seen.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with pg.transaction():
        pg.record_soreness(user.id, "calves", 5, T0)
        written.set()
        assert seen.wait(10)
        assert len(pg.soreness_since(user.id, T0)) == 1  # this thread sees its own write
    thread.join()
    assert counted == [0]
    assert len(pg.soreness_since(user.id, T0)) == 1


def test_a_row_of_an_unknown_user_inside_a_turn_leaves_the_turn_usable(pg: PgStorage) -> None:
    user = pg.user_for("telegram", "1", "UTC")
    with pg.transaction():
        with pytest.raises(LookupError):
            pg.record_soreness(user.id + 1000, "calves", 5, T0)
        pg.record_soreness(user.id, "calves", 5, T0)  # PostgreSQL did not abort the turn
    assert len(pg.soreness_since(user.id, T0)) == 1


def test_two_turns_of_one_user_take_turns(pg_url: str) -> None:
    """`user_for` in a transaction locks the user's row: a second turn of that user (another
    thread or worker) waits for the first to commit, so neither overwrites the other."""
    with PgStorage(pg_url) as first, PgStorage(pg_url) as second:
        user = first.user_for("telegram", "1", "UTC")
        order: list[str] = []
        locked = threading.Event()

        def other_turn() -> None:
            locked.wait(10)
            with second.transaction():
                again = second.user_for("telegram", "1", "UTC")
                order.append(f"second saw lead {again.lead_minutes}")

        thread = threading.Thread(target=other_turn)
        thread.start()
        with first.transaction():
            mine = first.user_for("telegram", "1", "UTC")
            locked.set()
            thread.join(0.3)  # the other turn is waiting on the row
            mine.lead_minutes = 45
            first.save_user(mine)
            order.append("first saved")
        thread.join(10)
        assert order == ["first saved", "second saw lead 45"]
        assert user.lead_minutes == 30


# ---------------------------------------------------------------- several workers


def _seed(store: PgStorage, count: int) -> list[int]:
    ids = []
    for n in range(count):
        user = store.user_for("telegram", str(n), "UTC")
        due = T0 + timedelta(seconds=n)
        nudge_id = store.enqueue_nudge(user.id, "pre_workout", due, {"ref": f"s{n}"})
        assert nudge_id is not None
        ids.append(nudge_id)
    return ids


def test_a_claim_is_taken_once_across_two_workers(pg_url: str) -> None:
    with PgStorage(pg_url) as one, PgStorage(pg_url) as two:
        [nudge_id] = _seed(one, 1)
        assert one.claim_nudge(nudge_id) is True
        assert two.claim_nudge(nudge_id) is False
        assert one.claim_nudge(nudge_id + 1000) is False


def test_a_row_another_worker_is_claiming_is_skipped_not_waited_for(pg_url: str) -> None:
    with PgStorage(pg_url) as one, PgStorage(pg_url) as two:
        ids = _seed(one, 4)
        with one.transaction():  # worker one's claim, not committed yet
            assert one.claim_nudge(ids[0])
            # Worker two neither waits on that row nor sees it as pending.
            with ThreadPoolExecutor(1) as other:
                pending = other.submit(two.pending_nudges, T0 + timedelta(minutes=1), 10)
                assert [n.id for n in pending.result(timeout=5)] == ids[1:]
                assert other.submit(two.claim_nudge, ids[0]).result(timeout=5) is False
        assert [n.id for n in two.pending_nudges(T0 + timedelta(minutes=1), 10)] == ids[1:]


def test_workers_claiming_batches_at_once_never_get_the_same_row(pg_url: str) -> None:
    with PgStorage(pg_url) as seeder:
        ids = _seed(seeder, 60)
    stores = [PgStorage(pg_url) for _ in range(3)]
    try:
        start = threading.Barrier(3)

        def drain(store: PgStorage) -> list[int]:
            start.wait(10)
            got: list[int] = []
            while batch := store.claim_due(T0 + timedelta(hours=1), 7, "telegram"):
                assert [n.status for n in batch] == ["sending"] * len(batch)
                got += [n.id for n in batch]
            return got

        with ThreadPoolExecutor(3) as pool:
            claimed = list(pool.map(drain, stores))
    finally:
        for store in stores:
            store.close()
    every = [nudge_id for got in claimed for nudge_id in got]
    assert sorted(every) == ids  # each row once, none left behind
    with PgStorage(pg_url) as check:
        assert check.nudge_counts()["sending"] == 60
        assert {check.get_nudge(i).attempts for i in ids} == {1}  # type: ignore[union-attr]


def test_claim_due_takes_no_more_than_its_limit_whatever_the_plan(pg_url: str) -> None:
    # A plan the server may pick from its statistics: the claim's rows rescanned in a
    # nested loop. A `WHERE id IN (... LIMIT n FOR UPDATE SKIP LOCKED)` claimed all 5 here.
    planner = "-c enable_hashjoin=off -c enable_mergejoin=off -c enable_material=off"
    planner += " -c enable_sort=off -c enable_hashagg=off"
    url = f"{pg_url}{'&' if '?' in pg_url else '?'}options={quote(planner)}"
    with PgStorage(url) as store:
        ids = _seed(store, 5)
        for platform in ("telegram", None):
            assert [n.id for n in store.claim_due(T0 + timedelta(minutes=1), 2, platform)] == (
                ids[:2] if platform else ids[2:4]
            )


def test_claim_due_takes_the_earliest_due_of_a_platform(pg: PgStorage) -> None:
    ids = _seed(pg, 3)
    other = pg.user_for("discord", "d", "UTC")
    pg.enqueue_nudge(other.id, "pre_workout", T0 - timedelta(hours=1), {"ref": "d"})
    later = pg.user_for("telegram", "late", "UTC")
    pg.enqueue_nudge(later.id, "pre_workout", T0 + timedelta(hours=2), {"ref": "late"})
    assert [n.id for n in pg.claim_due(T0 + timedelta(minutes=1), 2, "telegram")] == ids[:2]
    assert [n.id for n in pg.claim_due(T0 + timedelta(minutes=1), 10, "telegram")] == ids[2:]
    assert pg.claim_due(T0 + timedelta(minutes=1), 10, "telegram") == []


def test_a_planning_slice_skips_a_user_a_turn_holds(pg_url: str) -> None:
    with PgStorage(pg_url) as turn_store, PgStorage(pg_url) as planner:
        held = turn_store.user_for("telegram", "held", "UTC")
        free = turn_store.user_for("telegram", "free", "UTC")
        with turn_store.transaction():
            turn_store.user_for("telegram", "held", "UTC")  # a turn of `held` is running
            with ThreadPoolExecutor(1) as other:

                def plan_slice() -> list[int]:
                    with planner.transaction():
                        return [user.id for user, _, _ in planner.users_to_plan(T0, 10)]

                assert other.submit(plan_slice).result(timeout=5) == [free.id]
        assert [user.id for user, _, _ in planner.users_to_plan(T0, 10)] == [held.id, free.id]


def test_planned_rows_are_deduplicated_within_one_batch_too(pg: PgStorage) -> None:
    user = pg.user_for("telegram", "1", "UTC")
    planned = [
        PlannedNudge("pre_workout", T0, {"ref": "s1"}),
        PlannedNudge("pre_workout", T0 + timedelta(days=1), {"ref": "s1"}),  # same ref
        PlannedNudge("massage", T0, {"ref": "2025-03"}),
        PlannedNudge("massage", T0, {"ref": "other"}),  # same (user, kind, due_at)
        PlannedNudge("snooze", T0, {}, status="skipped", reason="quiet hours"),
    ]
    assert pg.add_planned(user.id, planned) == 3
    assert pg.add_planned(user.id, planned) == 0
    assert pg.nudge_counts()["skipped"] == 1
    exported = pg.export_user(user.id)["nudges"]
    assert [(n["kind"], n["error"]) for n in exported] == [
        ("pre_workout", None),
        ("massage", None),
        ("snooze", "plan: quiet hours"),
    ]


def test_mark_sent_stamps_a_batch_and_forget_takes_the_nudges_too(pg: PgStorage) -> None:
    ids = _seed(pg, 3)
    for nudge_id in ids:
        pg.claim_nudge(nudge_id)
    pg.mark_sent([(ids[0], T0 + timedelta(seconds=5)), (ids[1], T0 + timedelta(seconds=6))])
    assert pg.nudge_counts()["sent"] == 2 and pg.nudge_counts()["sending"] == 1
    user = pg.get_user(pg.get_nudge(ids[1]).user_id)  # type: ignore[union-attr]
    assert user is not None
    assert pg.latest_sent_nudge(user.id, T0) == (pg.get_nudge(ids[1]), T0 + timedelta(seconds=6))
    assert pg.fail_interrupted() == 1
    assert pg.count_rows(user.id) == 2
    assert pg.forget_user(user.id) == 2
    assert pg.get_nudge(ids[1]) is None


# ---------------------------------------------------------------- values and secrets


def test_free_text_loses_nul_characters_that_postgresql_cannot_hold(pg: PgStorage) -> None:
    user = pg.user_for("telegram", "1", "UTC")
    event = pg.record_red_flag(user.id, T0, ("calves",), "numb\x00 leg")
    assert event.text == "numb leg"
    user.dialog = {"draft": "a\x00b"}
    pg.save_user(user)  # a user's dialog is JSON text: \\u0000 is kept
    assert pg.get_user(user.id).dialog == {"draft": "a\x00b"}  # type: ignore[union-attr]


def test_datetimes_are_stored_as_instants(pg: PgStorage) -> None:
    user = pg.user_for("telegram", "1", "UTC")
    tokyo = T0.astimezone(timezone(timedelta(hours=9)))
    pg.record_massage(user.id, tokyo)
    (massage,) = pg.massages_since(user.id, T0)
    assert massage.at == T0 and massage.at.tzinfo is UTC
    pg.record_heartbeat(tokyo)
    assert pg.last_heartbeat() == T0


def test_a_password_in_a_database_url_is_redacted() -> None:
    url = "postgresql://bot:s3cret-pw@db.example:5433/bot?sslmode=require"
    assert redact_url(url) == "postgresql://bot:***@db.example:5433/bot?sslmode=require"
    assert redact_url("postgresql://bot@/bot?host=/run") == "postgresql://bot@/bot?host=/run"
    message = 'connection failed: FATAL: password "s3cret-pw" is wrong\nmore detail'
    assert redact_message(message, url) == 'connection failed: FATAL: password "***" is wrong'


def test_without_a_server_the_tests_skip_or_with_the_ci_flag_fail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests import pg as fixtures

    monkeypatch.delenv(fixtures.REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="need a server: no initdb"):
        fixtures._unavailable("no initdb")
    monkeypatch.setenv(fixtures.REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match="BOT_REQUIRE_POSTGRES=1"):
        fixtures._unavailable("no initdb")

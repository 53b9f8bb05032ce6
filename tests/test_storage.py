"""The `Store` contract, run against SQLite `Storage`, `MemoryStore` and PostgreSQL
`PgStorage` (a throwaway server, tests/pg.py), plus SQLite specifics (PostgreSQL's are in
tests/test_storage_pg.py)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.core.memory import MemoryStore
from bot.storage import MIGRATIONS, SCHEMA_VERSION, Storage, migrate, schema_version
from bot.storage_pg import PgStorage

T0 = datetime(2025, 3, 10, 18, 0, tzinfo=UTC)
TABLES = ("users", "schedules", "soreness", "massages", "red_flags", "nudges", "rolling")

Either = Storage | MemoryStore | PgStorage


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
def sqlite_store(db_path: Path) -> Iterator[Storage]:
    with Storage(db_path) as store:
        yield store


@pytest.fixture(params=["sqlite", "memory", "postgres"])
def store(request: pytest.FixtureRequest, db_path: Path) -> Iterator[Either]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "postgres":
        with PgStorage(request.getfixturevalue("pg_url")) as postgres:
            yield postgres
    else:
        with Storage(db_path) as sqlite:
            yield sqlite


def fill(store: Either, user_id: int) -> None:
    """One row of every kind for `user_id`."""
    store.add_schedule(user_id, "18:00", weekday=0, workout="run")
    store.add_schedule(user_id, "07:30", on_date=date(2025, 3, 12))
    store.record_soreness(user_id, "calves", 6, T0, note="calves 6/10")
    store.record_soreness(user_id, "quads", 3, T0 + timedelta(hours=1))
    store.record_massage(user_id, T0 - timedelta(days=3), note="sports massage")
    store.record_red_flag(user_id, T0, ("hamstrings",), "sharp pain in my hamstring")
    store.record_rolling(user_id, T0 + timedelta(hours=2), 300, ("quads", "glutes"))


# ---------------------------------------------------------------- contract: users


def test_first_contact_creates_user_with_default_tz_and_dataclass_defaults(store: Either) -> None:
    user = store.user_for("telegram", "42", "Europe/Berlin")
    assert user.id > 0
    assert (user.platform, user.platform_id, user.tz) == ("telegram", "42", "Europe/Berlin")
    assert user.lead_minutes == 30
    assert (user.quiet_start, user.quiet_end, user.chat_id) == (None, None, None)
    assert not (user.paused or user.unreachable or user.onboarded)
    assert (user.massage_day, user.massage_time, user.massage_target) == ("sat", "10:00", 3)
    assert user.dialog == {}
    assert user.created_at is not None and user.created_at.tzinfo is not None


def test_same_platform_key_returns_same_user_and_other_keys_new_users(store: Either) -> None:
    first = store.user_for("telegram", "42", "UTC")
    again = store.user_for("telegram", "42", "Asia/Tokyo")
    assert again == first
    assert again.tz == "UTC"  # the default applies only on first contact
    assert store.user_for("discord", "42", "UTC").id != first.id
    assert store.user_for("telegram", "43", "UTC").id != first.id


def test_get_user_returns_the_user_or_none(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    assert store.get_user(user.id) == user
    assert store.get_user(user.id + 1000) is None


def test_save_user_writes_every_field(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    changed = replace(
        user,
        tz="America/New_York",
        lead_minutes=45,
        quiet_start="22:00",
        quiet_end="07:00",
        paused=True,
        unreachable=True,
        onboarded=True,
        massage_day="sun",
        massage_time="09:30",
        massage_target=4,
        chat_id="-100123",
        dialog={"step": "tz", "draft": [1, 2], "nested": {"a": None}},
    )
    store.save_user(changed)
    assert store.get_user(user.id) == changed
    assert store.user_for("telegram", "1", "UTC") == changed


def test_returned_user_is_a_copy_until_saved(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    user.dialog["step"] = "tz"
    user.tz = "Europe/Paris"
    fresh = store.get_user(user.id)
    assert fresh is not None
    assert (fresh.dialog, fresh.tz) == ({}, "UTC")


def test_save_user_of_unknown_user_raises_lookup_error(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    with pytest.raises(LookupError):
        store.save_user(replace(user, id=user.id + 1000))


# ---------------------------------------------------------------- contract: schedules


def test_schedules_are_listed_in_insertion_order_with_all_fields(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    weekly = store.add_schedule(user.id, "18:00", weekday=2, workout="lower_body")
    once = store.add_schedule(user.id, "07:30", on_date=date(2025, 3, 12))
    assert store.schedules(user.id) == [weekly, once]
    assert (weekly.time, weekly.weekday, weekly.on_date, weekly.workout) == (
        "18:00",
        2,
        None,
        "lower_body",
    )
    assert once.on_date == date(2025, 3, 12) and once.weekday is None


def test_remove_and_clear_schedules_touch_only_that_users_entries(store: Either) -> None:
    alice = store.user_for("telegram", "1", "UTC")
    bob = store.user_for("telegram", "2", "UTC")
    a1 = store.add_schedule(alice.id, "18:00", weekday=0)
    store.add_schedule(alice.id, "18:00", weekday=2)
    b1 = store.add_schedule(bob.id, "06:00", weekday=1)
    assert store.remove_schedule(bob.id, a1.id) is False
    assert store.remove_schedule(alice.id, a1.id) is True
    assert store.remove_schedule(alice.id, a1.id) is False
    assert store.clear_schedules(alice.id) == 1
    assert store.schedules(alice.id) == []
    assert store.schedules(bob.id) == [b1]


# ---------------------------------------------------------------- contract: soreness


def test_soreness_since_returns_reports_at_or_after_since_oldest_first(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    late = store.record_soreness(user.id, "quads", 3, T0 + timedelta(hours=2))
    early = store.record_soreness(user.id, "calves", 6, T0, note="calves 6/10")
    store.record_soreness(user.id, "glutes", 4, T0 - timedelta(seconds=1))
    assert store.soreness_since(user.id, T0) == [early, late]
    assert early.note == "calves 6/10"
    assert store.get_soreness(user.id, early.id) == early


def test_datetimes_come_back_as_the_same_instant_in_utc(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    berlin = timezone(timedelta(hours=1))
    at = datetime(2025, 3, 10, 19, 0, 0, 123456, tzinfo=berlin)
    report = store.record_soreness(user.id, "calves", 5, at)
    (back,) = store.soreness_since(user.id, at - timedelta(microseconds=1))
    assert back.at == at and back.at.utcoffset() == timedelta(0)
    assert report.at == back.at and report.at.tzinfo == UTC


def test_naive_datetimes_are_refused(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    with pytest.raises(ValueError, match="naive"):
        store.record_soreness(user.id, "calves", 5, datetime(2025, 3, 10, 18, 0))


def test_rows_for_an_unknown_user_raise_lookup_error(store: Either) -> None:
    with pytest.raises(LookupError):
        store.record_soreness(999, "calves", 5, T0)
    with pytest.raises(LookupError):
        store.add_schedule(999, "18:00", weekday=0)
    with pytest.raises(LookupError):
        store.record_massage(999, T0)
    with pytest.raises(LookupError):
        store.record_red_flag(999, T0, (), "numb")


def test_update_soreness_changes_only_the_owners_report(store: Either) -> None:
    alice = store.user_for("telegram", "1", "UTC")
    bob = store.user_for("telegram", "2", "UTC")
    report = store.record_soreness(alice.id, "calves", 6, T0)
    assert store.update_soreness(bob.id, report.id, severity=1) is None
    assert store.update_soreness(alice.id, report.id + 1000, severity=1) is None
    assert store.get_soreness(alice.id, report.id) == report
    assert store.get_soreness(bob.id, report.id) is None

    updated = store.update_soreness(alice.id, report.id, severity=8)
    assert updated == replace(report, severity=8)
    moved = store.update_soreness(alice.id, report.id, area="shins")
    assert moved == replace(report, area="shins", severity=8)
    assert store.get_soreness(alice.id, report.id) == moved


def test_delete_soreness_only_for_the_owner(store: Either) -> None:
    alice = store.user_for("telegram", "1", "UTC")
    bob = store.user_for("telegram", "2", "UTC")
    report = store.record_soreness(alice.id, "calves", 6, T0)
    assert store.delete_soreness(bob.id, report.id) is False
    assert store.soreness_since(alice.id, T0) == [report]
    assert store.delete_soreness(alice.id, report.id) is True
    assert store.delete_soreness(alice.id, report.id) is False
    assert store.soreness_since(alice.id, T0) == []


# ---------------------------------------------------------------- contract: massages, red flags


def test_massages_since_last_massage_and_owner_only_delete(store: Either) -> None:
    alice = store.user_for("telegram", "1", "UTC")
    bob = store.user_for("telegram", "2", "UTC")
    assert store.last_massage(alice.id) is None
    newest = store.record_massage(alice.id, T0, note="deep tissue")
    oldest = store.record_massage(alice.id, T0 - timedelta(days=20))
    store.record_massage(bob.id, T0 + timedelta(days=1))
    assert store.massages_since(alice.id, T0 - timedelta(days=30)) == [oldest, newest]
    assert store.massages_since(alice.id, T0) == [newest]
    assert store.last_massage(alice.id) == newest
    assert store.delete_massage(bob.id, newest.id) is False
    assert store.delete_massage(alice.id, newest.id) is True
    assert store.last_massage(alice.id) == oldest


def test_red_flags_are_kept_with_their_areas_and_text(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    event = store.record_red_flag(user.id, T0, ("lower_back", "hamstrings"), "leg feels numb")
    store.record_red_flag(user.id, T0 - timedelta(days=2), (), "chest pain")
    assert event.areas == ("lower_back", "hamstrings")
    assert store.red_flags_since(user.id, T0 - timedelta(hours=1)) == [event]


# ---------------------------------------------------------------- contract: export, forget


def test_export_has_every_row_and_is_json_serialisable(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    other = store.user_for("telegram", "2", "UTC")
    fill(store, user.id)
    fill(store, other.id)
    exported = store.export_user(user.id)
    assert set(exported) == {
        "user",
        "schedules",
        "soreness",
        "massages",
        "red_flags",
        "rolling",
        "nudges",
    }
    assert exported["user"]["id"] == user.id and exported["user"]["tz"] == "UTC"
    counts = {key: len(rows) for key, rows in exported.items() if key != "user"}
    assert counts == {
        "schedules": 2,
        "soreness": 2,
        "massages": 1,
        "red_flags": 1,
        "rolling": 1,
        "nudges": 0,
    }
    rows = [row for key, rows in exported.items() if key != "user" for row in rows]
    assert all(row["user_id"] == user.id for row in rows)
    assert exported["red_flags"][0]["areas"] == ["hamstrings"]
    assert exported["soreness"][0]["at"] == T0.isoformat()
    assert json.loads(json.dumps(exported)) == exported


def test_forget_deletes_every_row_of_that_user_only(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    other = store.user_for("telegram", "2", "UTC")
    fill(store, user.id)
    fill(store, other.id)
    before, other_before = store.count_rows(user.id), store.count_rows(other.id)
    assert before == 8  # the user, 2 schedules, 2 soreness, a massage, a red flag, a rolling

    assert store.forget_user(user.id) == before
    assert store.count_rows(user.id) == 0
    assert store.get_user(user.id) is None
    assert store.count_rows(other.id) == other_before
    assert store.forget_user(user.id) == 0


def test_forgotten_user_starts_fresh_with_a_new_id(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    store.save_user(replace(user, onboarded=True))
    store.forget_user(user.id)
    again = store.user_for("telegram", "1", "UTC")
    assert again.id != user.id and not again.onboarded


# ---------------------------------------------------------------- sqlite: the file


def test_data_survives_close_and_reopen(db_path: Path) -> None:
    with Storage(db_path) as store:
        user = store.user_for("telegram", "1", "Europe/Berlin")
        store.save_user(replace(user, dialog={"step": "days"}, paused=True))
        fill(store, user.id)
        exported = store.export_user(user.id)
    with Storage(db_path) as store:
        assert store.export_user(user.id) == exported
        assert store.user_for("telegram", "1", "UTC").dialog == {"step": "days"}


def test_parent_directories_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "bot.sqlite3"
    with Storage(str(path)):
        pass
    assert path.exists()


def test_wal_mode_synchronous_normal_and_foreign_keys_are_on(sqlite_store: Storage) -> None:
    def pragma(name: str) -> object:
        return sqlite_store.db.execute(f"PRAGMA {name}").fetchone()[0]

    assert pragma("journal_mode") == "wal"
    assert pragma("synchronous") == 1  # NORMAL
    assert pragma("foreign_keys") == 1


def test_new_database_has_every_table_at_the_latest_schema_version(sqlite_store: Storage) -> None:
    assert schema_version(sqlite_store.db) == SCHEMA_VERSION == len(MIGRATIONS) == 7
    assert set(TABLES) <= set(sqlite_store.db.table_names())


def test_migration_from_version_1_keeps_data(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db = Database(db_path)
    assert migrate(db, target=1) == 1
    assert "nudges" not in db.table_names()
    db.execute(
        "INSERT INTO users (platform, platform_id, tz, lead_minutes, paused, unreachable, "
        "onboarded, massage_day, massage_time, massage_target, dialog, created_at) "
        "VALUES ('telegram', '7', 'Europe/Berlin', 20, 0, 0, 1, 'sun', '09:00', 2, "
        "'{\"step\": \"tz\"}', '2025-01-01T00:00:00.000000+00:00')"
    )
    db.execute(
        "INSERT INTO soreness (user_id, area, severity, at, note) "
        "VALUES (1, 'calves', 6, '2025-03-10T18:00:00.000000+00:00', 'old report')"
    )
    db.close()

    with Storage(db_path) as store:
        assert schema_version(store.db) == SCHEMA_VERSION
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
        assert store.enqueue_nudge(user.id, "pre_workout", T0, {}) is not None


def test_migration_from_version_3_plans_every_user_from_now_once(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db = Database(db_path)
    assert migrate(db, target=3) == 3
    db.execute(
        "INSERT INTO users (platform, platform_id, tz, lead_minutes, paused, unreachable, "
        "onboarded, massage_day, massage_time, massage_target, dialog, created_at) "
        "VALUES ('telegram', '7', 'Europe/Berlin', 20, 0, 0, 1, 'sun', '09:00', 2, '{}', "
        "'2025-01-01T00:00:00.000000+00:00')"
    )
    db.execute("INSERT INTO schedules (user_id, time, weekday) VALUES (1, '18:00', 0)")
    db.close()

    with Storage(db_path) as store:
        ((user, entries, until),) = store.users_to_plan(T0, 10)
        assert (user.platform_id, [e.time for e in entries], until) == ("7", ["18:00"], None)
        store.set_planned_until([(user.id, T0)])
        assert store.users_to_plan(T0, 10) == []


def test_users_to_plan_lists_plans_ending_before_an_instant_earliest_first(
    sqlite_store: Storage,
) -> None:
    ids = []
    for n in range(4):
        user = sqlite_store.user_for("telegram", str(n), "UTC")
        sqlite_store.add_schedule(user.id, f"0{n}:00", weekday=n)
        sqlite_store.add_schedule(user.id, f"1{n}:00", weekday=n)
        ids.append(user.id)
    late, early = T0 + timedelta(hours=2), T0 - timedelta(hours=1)
    sqlite_store.set_planned_until([(ids[0], late), (ids[1], T0), (ids[2], early)])
    listed = sqlite_store.users_to_plan(T0 + timedelta(hours=1), 10)
    # Never planned first (plan from now), then by where the plan ends; not `late`.
    assert [(user.id, until) for user, _, until in listed] == [
        (ids[3], None),
        (ids[2], early),
        (ids[1], T0),
    ]
    assert [[e.time for e in entries] for _, entries, _ in listed] == [
        ["03:00", "13:00"],
        ["02:00", "12:00"],
        ["01:00", "11:00"],
    ]
    assert [user.id for user, _, _ in sqlite_store.users_to_plan(late + timedelta(1), 2)] == [
        ids[3],
        ids[2],
    ]


def test_a_replan_clears_the_users_planning_bookmark(sqlite_store: Storage) -> None:
    user = sqlite_store.user_for("telegram", "1", "UTC")
    sqlite_store.set_planned_until([(user.id, T0 + timedelta(days=3))])
    assert sqlite_store.users_to_plan(T0 + timedelta(days=2), 10) == []
    sqlite_store.replace_nudges(user.id, T0, [])
    ((listed, _, until),) = sqlite_store.users_to_plan(T0 + timedelta(days=2), 10)
    assert (listed.id, until) == (user.id, None)


def test_the_log_is_checkpointed_on_a_connection_of_its_own(sqlite_store: Storage) -> None:
    user = sqlite_store.user_for("telegram", "1", "UTC")
    sqlite_store.add_schedule(user.id, "18:00", weekday=0)
    frames, copied = sqlite_store.checkpoint_wal()
    assert frames == copied > 0
    assert sqlite_store.schedules(user.id)[0].time == "18:00"


def test_a_database_newer_than_the_code_is_refused(db_path: Path) -> None:
    with Storage(db_path) as store:
        store.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        Storage(db_path)


def test_writes_are_committed_without_an_explicit_commit(db_path: Path) -> None:
    store = Storage(db_path)
    user = store.user_for("telegram", "1", "UTC")
    store.record_soreness(user.id, "calves", 5, T0)
    reader = sqlite3.connect(db_path)
    try:
        assert reader.execute("SELECT COUNT(*) FROM soreness").fetchone()[0] == 1
    finally:
        reader.close()
        store.close()


def test_a_failed_transaction_writes_nothing(sqlite_store: Storage) -> None:
    user = sqlite_store.user_for("telegram", "1", "UTC")
    with pytest.raises(RuntimeError), sqlite_store.transaction():
        sqlite_store.enqueue_nudge(user.id, "pre_workout", T0, {})
        sqlite_store.record_soreness(user.id, "calves", 5, T0)
        raise RuntimeError("crash mid-batch")
    assert sqlite_store.count_rows(user.id) == 1
    with sqlite_store.transaction():
        sqlite_store.enqueue_nudge(user.id, "pre_workout", T0, {})
    assert sqlite_store.nudge_counts()["pending"] == 1


# ---------------------------------------------------------------- sqlite: scheduler helpers


def test_enqueue_nudge_is_idempotent_on_user_kind_and_due_at(sqlite_store: Storage) -> None:
    user = sqlite_store.user_for("telegram", "1", "UTC")
    first = sqlite_store.enqueue_nudge(user.id, "pre_workout", T0, {"workout": "run"})
    assert first is not None
    same_instant = T0.astimezone(timezone(timedelta(hours=-5)))
    assert sqlite_store.enqueue_nudge(user.id, "pre_workout", same_instant, {}) is None
    assert sqlite_store.enqueue_nudge(user.id, "massage", T0, {}) is not None
    assert sqlite_store.enqueue_nudge(user.id, "pre_workout", T0 + timedelta(days=7), {})
    nudge = sqlite_store.get_nudge(first)
    assert nudge is not None
    assert (nudge.kind, nudge.due_at, nudge.payload) == ("pre_workout", T0, {"workout": "run"})
    assert (nudge.status, nudge.attempts) == ("pending", 0)
    assert sqlite_store.nudge_counts()["pending"] == 3


def test_claim_nudge_succeeds_only_once(db_path: Path) -> None:
    with Storage(db_path) as store, Storage(db_path) as second_process:
        user = store.user_for("telegram", "1", "UTC")
        nudge_id = store.enqueue_nudge(user.id, "pre_workout", T0, {})
        assert nudge_id is not None
        assert store.claim_nudge(nudge_id) is True
        assert store.claim_nudge(nudge_id) is False
        assert second_process.claim_nudge(nudge_id) is False
        claimed = store.get_nudge(nudge_id)
        assert claimed is not None and (claimed.status, claimed.attempts) == ("sending", 1)
        assert store.claim_nudge(nudge_id + 1000) is False


def test_an_unclaimed_nudge_is_pending_again_with_its_attempt_undone(
    sqlite_store: Storage,
) -> None:
    user = sqlite_store.user_for("telegram", "1", "UTC")
    nudge_id = sqlite_store.enqueue_nudge(user.id, "pre_workout", T0, {})
    assert nudge_id is not None
    assert sqlite_store.unclaim_nudge(nudge_id) is False  # not claimed: nothing to undo
    sqlite_store.claim_nudge(nudge_id)
    assert sqlite_store.unclaim_nudge(nudge_id) is True
    nudge = sqlite_store.get_nudge(nudge_id)
    assert nudge is not None and (nudge.status, nudge.attempts) == ("pending", 0)


def test_pending_nudges_are_due_ones_earliest_first_up_to_limit(sqlite_store: Storage) -> None:
    user = sqlite_store.user_for("telegram", "1", "UTC")
    later = sqlite_store.enqueue_nudge(user.id, "pre_workout", T0 + timedelta(minutes=5), {})
    earliest = sqlite_store.enqueue_nudge(user.id, "pre_workout", T0 - timedelta(hours=1), {})
    on_time = sqlite_store.enqueue_nudge(user.id, "massage", T0, {})
    sqlite_store.enqueue_nudge(user.id, "pre_workout", T0 + timedelta(minutes=6), {})
    claimed = sqlite_store.enqueue_nudge(user.id, "pre_workout", T0 - timedelta(hours=2), {})
    assert claimed is not None and sqlite_store.claim_nudge(claimed)

    until = T0 + timedelta(minutes=5)
    assert [n.id for n in sqlite_store.pending_nudges(until, 10)] == [earliest, on_time, later]
    assert [n.id for n in sqlite_store.pending_nudges(until, 2)] == [earliest, on_time]


def test_mark_nudge_records_status_error_and_sent_at(sqlite_store: Storage) -> None:
    user = sqlite_store.user_for("telegram", "1", "UTC")
    sent = sqlite_store.enqueue_nudge(user.id, "pre_workout", T0, {})
    failed = sqlite_store.enqueue_nudge(user.id, "massage", T0, {})
    assert sent is not None and failed is not None
    assert sqlite_store.mark_nudge(sent, "sent", sent_at=T0 + timedelta(seconds=3))
    assert sqlite_store.mark_nudge(failed, "failed", error="Forbidden: bot was blocked")
    assert sqlite_store.mark_nudge(failed + 1000, "sent") is False
    with pytest.raises(ValueError, match="status"):
        sqlite_store.mark_nudge(sent, "delivered")

    nudges = {n["id"]: n for n in sqlite_store.export_user(user.id)["nudges"]}
    assert nudges[sent]["status"] == "sent"
    assert nudges[sent]["sent_at"] == (T0 + timedelta(seconds=3)).isoformat()
    assert (nudges[failed]["status"], nudges[failed]["error"]) == (
        "failed",
        "Forbidden: bot was blocked",
    )
    assert sqlite_store.nudge_counts() == {
        "pending": 0,
        "sending": 0,
        "sent": 1,
        "failed": 1,
        "missed": 0,
        "skipped": 0,
    }


def test_forget_deletes_the_users_nudges_too(sqlite_store: Storage) -> None:
    user = sqlite_store.user_for("telegram", "1", "UTC")
    other = sqlite_store.user_for("telegram", "2", "UTC")
    for someone in (user, other):
        fill(sqlite_store, someone.id)
        sqlite_store.enqueue_nudge(someone.id, "pre_workout", T0, {"workout": "run"})
    assert len(sqlite_store.export_user(user.id)["nudges"]) == 1
    assert sqlite_store.count_rows(user.id) == 9
    assert sqlite_store.forget_user(user.id) == 9
    tables = TABLES[1:]
    for table in tables:
        left = sqlite_store.db.execute(
            f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (user.id,)
        ).fetchone()[0]
        assert left == 0, table
    assert sqlite_store.count_rows(other.id) == 9


def test_finished_rolling_sessions_are_kept_in_order(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    later = store.record_rolling(user.id, T0 + timedelta(days=1), 600, ("calves",))
    first = store.record_rolling(user.id, T0, 300, ("quads", "glutes"))
    assert store.rolling_since(user.id, T0) == [first, later]
    assert store.rolling_since(user.id, T0 + timedelta(hours=1)) == [later]
    assert first.areas == ("quads", "glutes") and first.seconds == 300


# ---------------------------------------------------------------- issue 19: settings, answers


def test_the_two_picture_settings_start_off_and_are_saved(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    assert (user.body_map, user.weekly_summary) == (False, False)
    user.body_map = user.weekly_summary = True
    store.save_user(user)
    again = store.get_user(user.id)
    assert again is not None and (again.body_map, again.weekly_summary) == (True, True)
    exported = store.export_user(user.id)["user"]
    assert (exported["body_map"], exported["weekly_summary"]) == (True, True)


def test_a_nudges_answer_is_exported(store: Either) -> None:
    user = store.user_for("telegram", "1", "UTC")
    nudge_id = store.enqueue_nudge(user.id, "pre_workout", T0, {"ref": "s"})
    assert nudge_id is not None
    store.answer_nudge(nudge_id, "started")
    (exported,) = store.export_user(user.id)["nudges"]
    assert (exported["id"], exported["answer"], exported["status"]) == (
        nudge_id,
        "started",
        "pending",
    )


def test_migration_from_version_5_adds_the_settings_off_and_keeps_the_outbox(
    db_path: Path,
) -> None:
    db_path.parent.mkdir(parents=True)
    db = Database(db_path)
    assert migrate(db, target=5) == 5
    db.execute(
        "INSERT INTO users (platform, platform_id, tz, lead_minutes, paused, unreachable, "
        "onboarded, massage_day, massage_time, massage_target, dialog, created_at) "
        "VALUES ('telegram', '7', 'UTC', 30, 0, 0, 1, 'sat', '10:00', 3, '{}', "
        "'2025-01-01T00:00:00.000000+00:00')"
    )
    db.execute(
        "INSERT INTO nudges (user_id, kind, due_at, payload, status, sent_at, created_at) "
        "VALUES (1, 'pre_workout', '2025-03-10T18:00:00.000000+00:00', '{\"ref\": \"s\"}', "
        "'sent', '2025-03-10T18:00:01.000000+00:00', '2025-03-09T18:00:00.000000+00:00')"
    )
    db.close()
    with Storage(db_path) as store:
        assert schema_version(store.db) == SCHEMA_VERSION
        user = store.user_for("telegram", "7", "UTC")
        assert (user.id, user.onboarded, user.body_map, user.weekly_summary) == (
            1,
            True,
            False,
            False,
        )
        (sent,) = store.nudges_since(user.id, T0 - timedelta(days=1))
        assert (sent.status, sent.answer) == ("sent", None)
        assert store.answer_nudge(sent.id, "skipped")


def test_migration_from_version_6_sends_the_planned_rows_at_their_due_time(
    db_path: Path,
) -> None:
    db_path.parent.mkdir(parents=True)
    db = Database(db_path)
    assert migrate(db, target=6) == 6
    db.execute(
        "INSERT INTO users (platform, platform_id, tz, lead_minutes, paused, unreachable, "
        "onboarded, massage_day, massage_time, massage_target, dialog, created_at) "
        "VALUES ('telegram', '7', 'UTC', 30, 0, 0, 1, 'sat', '10:00', 3, '{}', "
        "'2025-01-01T00:00:00.000000+00:00')"
    )
    for minute, status in ((0, "sent"), (30, "pending")):
        db.execute(
            "INSERT INTO nudges (user_id, kind, due_at, payload, status, created_at) "
            f"VALUES (1, 'pre_workout', '2025-03-10T18:{minute:02d}:00.000000+00:00', "
            f"'{{\"ref\": \"s{minute}\"}}', '{status}', '2025-03-09T18:00:00.000000+00:00')"
        )
    db.close()
    due = datetime(2025, 3, 10, 18, 30, tzinfo=UTC)
    with Storage(db_path) as store:
        assert schema_version(store.db) == SCHEMA_VERSION
        assert [(n.due_at, n.send_at) for n in store.nudges_since(1, due - timedelta(hours=1))] == [
            (due - timedelta(minutes=30), due - timedelta(minutes=30)),
            (due, due),
        ]
        assert store.next_due() == due
        assert [n.due_at for n in store.pending_nudges(due, 10, "telegram")] == [due]
        assert store.send_load("telegram", due - timedelta(hours=1), due + timedelta(hours=1)) == {
            due: 1
        }

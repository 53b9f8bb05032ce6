"""PostgreSQL from the command line: `python -m bot migrate-to-postgres`, the healthcheck,
the terminal chat on BOT_DATABASE_URL, and a password in the URL never shown."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bot import __main__ as cli
from bot import migrate_to_postgres
from bot.__main__ import main
from bot.storage import Storage
from bot.storage_pg import PgStorage
from tests.pg import PostgresServer
from tests.test_storage import fill

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2025, 3, 10, 18, 0, tzinfo=UTC)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No .env from the work tree, no tokens: settings from the environment only; `main`'s
    logging set-up left alone (it would outlive the test, writing to a closed capture)."""
    monkeypatch.setattr(cli, "configure_logging", lambda settings: None)
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "BOT_DATABASE_URL", "BOT_DB_PATH"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def sqlite_with_everything(path: Path) -> list[int]:
    """Two users with a row of every kind, nudges in several states, bookmarks, a beat."""
    with Storage(path) as store:
        ids = []
        for who in ("1", "2"):
            user = store.user_for("telegram", who, "Europe/Berlin")
            user.dialog = {"question": "tz", "draft": [1, None]}
            user.quiet_start, user.quiet_end, user.onboarded = "22:00", "07:00", True
            store.save_user(user)
            fill(store, user.id)
            first = store.enqueue_nudge(user.id, "pre_workout", T0, {"ref": f"{who}-a"})
            store.enqueue_nudge(user.id, "massage", T0 + timedelta(days=1), {"ref": "2025-03"})
            assert first is not None and store.claim_nudge(first)
            store.mark_sent([(first, T0 + timedelta(seconds=2))])
            ids.append(user.id)
        store.set_planned_until([(ids[0], T0 + timedelta(hours=48))])  # ids[1]: never planned
        store.forget_user(store.user_for("discord", "gone", "UTC").id)  # a gap in the ids
        store.record_heartbeat(T0)
    return ids


def test_migrate_to_postgres_copies_every_row_and_checks_the_counts(
    env: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = env / "bot.sqlite3"
    ids = sqlite_with_everything(db_path)
    monkeypatch.setenv("BOT_DB_PATH", str(db_path))
    monkeypatch.setenv("BOT_DATABASE_URL", pg_url)
    assert main(["migrate-to-postgres"]) == 0
    out = capsys.readouterr().out
    for line in (
        "users: 2 rows in SQLite, 2 in PostgreSQL: ok",
        "schedules: 4 rows in SQLite, 4 in PostgreSQL: ok",
        "nudges: 4 rows in SQLite, 4 in PostgreSQL: ok",
        "meta: 1 rows in SQLite, 1 in PostgreSQL: ok",
    ):
        assert line in out

    with Storage(db_path) as sqlite, PgStorage(pg_url) as postgres:
        for user_id in ids:
            assert postgres.export_user(user_id) == sqlite.export_user(user_id)
        assert postgres.users_to_plan(T0 + timedelta(days=3), 10) == sqlite.users_to_plan(
            T0 + timedelta(days=3), 10
        )
        assert postgres.last_heartbeat() == T0
        assert postgres.nudge_counts() == sqlite.nudge_counts()
        newcomer = postgres.user_for("telegram", "new", "UTC")
        assert newcomer.id > ids[-1] + 1  # the id sequence goes on after the copied ids

    # Copying again would merge into live data: refused, nothing written.
    assert main(["migrate-to-postgres"]) == 2
    assert "already has rows" in capsys.readouterr().err


def test_migrate_to_postgres_fails_on_a_count_mismatch(
    env: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = env / "bot.sqlite3"
    sqlite_with_everything(db_path)
    monkeypatch.setenv("BOT_DB_PATH", str(db_path))
    monkeypatch.setenv("BOT_DATABASE_URL", pg_url)
    real_count = migrate_to_postgres._count

    def short_by_one(conn: object, table: str) -> int:
        counted = real_count(conn, table)  # type: ignore[arg-type]
        short = isinstance(conn, psycopg.Connection) and table == "soreness" and counted > 0
        return counted - 1 if short else counted

    monkeypatch.setattr(migrate_to_postgres, "_count", short_by_one)
    assert main(["migrate-to-postgres"]) == 1
    captured = capsys.readouterr()
    assert "soreness: 4 rows in SQLite, 3 in PostgreSQL: MISMATCH" in captured.out
    assert "users: 2 rows in SQLite, 2 in PostgreSQL: ok" in captured.out
    assert "row counts differ" in captured.err


def test_migrate_to_postgres_needs_both_databases(
    env: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_DB_PATH", str(env / "missing.sqlite3"))
    assert main(["migrate-to-postgres"]) == 2
    assert "BOT_DATABASE_URL" in capsys.readouterr().err
    monkeypatch.setenv("BOT_DATABASE_URL", pg_url)
    assert main(["migrate-to-postgres"]) == 2
    assert "no database at" in capsys.readouterr().err


def test_healthcheck_reads_the_heartbeat_in_postgres(
    env: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_DATABASE_URL", pg_url)
    with PgStorage(pg_url) as store:
        assert main(["healthcheck"]) == 1
        assert "has not beaten yet" in capsys.readouterr().out
        store.record_heartbeat(datetime.now(UTC))
    assert main(["healthcheck"]) == 0
    assert "healthy" in capsys.readouterr().out


def test_a_password_in_the_database_url_is_never_shown(
    env: Path,
    pg_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = pg_server.url("no_such_database").replace(
        "postgresql://postgres@", "postgresql://postgres:hunter2-pw@"
    )
    monkeypatch.setenv("BOT_DATABASE_URL", url)
    assert main(["healthcheck"]) == 1
    assert main(["migrate-to-postgres"]) == 2
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    assert main([]) == 2  # the bot does not start, and says why in one line
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert "hunter2-pw" not in shown
    assert "postgres:***@" in shown
    assert 'database "no_such_database" does not exist' in shown


def test_backup_points_at_pg_dump_when_the_database_is_postgres(
    env: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_DATABASE_URL", pg_url)
    assert main(["backup", str(env / "copy.sqlite3")]) == 2
    assert "pg_dump" in capsys.readouterr().err


def test_the_terminal_chat_runs_on_postgres(env: Path, pg_url: str) -> None:
    """`python -m bot` with BOT_DATABASE_URL: the whole bot on PostgreSQL, in a process."""
    environment = {
        **os.environ,
        "BOT_DATABASE_URL": pg_url,
        "BOT_DB_PATH": str(env / "unused.sqlite3"),
        "TELEGRAM_BOT_TOKEN": "",
        "DISCORD_BOT_TOKEN": "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        input="calves 6/10\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not (env / "unused.sqlite3").exists()
    with PgStorage(pg_url) as store:
        user = store.user_for("console", getpass.getuser(), "UTC")
        reports = store.soreness_since(user.id, datetime(2000, 1, 1, tzinfo=UTC))
        assert [(r.area, r.severity) for r in reports] == [("calves", 6)]
        assert store.last_heartbeat() is not None  # the scheduler ran beside the chat

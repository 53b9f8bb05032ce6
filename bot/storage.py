"""`Storage`: the `Store` protocol over one SQLite file. The only module that writes SQL.

Connection: WAL journal, `synchronous=NORMAL`, foreign keys on, `check_same_thread=False`
(one thread at a time, e.g. an asyncio executor). Hot paths run fixed, parameterised SQL
through `Database.execute` (sqlite-utils commits each write); multi-statement writes run
inside `Database.atomic()`. No schema introspection after start-up.

Values: datetimes are stored as fixed-width UTC ISO-8601 text
("2025-01-31T18:00:00.000000+00:00", so text order is time order) and come back as aware
UTC datetimes; dates as "YYYY-MM-DD"; booleans as 0/1; `dialog`, red-flag `areas` and
nudge `payload` as JSON text. Naive datetimes raise `ValueError`.

Schema version: SQLite's `PRAGMA user_version` (0 = empty file). `MIGRATIONS[i]` takes the
schema from version i to i + 1; each runs in its own transaction together with the
version bump, so a crash leaves the file at a whole version. A file newer than this code
is refused rather than guessed at.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from bot.core.clock import Clock, system_clock
from bot.core.records import (
    NUDGE_ANSWERS,
    NUDGE_STATUSES,
    PLAN_SKIP_PREFIX,
    PLANNED_KINDS,
    MassageRecord,
    Nudge,
    PlannedNudge,
    RedFlagEvent,
    RollingSession,
    ScheduleEntry,
    SorenessReport,
    User,
    as_json_dict,
    utc,
)

if TYPE_CHECKING:
    from bot.core.ports import Outbox

USER_TABLES = ("schedules", "soreness", "massages", "red_flags", "nudges", "rolling")
"""Tables with a user_id column, children first (the order `forget_user` deletes in); the
same in PostgreSQL."""


# ---------------------------------------------------------------- migrations


def _v1_core_tables(db: Database) -> None:
    for sql in (
        """CREATE TABLE users (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            platform TEXT NOT NULL,
            platform_id TEXT NOT NULL,
            tz TEXT NOT NULL,
            lead_minutes INTEGER NOT NULL,
            quiet_start TEXT,
            quiet_end TEXT,
            paused INTEGER NOT NULL,
            unreachable INTEGER NOT NULL,
            onboarded INTEGER NOT NULL,
            massage_day TEXT NOT NULL,
            massage_time TEXT NOT NULL,
            massage_target INTEGER NOT NULL,
            chat_id TEXT,
            dialog TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (platform, platform_id)
        )""",
        """CREATE TABLE schedules (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            time TEXT NOT NULL,
            weekday INTEGER,
            on_date TEXT,
            workout TEXT
        )""",
        "CREATE INDEX schedules_user ON schedules (user_id)",
        """CREATE TABLE soreness (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            area TEXT NOT NULL,
            severity INTEGER NOT NULL,
            at TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX soreness_user_at ON soreness (user_id, at)",
        """CREATE TABLE massages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX massages_user_at ON massages (user_id, at)",
        """CREATE TABLE red_flags (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            areas TEXT NOT NULL,
            text TEXT NOT NULL
        )""",
        "CREATE INDEX red_flags_user_at ON red_flags (user_id, at)",
    ):
        db.execute(sql)


def _v2_nudge_outbox(db: Database) -> None:
    for sql in (
        """CREATE TABLE nudges (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            due_at TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            sent_at TEXT,
            error TEXT,
            created_at TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX nudges_user_kind_due ON nudges (user_id, kind, due_at)",
        "CREATE INDEX nudges_status_due ON nudges (status, due_at)",
    ):
        db.execute(sql)


def _v3_rolling_sessions(db: Database) -> None:
    db.execute(
        """CREATE TABLE rolling (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            seconds INTEGER NOT NULL,
            areas TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX rolling_user_at ON rolling (user_id, at)")


def _v4_planned_until(db: Database) -> None:
    """Each user's planning bookmark: the outbox holds every nudge of theirs whose nudge time
    is before `planned_until` ('' = not planned yet, or re-planned since: plan from now)."""
    db.execute("ALTER TABLE users ADD COLUMN planned_until TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX users_planned_until ON users (planned_until)")


def _v5_heartbeat(db: Database) -> None:
    """Small facts about the bot itself: the scheduler's heartbeat (`python -m bot healthcheck`)."""
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _v6_pictures_and_answers(db: Database) -> None:
    """Two settings, both off until the user turns them on: a body map with "what should I
    roll?" answers, and the weekly summary. And what the user did with a nudge they got
    (`answer`: 'started' when they followed it, 'skipped'; NULL before), for /history."""
    db.execute("ALTER TABLE users ADD COLUMN body_map INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE users ADD COLUMN weekly_summary INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE nudges ADD COLUMN answer TEXT")


def _v7_send_at(db: Database) -> None:
    """When each nudge is to be sent (`send_at`, planned ahead inside its window, see
    `bot.core.send_slots`); the dispatcher takes due rows in that order. Rows planned before
    are sent at their due time."""
    db.execute("ALTER TABLE nudges ADD COLUMN send_at TEXT NOT NULL DEFAULT ''")
    db.execute("UPDATE nudges SET send_at = due_at")
    db.execute("CREATE INDEX nudges_status_send ON nudges (status, send_at)")


MIGRATIONS: list[Callable[[Database], None]] = [
    _v1_core_tables,
    _v2_nudge_outbox,
    _v3_rolling_sessions,
    _v4_planned_until,
    _v5_heartbeat,
    _v6_pictures_and_answers,
    _v7_send_at,
]
SCHEMA_VERSION = len(MIGRATIONS)


class NewerSchemaError(RuntimeError):
    """The file was written by a newer version of this code: refused, never guessed at."""


def schema_version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database, target: int = SCHEMA_VERSION) -> int:
    """Run the migrations from the file's version up to `target`; returns the new version."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise NewerSchemaError(
            f"database schema version {current} is newer than this code ({SCHEMA_VERSION})"
        )
    for version in range(current + 1, target + 1):
        with db.atomic():
            MIGRATIONS[version - 1](db)
            db.execute(f"PRAGMA user_version = {version}")
    return max(current, target)


# ---------------------------------------------------------------- conversions


def _iso(at: datetime) -> str:
    return utc(at).isoformat(timespec="microseconds")


def _dt(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is UTC else at.astimezone(UTC)


def _opt_dt(text: str | None) -> datetime | None:
    return None if text is None else _dt(text)


_USER_COLUMNS = (
    "id, platform, platform_id, tz, lead_minutes, quiet_start, quiet_end, paused, "
    "unreachable, onboarded, massage_day, massage_time, massage_target, chat_id, dialog, "
    "created_at, body_map, weekly_summary"
)
_USER_COLS_U = ", ".join(f"u.{c.strip()}" for c in _USER_COLUMNS.split(","))
_SAVE_USER_SQL = (
    "UPDATE users SET platform = ?, platform_id = ?, tz = ?, lead_minutes = ?, quiet_start = ?, "
    "quiet_end = ?, paused = ?, unreachable = ?, onboarded = ?, massage_day = ?, "
    "massage_time = ?, massage_target = ?, chat_id = ?, dialog = ?, "
    "created_at = COALESCE(?, created_at), body_map = ?, weekly_summary = ? WHERE id = ?"
)
_SCHEDULE_COLUMNS = "id, user_id, time, weekday, on_date, workout"
_SORENESS_COLUMNS = "id, user_id, area, severity, at, note"
_MASSAGE_COLUMNS = "id, user_id, at, note"
_RED_FLAG_COLUMNS = "id, user_id, at, areas, text"
_ROLLING_COLUMNS = "id, user_id, at, seconds, areas"
_NUDGE_COLUMNS = "id, user_id, kind, due_at, payload, status, attempts, answer, send_at"
_NUDGE_COLS_N = ", ".join(f"n.{c.strip()}" for c in _NUDGE_COLUMNS.split(","))


def _user(row: tuple[Any, ...]) -> User:
    return User(
        id=row[0],
        platform=row[1],
        platform_id=row[2],
        tz=row[3],
        lead_minutes=row[4],
        quiet_start=row[5],
        quiet_end=row[6],
        paused=bool(row[7]),
        unreachable=bool(row[8]),
        onboarded=bool(row[9]),
        massage_day=row[10],
        massage_time=row[11],
        massage_target=row[12],
        chat_id=row[13],
        dialog={} if row[14] in ("{}", "", None) else json.loads(row[14]),
        created_at=_opt_dt(row[15]),
        body_map=bool(row[16]),
        weekly_summary=bool(row[17]),
    )


def _user_values(user: User) -> tuple[Any, ...]:
    """Every column but `id`, in `_USER_COLUMNS` order."""
    return (
        user.platform,
        user.platform_id,
        user.tz,
        user.lead_minutes,
        user.quiet_start,
        user.quiet_end,
        int(user.paused),
        int(user.unreachable),
        int(user.onboarded),
        user.massage_day,
        user.massage_time,
        user.massage_target,
        user.chat_id,
        json.dumps(user.dialog),
        None if user.created_at is None else _iso(user.created_at),
        int(user.body_map),
        int(user.weekly_summary),
    )


def _schedule(row: tuple[Any, ...]) -> ScheduleEntry:
    return ScheduleEntry(
        id=row[0],
        user_id=row[1],
        time=row[2],
        weekday=row[3],
        on_date=None if row[4] is None else date.fromisoformat(row[4]),
        workout=row[5],
    )


def _soreness(row: tuple[Any, ...]) -> SorenessReport:
    return SorenessReport(row[0], row[1], row[2], row[3], _dt(row[4]), row[5])


def _massage(row: tuple[Any, ...]) -> MassageRecord:
    return MassageRecord(row[0], row[1], _dt(row[2]), row[3])


def _red_flag(row: tuple[Any, ...]) -> RedFlagEvent:
    return RedFlagEvent(row[0], row[1], _dt(row[2]), tuple(json.loads(row[3])), row[4])


def _rolling(row: tuple[Any, ...]) -> RollingSession:
    return RollingSession(row[0], row[1], _dt(row[2]), row[3], tuple(json.loads(row[4])))


def _nudge(row: tuple[Any, ...]) -> Nudge:
    return Nudge(
        row[0], row[1], row[2], _dt(row[3]), json.loads(row[4]), row[5], row[6], row[7], _dt(row[8])
    )


# ---------------------------------------------------------------- the store


class Storage:
    """The bot's SQLite file. Open once per process; `close()` or use as a context manager."""

    def __init__(self, path: str | Path, clock: Clock = system_clock) -> None:
        self.path = str(path)
        self.clock = clock
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0)
        self.db = Database(conn, execute_plugins=False)
        self.db.enable_wal()
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA secure_delete = ON")  # deleted rows are overwritten, not left
        self._depth = 0  # open `transaction()` blocks
        self._forgot = False  # a user was forgotten: checkpoint the WAL after the commit
        self.db.execute("PRAGMA foreign_keys = ON")
        migrate(self.db)
        self._execute = self.db.execute

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Storage:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes (e.g. enqueueing a batch of nudges): all of them commit, or none."""
        self._depth += 1
        try:
            with self.db.atomic():
                yield
        finally:
            self._depth -= 1
        self._after_commit()

    def _after_commit(self) -> None:
        """After `forget_user` commits, empty the WAL too: the deleted rows' old pages would
        otherwise stay in it until the next checkpoint."""
        if self._forgot and self._depth == 0:
            self._forgot = False
            self._execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def _insert(self, sql: str, params: tuple[Any, ...]) -> int:
        """Insert one row of a user; `LookupError` when there is no such user."""
        try:
            row_id = self._execute(sql, params).lastrowid
        except sqlite3.IntegrityError as e:
            if "FOREIGN KEY" in str(e):
                raise LookupError(f"no user {params[0]}") from e
            raise
        assert row_id is not None
        return row_id

    # users

    def user_for(self, platform: str, platform_id: str, default_tz: str) -> User:
        sql = f"SELECT {_USER_COLUMNS} FROM users WHERE platform = ? AND platform_id = ?"
        row = self._execute(sql, (platform, platform_id)).fetchone()
        if row is None:
            new = User(0, platform, platform_id, default_tz, created_at=self.clock())
            cursor = self._execute(
                f"INSERT OR IGNORE INTO users ({_USER_COLUMNS}) VALUES (NULL{', ?' * 17})",
                _user_values(new),
            )
            if cursor.rowcount == 1 and cursor.lastrowid is not None:
                new.id = cursor.lastrowid
                return new
            row = self._execute(sql, (platform, platform_id)).fetchone()  # another connection won
        return _user(row)

    def get_user(self, user_id: int) -> User | None:
        row = self._execute(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,))
        found = row.fetchone()
        return None if found is None else _user(found)

    def save_user(self, user: User) -> None:
        cursor = self._execute(_SAVE_USER_SQL, (*_user_values(user), user.id))
        if cursor.rowcount == 0:
            raise LookupError(f"no user {user.id}")

    def count_rows(self, user_id: int) -> int:
        """Rows about this user in every table, the user row included."""
        counts = " + ".join(f"(SELECT COUNT(*) FROM {t} WHERE user_id = :u)" for t in USER_TABLES)
        sql = f"SELECT (SELECT COUNT(*) FROM users WHERE id = :u) + {counts}"
        return int(self._execute(sql, {"u": user_id}).fetchone()[0])

    # schedules

    def add_schedule(
        self,
        user_id: int,
        time: str,
        weekday: int | None = None,
        on_date: date | None = None,
        workout: str | None = None,
    ) -> ScheduleEntry:
        day = None if on_date is None else on_date.isoformat()
        entry_id = self._insert(
            "INSERT INTO schedules (user_id, time, weekday, on_date, workout) "
            "VALUES (?, ?, ?, ?, ?)",
            (user_id, time, weekday, day, workout),
        )
        return ScheduleEntry(entry_id, user_id, time, weekday, on_date, workout)

    def schedules(self, user_id: int) -> list[ScheduleEntry]:
        sql = f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE user_id = ? ORDER BY id"
        return [_schedule(row) for row in self._execute(sql, (user_id,))]

    def remove_schedule(self, user_id: int, entry_id: int) -> bool:
        sql = "DELETE FROM schedules WHERE id = ? AND user_id = ?"
        return self._execute(sql, (entry_id, user_id)).rowcount > 0

    def clear_schedules(self, user_id: int) -> int:
        return self._execute("DELETE FROM schedules WHERE user_id = ?", (user_id,)).rowcount

    # soreness

    def record_soreness(
        self, user_id: int, area: str, severity: int, at: datetime, note: str = ""
    ) -> SorenessReport:
        stamp = _iso(at)
        report_id = self._insert(
            "INSERT INTO soreness (user_id, area, severity, at, note) VALUES (?, ?, ?, ?, ?)",
            (user_id, area, severity, stamp, note),
        )
        return SorenessReport(report_id, user_id, area, severity, _dt(stamp), note)

    def get_soreness(self, user_id: int, report_id: int) -> SorenessReport | None:
        sql = f"SELECT {_SORENESS_COLUMNS} FROM soreness WHERE id = ? AND user_id = ?"
        row = self._execute(sql, (report_id, user_id)).fetchone()
        return None if row is None else _soreness(row)

    def update_soreness(
        self, user_id: int, report_id: int, *, area: str | None = None, severity: int | None = None
    ) -> SorenessReport | None:
        self._execute(
            "UPDATE soreness SET area = COALESCE(?, area), severity = COALESCE(?, severity) "
            "WHERE id = ? AND user_id = ?",
            (area, severity, report_id, user_id),
        )
        return self.get_soreness(user_id, report_id)

    def delete_soreness(self, user_id: int, report_id: int) -> bool:
        sql = "DELETE FROM soreness WHERE id = ? AND user_id = ?"
        return self._execute(sql, (report_id, user_id)).rowcount > 0

    def soreness_since(self, user_id: int, since: datetime) -> list[SorenessReport]:
        sql = (
            f"SELECT {_SORENESS_COLUMNS} FROM soreness WHERE user_id = ? AND at >= ? "
            "ORDER BY at, id"
        )
        return [_soreness(row) for row in self._execute(sql, (user_id, _iso(since)))]

    # massages

    def record_massage(self, user_id: int, at: datetime, note: str = "") -> MassageRecord:
        stamp = _iso(at)
        massage_id = self._insert(
            "INSERT INTO massages (user_id, at, note) VALUES (?, ?, ?)", (user_id, stamp, note)
        )
        return MassageRecord(massage_id, user_id, _dt(stamp), note)

    def delete_massage(self, user_id: int, massage_id: int) -> bool:
        sql = "DELETE FROM massages WHERE id = ? AND user_id = ?"
        return self._execute(sql, (massage_id, user_id)).rowcount > 0

    def massages_since(self, user_id: int, since: datetime) -> list[MassageRecord]:
        sql = (
            f"SELECT {_MASSAGE_COLUMNS} FROM massages WHERE user_id = ? AND at >= ? ORDER BY at, id"
        )
        return [_massage(row) for row in self._execute(sql, (user_id, _iso(since)))]

    def last_massage(self, user_id: int) -> MassageRecord | None:
        sql = (
            f"SELECT {_MASSAGE_COLUMNS} FROM massages WHERE user_id = ? "
            "ORDER BY at DESC, id DESC LIMIT 1"
        )
        row = self._execute(sql, (user_id,)).fetchone()
        return None if row is None else _massage(row)

    # red flags

    def record_red_flag(
        self, user_id: int, at: datetime, areas: tuple[str, ...], text: str
    ) -> RedFlagEvent:
        stamp = _iso(at)
        event_id = self._insert(
            "INSERT INTO red_flags (user_id, at, areas, text) VALUES (?, ?, ?, ?)",
            (user_id, stamp, json.dumps(list(areas)), text),
        )
        return RedFlagEvent(event_id, user_id, _dt(stamp), tuple(areas), text)

    def red_flags_since(self, user_id: int, since: datetime) -> list[RedFlagEvent]:
        sql = (
            f"SELECT {_RED_FLAG_COLUMNS} FROM red_flags WHERE user_id = ? AND at >= ? "
            "ORDER BY at, id"
        )
        return [_red_flag(row) for row in self._execute(sql, (user_id, _iso(since)))]

    # rolling sessions

    def record_rolling(
        self, user_id: int, at: datetime, seconds: int, areas: tuple[str, ...]
    ) -> RollingSession:
        stamp = _iso(at)
        session_id = self._insert(
            "INSERT INTO rolling (user_id, at, seconds, areas) VALUES (?, ?, ?, ?)",
            (user_id, stamp, seconds, json.dumps(list(areas))),
        )
        return RollingSession(session_id, user_id, _dt(stamp), seconds, tuple(areas))

    def rolling_since(self, user_id: int, since: datetime) -> list[RollingSession]:
        sql = (
            f"SELECT {_ROLLING_COLUMNS} FROM rolling WHERE user_id = ? AND at >= ? ORDER BY at, id"
        )
        return [_rolling(row) for row in self._execute(sql, (user_id, _iso(since)))]

    # nudge outbox

    def enqueue_nudge(
        self, user_id: int, kind: str, due_at: datetime, payload: dict[str, Any]
    ) -> int | None:
        """Plan a nudge; the new id, or None when (user_id, kind, due_at) is already planned or,
        when `payload` has a "ref", a nudge of that kind and ref exists in any status."""
        return self._enqueue(user_id, kind, due_at, payload, status="pending", error=None)

    def _enqueue(
        self,
        user_id: int,
        kind: str,
        due_at: datetime,
        payload: dict[str, Any],
        *,
        status: str,
        error: str | None,
        send_at: datetime | None = None,
    ) -> int | None:
        values = (
            user_id,
            kind,
            _iso(due_at),
            json.dumps(payload),
            status,
            error,
            _iso(self.clock()),
            _iso(due_at if send_at is None else send_at),
        )
        ref = payload.get("ref")
        if ref is None:
            cursor = self._execute(
                "INSERT OR IGNORE INTO nudges "
                "(user_id, kind, due_at, payload, status, error, created_at, send_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
        else:
            cursor = self._execute(
                "INSERT OR IGNORE INTO nudges "
                "(user_id, kind, due_at, payload, status, error, created_at, send_at) "
                "SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM nudges "
                "WHERE user_id = ? AND kind = ? AND json_extract(payload, '$.ref') = ?)",
                (*values, user_id, kind, str(ref)),
            )
        return cursor.lastrowid if cursor.rowcount == 1 else None

    def add_planned(self, user_id: int, planned: Sequence[PlannedNudge]) -> int:
        """Insert planned nudges (idempotent, see `enqueue_nudge`); returns rows added."""
        added = 0
        for item in planned:
            error = None if item.reason is None else PLAN_SKIP_PREFIX + item.reason
            if self._enqueue(
                user_id,
                item.kind,
                item.due_at,
                item.payload,
                status=item.status,
                error=error,
                send_at=item.send_at,
            ):
                added += 1
        return added

    def replace_nudges(self, user_id: int, now: datetime, planned: Sequence[PlannedNudge]) -> int:
        """Re-plan one user: their pending (and plan-time skipped) rows of the planner's kinds
        due after `now` go, `planned` comes in; one transaction. Returns rows added.

        The user's planning bookmark is cleared too: the scheduler's next pass plans them
        from then on with their new settings (see `users_to_plan`)."""
        kinds = ", ".join("?" * len(PLANNED_KINDS))
        with self.db.atomic():
            self._execute(
                f"DELETE FROM nudges WHERE user_id = ? AND due_at > ? AND kind IN ({kinds}) "
                "AND (status = 'pending' OR (status = 'skipped' AND error LIKE ?))",
                (user_id, _iso(now), *PLANNED_KINDS, PLAN_SKIP_PREFIX + "%"),
            )
            self._execute("UPDATE users SET planned_until = '' WHERE id = ?", (user_id,))
            return self.add_planned(user_id, planned)

    def get_nudge(self, nudge_id: int) -> Nudge | None:
        row = self._execute(f"SELECT {_NUDGE_COLUMNS} FROM nudges WHERE id = ?", (nudge_id,))
        found = row.fetchone()
        return None if found is None else _nudge(found)

    def pending_nudges_of(self, user_id: int) -> list[Nudge]:
        sql = (
            f"SELECT {_NUDGE_COLUMNS} FROM nudges WHERE user_id = ? AND status = 'pending' "
            "ORDER BY due_at, id"
        )
        return [_nudge(row) for row in self._execute(sql, (user_id,)).fetchall()]

    def latest_sent_nudge(self, user_id: int, since: datetime) -> tuple[Nudge, datetime] | None:
        sql = (
            f"SELECT {_NUDGE_COLUMNS}, sent_at FROM nudges WHERE user_id = ? AND status = 'sent' "
            "AND sent_at >= ? ORDER BY sent_at DESC, id DESC LIMIT 1"
        )
        row = self._execute(sql, (user_id, _iso(since))).fetchone()
        return None if row is None else (_nudge(row[:-1]), _dt(row[-1]))

    def pending_nudges(
        self, until: datetime, limit: int, platform: str | None = None
    ) -> list[Nudge]:
        """Up to `limit` pending nudges whose send time is at or before `until`, in send-time
        order; only users of `platform` when given."""
        if platform is None:
            sql = (
                f"SELECT {_NUDGE_COLUMNS} FROM nudges WHERE status = 'pending' AND send_at <= ? "
                "ORDER BY send_at, id LIMIT ?"
            )
            return [_nudge(row) for row in self._execute(sql, (_iso(until), limit))]
        sql = (
            f"SELECT {_NUDGE_COLS_N} FROM nudges n JOIN users u ON u.id = n.user_id "
            "WHERE n.status = 'pending' AND n.send_at <= ? AND u.platform = ? "
            "ORDER BY n.send_at, n.id LIMIT ?"
        )
        return [_nudge(row) for row in self._execute(sql, (_iso(until), platform, limit))]

    def next_due(self, platform: str | None = None) -> datetime | None:
        """When the earliest pending nudge (of `platform`'s users, when given) is to be sent."""
        if platform is None:
            sql = "SELECT MIN(send_at) FROM nudges WHERE status = 'pending'"
            row = self._execute(sql).fetchone()
        else:
            sql = (
                "SELECT MIN(n.send_at) FROM nudges n JOIN users u ON u.id = n.user_id "
                "WHERE n.status = 'pending' AND u.platform = ?"
            )
            row = self._execute(sql, (platform,)).fetchone()
        return None if row is None or row[0] is None else _dt(row[0])

    def send_load(
        self, platform: str | None, start: datetime, end: datetime
    ) -> dict[datetime, int]:
        """How many pending or sending nudges (of `platform`'s users) are to be sent at each
        instant in [start, end): the send slots already taken."""
        if platform is None:
            sql = (
                "SELECT send_at, COUNT(*) FROM nudges WHERE status IN ('pending', 'sending') "
                "AND send_at >= ? AND send_at < ? GROUP BY send_at"
            )
            params: tuple[Any, ...] = (_iso(start), _iso(end))
        else:
            sql = (
                "SELECT n.send_at, COUNT(*) FROM nudges n JOIN users u ON u.id = n.user_id "
                "WHERE n.status IN ('pending', 'sending') AND n.send_at >= ? AND n.send_at < ? "
                "AND u.platform = ? GROUP BY n.send_at"
            )
            params = (_iso(start), _iso(end), platform)
        return {_dt(at): count for at, count in self._execute(sql, params)}

    def release_nudge(self, nudge_id: int, error: str | None = None) -> bool:
        """Put a nudge in `sending` back to `pending` (it was not delivered: rate limited)."""
        cursor = self._execute(
            "UPDATE nudges SET status = 'pending', error = ? WHERE id = ? AND status = 'sending'",
            (error, nudge_id),
        )
        return cursor.rowcount == 1

    def unclaim_nudge(self, nudge_id: int) -> bool:
        """Undo a claim whose request never started: `pending` again, the attempt not counted."""
        cursor = self._execute(
            "UPDATE nudges SET status = 'pending', attempts = attempts - 1 "
            "WHERE id = ? AND status = 'sending'",
            (nudge_id,),
        )
        return cursor.rowcount == 1

    def fail_interrupted(self, error: str = "interrupted: delivery unknown") -> int:
        """At start-up: rows left in `sending` by a dead process become `failed`, never resent."""
        sql = "UPDATE nudges SET status = 'failed', error = ? WHERE status = 'sending'"
        return self._execute(sql, (error,)).rowcount

    def expire_nudges(self, before: datetime, error: str) -> int:
        """Pending nudges due before `before` become `missed` with `error`."""
        sql = (
            "UPDATE nudges SET status = 'missed', error = ? WHERE status = 'pending' AND due_at < ?"
        )
        return self._execute(sql, (error, _iso(before))).rowcount

    def set_unreachable(self, user_id: int, unreachable: bool = True) -> bool:
        """Flag a user who blocked the bot, touching no other column."""
        sql = "UPDATE users SET unreachable = ? WHERE id = ?"
        return self._execute(sql, (int(unreachable), user_id)).rowcount == 1

    def users_to_plan(
        self, before: datetime, limit: int
    ) -> list[tuple[User, list[ScheduleEntry], datetime | None]]:
        """Up to `limit` users whose plan ends before `before`, earliest first, with their
        schedule entries and where their plan ends (None: plan them from now). Every user
        is listed, paused and unreachable ones too: the planner moves their bookmark on."""
        rows = self._execute(
            f"SELECT {_USER_COLUMNS}, planned_until FROM users WHERE planned_until < ? "
            "ORDER BY planned_until LIMIT ?",
            (_iso(before), limit),
        ).fetchall()
        if not rows:
            return []
        entries: dict[int, list[ScheduleEntry]] = {row[0]: [] for row in rows}
        marks = ", ".join("?" * len(entries))
        sql = (
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE user_id IN ({marks}) "
            "ORDER BY user_id, id"
        )
        for row in self._execute(sql, tuple(entries)):
            entries[row[1]].append(_schedule(row))
        return [
            (_user(row[:-1]), entries[row[0]], _dt(row[-1]) if row[-1] else None) for row in rows
        ]

    def checkpoint_wal(self) -> tuple[int, int]:
        """Copy the write-ahead log into the database file, on a connection of its own so
        that a worker thread may run it: (frames in the log, frames copied).

        For the planning pass, which commits often: otherwise the commit that takes the
        log past 1,000 frames runs this itself, with its fsyncs (tens to hundreds of ms),
        on the bot's connection, holding the event loop. PASSIVE: it never waits for,
        nor blocks, the bot's writes."""
        if self.path == ":memory:":
            return 0, 0
        conn = sqlite3.connect(self.path, timeout=10.0)
        try:
            _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()
        return int(frames), int(copied)

    def set_planned_until(self, marks: Sequence[tuple[int, datetime]]) -> None:
        """Move users' planning bookmarks: (user id, planned until) pairs, one statement."""
        with self.transaction():
            self.db.conn.executemany(
                "UPDATE users SET planned_until = ? WHERE id = ?",
                [(_iso(until), user_id) for user_id, until in marks],
            )

    def claim_nudge(self, nudge_id: int) -> bool:
        """Move a pending nudge to `sending` (one more attempt); False if it was not pending."""
        cursor = self._execute(
            "UPDATE nudges SET status = 'sending', attempts = attempts + 1 "
            "WHERE id = ? AND status = 'pending'",
            (nudge_id,),
        )
        return cursor.rowcount == 1

    def mark_nudge(
        self,
        nudge_id: int,
        status: str,
        *,
        error: str | None = None,
        sent_at: datetime | None = None,
    ) -> bool:
        """Set a nudge's status (and error); `sent` stamps `sent_at`, now by default."""
        if status not in NUDGE_STATUSES:
            raise ValueError(f"unknown nudge status {status!r}")
        if status == "sent" and sent_at is None:
            sent_at = self.clock()
        cursor = self._execute(
            "UPDATE nudges SET status = ?, error = ?, sent_at = COALESCE(?, sent_at) WHERE id = ?",
            (status, error, None if sent_at is None else _iso(sent_at), nudge_id),
        )
        return cursor.rowcount == 1

    def answer_nudge(self, nudge_id: int, answer: str) -> bool:
        """Record what the user did with a nudge ("started", "skipped"), nothing else."""
        if answer not in NUDGE_ANSWERS:
            raise ValueError(f"unknown nudge answer {answer!r}")
        cursor = self._execute("UPDATE nudges SET answer = ? WHERE id = ?", (answer, nudge_id))
        return cursor.rowcount == 1

    def nudges_since(self, user_id: int, since: datetime) -> list[Nudge]:
        """The user's nudges due at or after `since`, any status, earliest first."""
        sql = (
            f"SELECT {_NUDGE_COLUMNS} FROM nudges WHERE user_id = ? AND due_at >= ? "
            "ORDER BY due_at, id"
        )
        return [_nudge(row) for row in self._execute(sql, (user_id, _iso(since)))]

    def mark_sent(self, sent: Sequence[tuple[int, datetime]]) -> None:
        """Mark many nudges `sent` at their times in one statement (the dispatcher's batch)."""
        with self.transaction():
            self.db.conn.executemany(
                "UPDATE nudges SET status = 'sent', error = NULL, sent_at = ? WHERE id = ?",
                [(_iso(at), nudge_id) for nudge_id, at in sent],
            )

    def record_heartbeat(self, at: datetime) -> None:
        self._execute(
            "INSERT INTO meta (key, value) VALUES ('heartbeat', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (_iso(at),),
        )

    def last_heartbeat(self) -> datetime | None:
        row = self._execute("SELECT value FROM meta WHERE key = 'heartbeat'").fetchone()
        return None if row is None else _dt(row[0])

    def nudge_counts(self) -> dict[str, int]:
        """Nudges per status, every known status present (0 when none)."""
        counts = dict.fromkeys(NUDGE_STATUSES, 0)
        for status, n in self._execute("SELECT status, COUNT(*) FROM nudges GROUP BY status"):
            counts[status] = n
        return counts

    # the user's own data

    def export_user(self, user_id: int) -> dict[str, Any]:
        user = self.get_user(user_id)
        by_user = "WHERE user_id = ? ORDER BY id"
        params = (user_id,)
        nudges = []
        for r in self._execute(
            f"SELECT {_NUDGE_COLUMNS}, sent_at, error, created_at FROM nudges {by_user}", params
        ):
            nudge = as_json_dict(_nudge(r))
            nudge["sent_at"] = None if r[9] is None else _dt(r[9]).isoformat()
            nudge["error"] = r[10]
            nudge["created_at"] = _dt(r[11]).isoformat()
            nudges.append(nudge)

        def rows(columns: str, table: str, record: Callable[[tuple[Any, ...]], Any]) -> list[Any]:
            sql = f"SELECT {columns} FROM {table} {by_user}"
            return [as_json_dict(record(r)) for r in self._execute(sql, params)]

        return {
            "user": None if user is None else as_json_dict(user),
            "schedules": rows(_SCHEDULE_COLUMNS, "schedules", _schedule),
            "soreness": rows(_SORENESS_COLUMNS, "soreness", _soreness),
            "massages": rows(_MASSAGE_COLUMNS, "massages", _massage),
            "red_flags": rows(_RED_FLAG_COLUMNS, "red_flags", _red_flag),
            "rolling": rows(_ROLLING_COLUMNS, "rolling", _rolling),
            "nudges": nudges,
        }

    def forget_user(self, user_id: int) -> int:
        deleted = 0
        with self.db.atomic():
            for table in USER_TABLES:
                sql = f"DELETE FROM {table} WHERE user_id = ?"
                deleted += self._execute(sql, (user_id,)).rowcount
            deleted += self._execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount
        self._forgot = True
        self._after_commit()
        return deleted


if TYPE_CHECKING:

    def _implements_the_outbox(store: Storage) -> Outbox:
        return store


# ---------------------------------------------------------------- from outside the bot


def read_heartbeat(path: str | Path) -> datetime | None:
    """The scheduler's last heartbeat in the file at `path`, read without writing anything
    (`python -m bot healthcheck` runs beside the bot). sqlite3.Error when it cannot be read."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'heartbeat'").fetchone()
    return None if row is None else _dt(row[0])


def backup(path: str | Path, target: str | Path) -> None:
    """A consistent copy of the database at `path` into `target`, with SQLite's online
    backup API: safe while the bot writes (a `cp` of a live WAL database can lose commits)."""
    with (
        closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)

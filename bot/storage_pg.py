"""`PgStorage`: the `Outbox` protocol on PostgreSQL, for a bot that outgrows one SQLite file.

Chosen by `BOT_DATABASE_URL=postgresql://...`; SQLite (`bot.storage`) stays the embedded
default. Held to the same contract tests as SQLite and memory (tests/test_ports.py,
tests/test_storage.py), against a real server that the tests start (tests/pg.py).

The event loop never waits on PostgreSQL
    The core's `Store` is synchronous, and the coach calls it all through a turn: making it
    async would mean an async core. Instead this store is synchronous on a thread-safe
    `psycopg_pool.ConnectionPool`, says so with `blocking = True`, and its callers keep it
    off the event loop:
    - a coach turn runs in a worker thread (`bot.adapters.policy.run_turn`, which calls the
      coach directly for a store that does not block: SQLite stays on the loop, as fast as
      before);
    - the nudge scheduler runs on an event loop of its own in a thread
      (`bot.scheduler.run_nudges_beside`); only its sends hop over to the main loop, where
      the platforms' sessions live. Its waits on the database delay the next nudge by a
      query's time, never a user's reply.
    A sync pool with threads rather than psycopg's async API: the same SQL, one code path,
    and the coach and the scheduler unchanged.

Connections and transactions
    Pool connections are in autocommit: a statement outside `transaction()` commits on its
    own. `transaction()` takes one connection for the calling thread and keeps it there
    until the outermost block ends, so every call inside (a whole coach turn) runs on it;
    nested blocks are savepoints, and a block that raises rolls back to where it began.
    Each thread has its own transaction: turns in several threads never share one. (So a
    transaction must not stay open across an `await`: other coroutines of that loop's
    thread would write into it. No caller does; every transaction is a synchronous block.)

Several workers (docs/scaling.md)
    - `claim_nudge` is `UPDATE ... WHERE status = 'pending'` on a row locked with
      `FOR UPDATE SKIP LOCKED`: one claimer wins, the other gets False without waiting.
    - `pending_nudges` reads with `FOR UPDATE OF nudges SKIP LOCKED`, so rows another
      worker is claiming right now are not returned; `claim_due` reads and claims a batch
      in one statement.
    - Claims are stamped with the worker's id (`claimed_by`): each worker joins the workers
      (`join_workers`: an id from a sequence, a session advisory lock (WORKER_LOCKS, id) on
      a connection of its own), and `fail_interrupted` fails only the rows of workers whose
      lock it can take, i.e. dead ones.
    - Roles one worker plays at a time (the planner, the Telegram poller, the Discord
      gateway) are session advisory locks on that connection (`try_role`); a dead worker's
      roles are free as soon as the server sees its connection end.
    - The send budget of a platform is a token bucket row (`take_send_token`), taken by
      every worker's pacer, emptied by a 429 (`pause_sends`).
    - Webhook updates of one user are ordered across workers by tickets (`order_updates`,
      bot/adapters/telegram/ordering.py).
    - `users_to_plan` locks the listed users (`FOR NO KEY UPDATE SKIP LOCKED`) for the
      rest of the planning transaction, and a coach turn locks its user (`user_for` inside a
      transaction): a re-plan and a planning pass of the same user take turns, and two
      turns of one user never overwrite each other's changes.
    - Dedupe is in unique indexes, (user_id, kind, due_at) and (user_id, kind,
      payload->>'ref'), with `ON CONFLICT DO NOTHING`: safe under concurrent inserts.
    - Migrations take an advisory lock: workers starting together migrate once.

Values: native types. Datetimes are `timestamptz` (sessions run in UTC; they come back as
aware UTC datetimes; naive ones raise `ValueError`), dates `date`, flags `boolean`, the
payload and red-flag/rolling areas `jsonb`, a user's `dialog` `json` (kept as written).
`planned_until` is NULL where SQLite has '' (not planned yet). NUL characters, which
PostgreSQL text cannot hold, are dropped from free text.

Schema version: the one row of `schema_version`. `MIGRATIONS[i]` takes the schema from
version i to i + 1, each in its own transaction with the version bump; a database newer
than this code is refused. The schema mirrors SQLite's: a new SQLite migration gets a
PostgreSQL one here.

Forgetting: `forget_user` deletes every row of the user in one transaction. Unlike SQLite's
`secure_delete`, PostgreSQL leaves a deleted row's bytes in its data files until VACUUM
(autovacuum) frees the space and it is reused, and in its WAL until recycled: disk
encryption is the answer to that threat, not this module.

Secrets: a database URL may hold a password; `redact_url` replaces it in every message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import Connection
from psycopg.types.json import Json, Jsonb
from psycopg_pool import ConnectionPool

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
"""Tables with a user_id column, children first (the order `forget_user` deletes in): the
SQLite store's tables (this module imports only the core, so the list is repeated)."""

TABLES = ("users", *USER_TABLES, "meta")
"""Every table of the bot's data, parents first (the order a copy fills them in)."""

MIGRATION_LOCK = 7_315_021_001
"""Advisory lock key held while migrating, so that workers starting together migrate once."""

BOT_LOCK = 7_315_021_000
"""The lock an older bot (one per database) held exclusively; workers hold it shared, so
neither starts beside the other."""

WORKER_LOCKS = 731_502_101
"""Advisory lock class of the workers' liveness locks: (WORKER_LOCKS, worker id), held by
each worker's own session for as long as it runs. Free: that worker is gone."""

ROLE_LOCKS = 731_502_102
"""Advisory lock class of the roles one worker at a time plays: (ROLE_LOCKS, hashtext(role))."""


# ---------------------------------------------------------------- migrations

_V1_CORE_TABLES = (
    """CREATE TABLE users (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        platform TEXT NOT NULL,
        platform_id TEXT NOT NULL,
        tz TEXT NOT NULL,
        lead_minutes INTEGER NOT NULL,
        quiet_start TEXT,
        quiet_end TEXT,
        paused BOOLEAN NOT NULL,
        unreachable BOOLEAN NOT NULL,
        onboarded BOOLEAN NOT NULL,
        massage_day TEXT NOT NULL,
        massage_time TEXT NOT NULL,
        massage_target INTEGER NOT NULL,
        chat_id TEXT,
        dialog JSON NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        UNIQUE (platform, platform_id)
    )""",
    """CREATE TABLE schedules (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        time TEXT NOT NULL,
        weekday INTEGER,
        on_date DATE,
        workout TEXT
    )""",
    "CREATE INDEX schedules_user ON schedules (user_id)",
    """CREATE TABLE soreness (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        area TEXT NOT NULL,
        severity INTEGER NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX soreness_user_at ON soreness (user_id, at)",
    """CREATE TABLE massages (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        at TIMESTAMPTZ NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX massages_user_at ON massages (user_id, at)",
    """CREATE TABLE red_flags (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        at TIMESTAMPTZ NOT NULL,
        areas JSONB NOT NULL,
        text TEXT NOT NULL
    )""",
    "CREATE INDEX red_flags_user_at ON red_flags (user_id, at)",
    """CREATE TABLE rolling (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        at TIMESTAMPTZ NOT NULL,
        seconds INTEGER NOT NULL,
        areas JSONB NOT NULL
    )""",
    "CREATE INDEX rolling_user_at ON rolling (user_id, at)",
)
"""SQLite's v1 and v3: the coach's own state."""

_V2_NUDGE_OUTBOX = (
    """CREATE TABLE nudges (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        due_at TIMESTAMPTZ NOT NULL,
        payload JSONB NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        sent_at TIMESTAMPTZ,
        error TEXT,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX nudges_user_kind_due ON nudges (user_id, kind, due_at)",
    # One nudge per thing nudged about (the session instant, the month), in any status.
    "CREATE UNIQUE INDEX nudges_user_kind_ref ON nudges (user_id, kind, (payload->>'ref')) "
    "WHERE payload ? 'ref'",
    "CREATE INDEX nudges_pending_due ON nudges (due_at, id) WHERE status = 'pending'",
    "CREATE INDEX nudges_status ON nudges (status)",
    "ALTER TABLE users ADD COLUMN planned_until TIMESTAMPTZ",
    "CREATE INDEX users_planned_until ON users (planned_until NULLS FIRST, id)",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
"""SQLite's v2, v4 and v5: the outbox, the planning bookmarks, the heartbeat."""

_V3_PICTURES_AND_ANSWERS = (
    "ALTER TABLE users ADD COLUMN body_map BOOLEAN NOT NULL DEFAULT false",
    "ALTER TABLE users ADD COLUMN weekly_summary BOOLEAN NOT NULL DEFAULT false",
    "ALTER TABLE nudges ADD COLUMN answer TEXT",
)
"""SQLite's v6: two opt-in settings, and what the user did with a nudge they got."""

_V4_SEND_AT = (
    # When each nudge is to be sent, planned ahead inside its window (bot.core.send_slots);
    # rows planned before go at their due time. The dispatcher takes due rows in this order.
    "ALTER TABLE nudges ADD COLUMN send_at TIMESTAMPTZ",
    "UPDATE nudges SET send_at = due_at",
    "ALTER TABLE nudges ALTER COLUMN send_at SET NOT NULL",
    "CREATE INDEX nudges_pending_send ON nudges (send_at, id) WHERE status = 'pending'",
)
"""SQLite's v7: the send time planned ahead."""

_V5_WORKERS = (
    # Who claimed a row in `sending`: a start-up (or a survivor) fails only the rows of
    # workers that are gone, never those of a live one still waiting for Telegram's answer.
    "ALTER TABLE nudges ADD COLUMN claimed_by INTEGER",
    "CREATE SEQUENCE worker_ids AS INTEGER CYCLE",
    # One send budget per platform shared by every worker: a token bucket.
    """CREATE TABLE send_budget (
        platform TEXT PRIMARY KEY,
        tokens DOUBLE PRECISION NOT NULL,
        at TIMESTAMPTZ NOT NULL
    )""",
    # Webhook updates received and not yet handled, per user: handled in update_id order.
    """CREATE TABLE update_tickets (
        platform TEXT NOT NULL,
        user_key TEXT NOT NULL,
        update_id BIGINT NOT NULL,
        arrived_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (platform, user_key, update_id)
    )""",
)
"""PostgreSQL only (SQLite stays one process): several workers on one database."""

MIGRATIONS: list[tuple[str, ...]] = [
    _V1_CORE_TABLES,
    _V2_NUDGE_OUTBOX,
    _V3_PICTURES_AND_ANSWERS,
    _V4_SEND_AT,
    _V5_WORKERS,
]
SCHEMA_VERSION = len(MIGRATIONS)


class NewerSchemaError(RuntimeError):
    """The database was written by a newer version of this code: refused, never guessed at."""


def schema_version(conn: Connection[Any]) -> int:
    """The database's schema version (0: empty)."""
    # A query on the catalog, not to_regclass: that reads a cache which may not have seen
    # the table another worker created a moment ago.
    exists = conn.execute(
        "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return 0 if row is None else int(row[0])


def migrate(conn: Connection[Any], target: int = SCHEMA_VERSION) -> int:
    """Run the migrations from the database's version up to `target`, each in its own
    transaction together with the version bump; returns the new version."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise NewerSchemaError(
            f"database schema version {current} is newer than this code ({SCHEMA_VERSION})"
        )
    for version in range(current + 1, target + 1):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            if schema_version(conn) >= version:  # another worker got there first
                continue
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
    return max(current, target)


# ---------------------------------------------------------------- conversions


def redact_url(url: str) -> str:
    """`url` with any password replaced by `***`, for messages and logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port else ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))
    except ValueError:
        return "(a database URL that cannot be read)"


def redact_message(message: str, url: str) -> str:
    """A driver's error message as one line, without the password of `url` in it."""
    line = next((part.strip() for part in message.splitlines() if part.strip()), "unknown error")
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        line = line.replace(password, "***")
    return line


def _text(value: str) -> str:
    """Free text as PostgreSQL can hold it: without NUL characters."""
    return value.replace("\x00", "")


def _dt(at: datetime) -> datetime:
    return at if at.tzinfo is UTC else at.astimezone(UTC)


def _opt_dt(at: datetime | None) -> datetime | None:
    return None if at is None else _dt(at)


_USER_COLUMNS = (
    "id, platform, platform_id, tz, lead_minutes, quiet_start, quiet_end, paused, "
    "unreachable, onboarded, massage_day, massage_time, massage_target, chat_id, dialog, "
    "created_at, body_map, weekly_summary"
)
_USER_COLS_NO_ID = _USER_COLUMNS.removeprefix("id, ")
_SAVE_USER_SQL = (
    "UPDATE users SET platform = %s, platform_id = %s, tz = %s, lead_minutes = %s, "
    "quiet_start = %s, quiet_end = %s, paused = %s, unreachable = %s, onboarded = %s, "
    "massage_day = %s, massage_time = %s, massage_target = %s, chat_id = %s, dialog = %s, "
    "created_at = COALESCE(%s::timestamptz, created_at), body_map = %s, weekly_summary = %s "
    "WHERE id = %s"
)
_SCHEDULE_COLUMNS = "id, user_id, time, weekday, on_date, workout"
_SORENESS_COLUMNS = "id, user_id, area, severity, at, note"
_MASSAGE_COLUMNS = "id, user_id, at, note"
_RED_FLAG_COLUMNS = "id, user_id, at, areas, text"
_ROLLING_COLUMNS = "id, user_id, at, seconds, areas"
_NUDGE_COLUMNS = "id, user_id, kind, due_at, payload, status, attempts, answer, send_at"
_NUDGE_COLS_N = ", ".join(f"n.{c.strip()}" for c in _NUDGE_COLUMNS.split(","))


def _user(row: Sequence[Any]) -> User:
    return User(
        id=row[0],
        platform=row[1],
        platform_id=row[2],
        tz=row[3],
        lead_minutes=row[4],
        quiet_start=row[5],
        quiet_end=row[6],
        paused=row[7],
        unreachable=row[8],
        onboarded=row[9],
        massage_day=row[10],
        massage_time=row[11],
        massage_target=row[12],
        chat_id=row[13],
        dialog=row[14] or {},
        created_at=_opt_dt(row[15]),
        body_map=row[16],
        weekly_summary=row[17],
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
        user.paused,
        user.unreachable,
        user.onboarded,
        user.massage_day,
        user.massage_time,
        user.massage_target,
        user.chat_id,
        Json(user.dialog),
        None if user.created_at is None else utc(user.created_at),
        user.body_map,
        user.weekly_summary,
    )


def _schedule(row: Sequence[Any]) -> ScheduleEntry:
    return ScheduleEntry(row[0], row[1], row[2], row[3], row[4], row[5])


def _soreness(row: Sequence[Any]) -> SorenessReport:
    return SorenessReport(row[0], row[1], row[2], row[3], _dt(row[4]), row[5])


def _massage(row: Sequence[Any]) -> MassageRecord:
    return MassageRecord(row[0], row[1], _dt(row[2]), row[3])


def _red_flag(row: Sequence[Any]) -> RedFlagEvent:
    return RedFlagEvent(row[0], row[1], _dt(row[2]), tuple(row[3]), row[4])


def _rolling(row: Sequence[Any]) -> RollingSession:
    return RollingSession(row[0], row[1], _dt(row[2]), row[3], tuple(row[4]))


def _nudge(row: Sequence[Any]) -> Nudge:
    return Nudge(row[0], row[1], row[2], _dt(row[3]), row[4], row[5], row[6], row[7], _dt(row[8]))


def _configure(conn: Connection[Any]) -> None:
    """Every pooled connection: UTC sessions, so datetimes come back in UTC."""
    conn.execute("SET TIME ZONE 'UTC'")


# ---------------------------------------------------------------- the store


class PgStorage:
    """The bot's PostgreSQL database through a pool. Thread-safe; `close()` or use as a
    context manager."""

    blocking = True
    """Every call waits on a server: callers keep them off the event loop (module docstring)."""

    def __init__(
        self,
        url: str,
        clock: Clock = system_clock,
        *,
        min_size: int = 1,
        max_size: int = 12,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.clock = clock
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": True},
            configure=_configure,
            timeout=timeout,
            open=False,
            name="bot",
        )
        self._local = threading.local()  # the calling thread's transaction connection
        self.worker_id: int | None = None  # set by `join_workers`; stamped on claims
        self._worker_conn: Connection[Any] | None = None
        self._roles: set[str] = set()
        self._ticket_batches = 0
        try:
            self.pool.open(wait=True, timeout=timeout)
            with self.pool.connection() as conn:
                migrate(conn)
        except BaseException:
            self.pool.close()
            raise

    def close(self) -> None:
        self.leave_workers()
        self.pool.close()

    def __enter__(self) -> PgStorage:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # plumbing

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Writes inside commit together or not at all; a nested block is a savepoint."""
        conn: Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None:
            with conn.transaction():
                yield
            return
        with self.pool.connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    yield
            finally:
                self._local.conn = None

    @contextmanager
    def _conn(self) -> Iterator[Connection[Any]]:
        """The thread's transaction connection, or one from the pool (autocommit)."""
        conn: Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self.pool.connection() as pooled:
            yield pooled

    @property
    def _in_transaction(self) -> bool:
        return getattr(self._local, "conn", None) is not None

    def _all(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        with self._conn() as conn:
            return conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Any = ()) -> tuple[Any, ...] | None:
        with self._conn() as conn:
            return conn.execute(sql, params).fetchone()

    def _count(self, sql: str, params: Any = ()) -> int:
        """Run a write; the rows it touched."""
        with self._conn() as conn:
            return conn.execute(sql, params).rowcount

    def _insert(self, sql: str, params: Sequence[Any]) -> int:
        """Insert one row of a user (`sql` ends in `RETURNING id`); `LookupError` when there
        is no such user. Checked with WHERE EXISTS rather than by catching the foreign key
        error: an error would abort the caller's whole transaction."""
        row = self._one(sql, params)
        if row is None:
            raise LookupError(f"no user {params[0]}")
        return int(row[0])

    @staticmethod
    def _for_user(table: str, columns: str, count: int) -> str:
        """INSERT of one row for the user named by the first value, only if they exist."""
        marks = ", ".join(["%s"] * count)
        return (
            f"INSERT INTO {table} ({columns}) SELECT {marks} "
            "WHERE EXISTS (SELECT 1 FROM users WHERE id = %s) RETURNING id"
        )

    # users

    def user_for(self, platform: str, platform_id: str, default_tz: str) -> User:
        """Inside a transaction (a coach turn) the user's row stays locked until it ends:
        two turns of one user, in two threads or two workers, take turns."""
        lock = " FOR NO KEY UPDATE" if self._in_transaction else ""
        sql = f"SELECT {_USER_COLUMNS} FROM users WHERE platform = %s AND platform_id = %s{lock}"
        with self._conn() as conn:
            row = conn.execute(sql, (platform, platform_id)).fetchone()
            if row is None:
                new = User(0, platform, platform_id, default_tz, created_at=self.clock())
                marks = ", ".join(["%s"] * len(_USER_COLS_NO_ID.split(",")))
                inserted = conn.execute(
                    f"INSERT INTO users ({_USER_COLS_NO_ID}) VALUES ({marks}) "
                    "ON CONFLICT (platform, platform_id) DO NOTHING RETURNING id",
                    _user_values(new),
                ).fetchone()
                if inserted is not None:
                    new.id = int(inserted[0])
                    return new
                row = conn.execute(sql, (platform, platform_id)).fetchone()  # another won
        assert row is not None
        return _user(row)

    def get_user(self, user_id: int) -> User | None:
        row = self._one(f"SELECT {_USER_COLUMNS} FROM users WHERE id = %s", (user_id,))
        return None if row is None else _user(row)

    def save_user(self, user: User) -> None:
        if self._count(_SAVE_USER_SQL, (*_user_values(user), user.id)) == 0:
            raise LookupError(f"no user {user.id}")

    def count_rows(self, user_id: int) -> int:
        """Rows about this user in every table, the user row included."""
        counts = " + ".join(
            f"(SELECT COUNT(*) FROM {t} WHERE user_id = %(u)s)" for t in USER_TABLES
        )
        sql = f"SELECT (SELECT COUNT(*) FROM users WHERE id = %(u)s) + {counts}"
        row = self._one(sql, {"u": user_id})
        return 0 if row is None else int(row[0])

    # schedules

    def add_schedule(
        self,
        user_id: int,
        time: str,
        weekday: int | None = None,
        on_date: date | None = None,
        workout: str | None = None,
    ) -> ScheduleEntry:
        entry_id = self._insert(
            self._for_user("schedules", "user_id, time, weekday, on_date, workout", 5),
            (user_id, time, weekday, on_date, workout, user_id),
        )
        return ScheduleEntry(entry_id, user_id, time, weekday, on_date, workout)

    def schedules(self, user_id: int) -> list[ScheduleEntry]:
        sql = f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE user_id = %s ORDER BY id"
        return [_schedule(row) for row in self._all(sql, (user_id,))]

    def remove_schedule(self, user_id: int, entry_id: int) -> bool:
        sql = "DELETE FROM schedules WHERE id = %s AND user_id = %s"
        return self._count(sql, (entry_id, user_id)) > 0

    def clear_schedules(self, user_id: int) -> int:
        return self._count("DELETE FROM schedules WHERE user_id = %s", (user_id,))

    # soreness

    def record_soreness(
        self, user_id: int, area: str, severity: int, at: datetime, note: str = ""
    ) -> SorenessReport:
        stamp, note = utc(at), _text(note)
        report_id = self._insert(
            self._for_user("soreness", "user_id, area, severity, at, note", 5),
            (user_id, area, severity, stamp, note, user_id),
        )
        return SorenessReport(report_id, user_id, area, severity, stamp, note)

    def get_soreness(self, user_id: int, report_id: int) -> SorenessReport | None:
        sql = f"SELECT {_SORENESS_COLUMNS} FROM soreness WHERE id = %s AND user_id = %s"
        row = self._one(sql, (report_id, user_id))
        return None if row is None else _soreness(row)

    def update_soreness(
        self, user_id: int, report_id: int, *, area: str | None = None, severity: int | None = None
    ) -> SorenessReport | None:
        row = self._one(
            "UPDATE soreness SET area = COALESCE(%s, area), "
            "severity = COALESCE(%s::integer, severity) WHERE id = %s AND user_id = %s "
            f"RETURNING {_SORENESS_COLUMNS}",
            (area, severity, report_id, user_id),
        )
        return None if row is None else _soreness(row)

    def delete_soreness(self, user_id: int, report_id: int) -> bool:
        sql = "DELETE FROM soreness WHERE id = %s AND user_id = %s"
        return self._count(sql, (report_id, user_id)) > 0

    def soreness_since(self, user_id: int, since: datetime) -> list[SorenessReport]:
        sql = (
            f"SELECT {_SORENESS_COLUMNS} FROM soreness WHERE user_id = %s AND at >= %s "
            "ORDER BY at, id"
        )
        return [_soreness(row) for row in self._all(sql, (user_id, utc(since)))]

    # massages

    def record_massage(self, user_id: int, at: datetime, note: str = "") -> MassageRecord:
        stamp, note = utc(at), _text(note)
        massage_id = self._insert(
            self._for_user("massages", "user_id, at, note", 3), (user_id, stamp, note, user_id)
        )
        return MassageRecord(massage_id, user_id, stamp, note)

    def delete_massage(self, user_id: int, massage_id: int) -> bool:
        sql = "DELETE FROM massages WHERE id = %s AND user_id = %s"
        return self._count(sql, (massage_id, user_id)) > 0

    def massages_since(self, user_id: int, since: datetime) -> list[MassageRecord]:
        sql = (
            f"SELECT {_MASSAGE_COLUMNS} FROM massages WHERE user_id = %s AND at >= %s "
            "ORDER BY at, id"
        )
        return [_massage(row) for row in self._all(sql, (user_id, utc(since)))]

    def last_massage(self, user_id: int) -> MassageRecord | None:
        sql = (
            f"SELECT {_MASSAGE_COLUMNS} FROM massages WHERE user_id = %s "
            "ORDER BY at DESC, id DESC LIMIT 1"
        )
        row = self._one(sql, (user_id,))
        return None if row is None else _massage(row)

    # red flags

    def record_red_flag(
        self, user_id: int, at: datetime, areas: tuple[str, ...], text: str
    ) -> RedFlagEvent:
        stamp, text = utc(at), _text(text)
        event_id = self._insert(
            self._for_user("red_flags", "user_id, at, areas, text", 4),
            (user_id, stamp, Jsonb(list(areas)), text, user_id),
        )
        return RedFlagEvent(event_id, user_id, stamp, tuple(areas), text)

    def red_flags_since(self, user_id: int, since: datetime) -> list[RedFlagEvent]:
        sql = (
            f"SELECT {_RED_FLAG_COLUMNS} FROM red_flags WHERE user_id = %s AND at >= %s "
            "ORDER BY at, id"
        )
        return [_red_flag(row) for row in self._all(sql, (user_id, utc(since)))]

    # rolling sessions

    def record_rolling(
        self, user_id: int, at: datetime, seconds: int, areas: tuple[str, ...]
    ) -> RollingSession:
        stamp = utc(at)
        session_id = self._insert(
            self._for_user("rolling", "user_id, at, seconds, areas", 4),
            (user_id, stamp, seconds, Jsonb(list(areas)), user_id),
        )
        return RollingSession(session_id, user_id, stamp, seconds, tuple(areas))

    def rolling_since(self, user_id: int, since: datetime) -> list[RollingSession]:
        sql = (
            f"SELECT {_ROLLING_COLUMNS} FROM rolling WHERE user_id = %s AND at >= %s "
            "ORDER BY at, id"
        )
        return [_rolling(row) for row in self._all(sql, (user_id, utc(since)))]

    # nudge outbox

    def enqueue_nudge(
        self, user_id: int, kind: str, due_at: datetime, payload: dict[str, Any]
    ) -> int | None:
        """Plan a nudge; the new id, or None when (user_id, kind, due_at) is already planned or,
        when `payload` has a "ref", a nudge of that kind and ref exists in any status."""
        at = utc(due_at)
        ids = self._enqueue(user_id, [(kind, at, payload, "pending", None, at)])
        return ids[0] if ids else None

    def _enqueue(
        self,
        user_id: int,
        rows: Sequence[tuple[str, datetime, dict[str, Any], str, str | None, datetime]],
    ) -> list[int]:
        """Insert (kind, due_at, payload, status, error, send_at) rows for a user in one
        statement, skipping any that a unique index says exist; the ids added."""
        if not rows:
            return []
        kinds, dues, payloads, statuses, errors, sends = zip(*rows, strict=True)
        try:
            found = self._all(
                "INSERT INTO nudges "
                "(user_id, kind, due_at, payload, status, error, created_at, send_at) "
                "SELECT %s, r.kind, r.due_at, r.payload, r.status, r.error, %s, r.send_at FROM "
                "unnest(%s::text[], %s::timestamptz[], %s::jsonb[], %s::text[], %s::text[], "
                "%s::timestamptz[]) "
                "WITH ORDINALITY AS r(kind, due_at, payload, status, error, send_at, n) "
                "ORDER BY r.n ON CONFLICT DO NOTHING RETURNING id",
                (
                    user_id,
                    utc(self.clock()),
                    list(kinds),
                    list(dues),
                    [Jsonb(p) for p in payloads],
                    list(statuses),
                    list(errors),
                    list(sends),
                ),
            )
        except psycopg.errors.ForeignKeyViolation:
            raise LookupError(f"no user {user_id}") from None
        return sorted(int(row[0]) for row in found)

    def add_planned(self, user_id: int, planned: Sequence[PlannedNudge]) -> int:
        """Insert planned nudges (idempotent, see `enqueue_nudge`); returns rows added."""
        rows = [
            (
                item.kind,
                utc(item.due_at),
                item.payload,
                item.status,
                None if item.reason is None else PLAN_SKIP_PREFIX + item.reason,
                utc(item.due_at if item.send_at is None else item.send_at),
            )
            for item in planned
        ]
        return len(self._enqueue(user_id, rows))

    def replace_nudges(self, user_id: int, now: datetime, planned: Sequence[PlannedNudge]) -> int:
        """Re-plan one user: their pending (and plan-time skipped) rows of the planner's kinds
        due after `now` go, `planned` comes in, the planning bookmark is cleared; one
        transaction. Returns rows added."""
        with self.transaction():
            self._count(
                "DELETE FROM nudges WHERE user_id = %s AND due_at > %s AND kind = ANY(%s) "
                "AND (status = 'pending' OR (status = 'skipped' AND error LIKE %s))",
                (user_id, utc(now), list(PLANNED_KINDS), PLAN_SKIP_PREFIX + "%"),
            )
            self._count("UPDATE users SET planned_until = NULL WHERE id = %s", (user_id,))
            return self.add_planned(user_id, planned)

    def get_nudge(self, nudge_id: int) -> Nudge | None:
        row = self._one(f"SELECT {_NUDGE_COLUMNS} FROM nudges WHERE id = %s", (nudge_id,))
        return None if row is None else _nudge(row)

    def pending_nudges_of(self, user_id: int) -> list[Nudge]:
        sql = (
            f"SELECT {_NUDGE_COLUMNS} FROM nudges WHERE user_id = %s AND status = 'pending' "
            "ORDER BY due_at, id"
        )
        return [_nudge(row) for row in self._all(sql, (user_id,))]

    def latest_sent_nudge(self, user_id: int, since: datetime) -> tuple[Nudge, datetime] | None:
        sql = (
            f"SELECT {_NUDGE_COLUMNS}, sent_at FROM nudges WHERE user_id = %s "
            "AND status = 'sent' AND sent_at >= %s ORDER BY sent_at DESC, id DESC LIMIT 1"
        )
        row = self._one(sql, (user_id, utc(since)))
        return None if row is None else (_nudge(row[:-1]), _dt(row[-1]))

    def pending_nudges(
        self, until: datetime, limit: int, platform: str | None = None
    ) -> list[Nudge]:
        """Up to `limit` pending nudges due at or before `until`, earliest first (only users
        of `platform` when given). Rows another worker has locked (it is claiming them right
        now) are skipped, not waited for."""
        if platform is None:
            sql = (
                f"SELECT {_NUDGE_COLUMNS} FROM nudges WHERE status = 'pending' "
                "AND send_at <= %s ORDER BY send_at, id LIMIT %s FOR UPDATE SKIP LOCKED"
            )
            return [_nudge(row) for row in self._all(sql, (utc(until), limit))]
        sql = (
            f"SELECT {_NUDGE_COLS_N} FROM nudges n JOIN users u ON u.id = n.user_id "
            "WHERE n.status = 'pending' AND n.send_at <= %s AND u.platform = %s "
            "ORDER BY n.send_at, n.id LIMIT %s FOR UPDATE OF n SKIP LOCKED"
        )
        return [_nudge(row) for row in self._all(sql, (utc(until), platform, limit))]

    def claim_due(self, until: datetime, limit: int, platform: str | None = None) -> list[Nudge]:
        """Claim up to `limit` pending nudges due by `until` in one statement (`pending ->
        sending`, one more attempt), earliest first; what other workers are claiming at the
        same time is skipped, so each row goes to exactly one claimer."""
        join, where = "", ""
        params: list[Any] = [utc(until)]
        if platform is not None:
            join, where = " JOIN users u ON u.id = n.user_id", " AND u.platform = %s"
            params.append(platform)
        # The picked rows in a MATERIALIZED CTE, run once: as `id IN (subquery)` the planner
        # may rescan the subquery for each row (a nested-loop semi join), and each rescan
        # skips the rows this statement already updated and locks the next ones, so a
        # claim of `limit` took many more.
        rows = self._all(
            "WITH picked AS MATERIALIZED ("
            f"SELECT n.id AS picked_id FROM nudges n{join} WHERE n.status = 'pending' "
            f"AND n.send_at <= %s{where} ORDER BY n.send_at, n.id LIMIT %s "
            "FOR UPDATE OF n SKIP LOCKED) "
            "UPDATE nudges SET status = 'sending', attempts = attempts + 1, claimed_by = %s "
            f"FROM picked WHERE nudges.id = picked.picked_id RETURNING {_NUDGE_COLUMNS}",
            (*params, limit, self.worker_id),
        )
        return sorted((_nudge(row) for row in rows), key=lambda n: (n.send_time, n.id))

    def next_due(self, platform: str | None = None) -> datetime | None:
        """When the earliest pending nudge (of `platform`'s users, when given) is due."""
        if platform is None:
            row = self._one("SELECT MIN(send_at) FROM nudges WHERE status = 'pending'")
        else:
            row = self._one(
                "SELECT MIN(n.send_at) FROM nudges n JOIN users u ON u.id = n.user_id "
                "WHERE n.status = 'pending' AND u.platform = %s",
                (platform,),
            )
        return None if row is None or row[0] is None else _dt(row[0])

    def send_load(
        self, platform: str | None, start: datetime, end: datetime
    ) -> dict[datetime, int]:
        """How many pending or sending nudges (of `platform`'s users) are to be sent at each
        instant in [start, end): the send slots already taken."""
        if platform is None:
            sql = (
                "SELECT send_at, COUNT(*) FROM nudges WHERE status IN ('pending', 'sending') "
                "AND send_at >= %s AND send_at < %s GROUP BY send_at"
            )
            params: tuple[Any, ...] = (utc(start), utc(end))
        else:
            sql = (
                "SELECT n.send_at, COUNT(*) FROM nudges n JOIN users u ON u.id = n.user_id "
                "WHERE n.status IN ('pending', 'sending') AND n.send_at >= %s "
                "AND n.send_at < %s AND u.platform = %s GROUP BY n.send_at"
            )
            params = (utc(start), utc(end), platform)
        return {_dt(at): int(count) for at, count in self._all(sql, params)}

    def claim_nudge(self, nudge_id: int) -> bool:
        """Move a pending nudge to `sending` (one more attempt); False if it was not pending,
        or another worker holds it right now (it is claiming or changing it)."""
        return (
            self._count(
                "UPDATE nudges SET status = 'sending', attempts = attempts + 1, claimed_by = %s "
                "WHERE id = (SELECT id FROM nudges WHERE id = %s AND status = 'pending' "
                "FOR UPDATE SKIP LOCKED) AND status = 'pending'",
                (self.worker_id, nudge_id),
            )
            == 1
        )

    def release_nudge(self, nudge_id: int, error: str | None = None) -> bool:
        """Put a nudge in `sending` back to `pending` (it was not delivered: rate limited)."""
        sql = (
            "UPDATE nudges SET status = 'pending', error = %s WHERE id = %s AND status = 'sending'"
        )
        return self._count(sql, (error, nudge_id)) == 1

    def unclaim_nudge(self, nudge_id: int) -> bool:
        """Undo a claim whose request never started: `pending` again, the attempt not counted."""
        return (
            self._count(
                "UPDATE nudges SET status = 'pending', attempts = attempts - 1 "
                "WHERE id = %s AND status = 'sending'",
                (nudge_id,),
            )
            == 1
        )

    def fail_interrupted(self, error: str = "interrupted: delivery unknown") -> int:
        """Rows left in `sending` by a dead process become `failed`, never resent.

        Only the rows of workers that are gone: a worker's liveness lock (WORKER_LOCKS, id)
        is held by its session while it runs, so if this transaction can take it, that
        worker is dead (PostgreSQL frees a session's locks when its connection drops, as on
        a kill -9). Rows claimed by no worker (a store that never joined) count as a dead
        process's. A live worker's rows, this one's included, are never touched: they are
        waiting for Telegram's answer. Safe to call at any time, by any worker."""
        with self.transaction(), self._conn() as conn:
            claimers = [
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT claimed_by FROM nudges WHERE status = 'sending'"
                ).fetchall()
            ]
            dead = [
                worker
                for worker in claimers
                if worker is not None
                and worker != self.worker_id
                and _first(
                    conn.execute(
                        "SELECT pg_try_advisory_xact_lock(%s, %s)", (WORKER_LOCKS, worker)
                    ).fetchone()
                )
            ]
            if not dead and None not in claimers:
                return 0
            return conn.execute(
                "UPDATE nudges SET status = 'failed', error = %s WHERE status = 'sending' "
                "AND (claimed_by IS NULL OR claimed_by = ANY(%s))",
                (error, dead),
            ).rowcount

    def expire_nudges(self, before: datetime, error: str) -> int:
        """Pending nudges due before `before` become `missed` with `error`."""
        sql = (
            "UPDATE nudges SET status = 'missed', error = %s "
            "WHERE status = 'pending' AND due_at < %s"
        )
        return self._count(sql, (error, utc(before)))

    def set_unreachable(self, user_id: int, unreachable: bool = True) -> bool:
        """Flag a user who blocked the bot, touching no other column."""
        sql = "UPDATE users SET unreachable = %s WHERE id = %s"
        return self._count(sql, (unreachable, user_id)) == 1

    def users_to_plan(
        self, before: datetime, limit: int
    ) -> list[tuple[User, list[ScheduleEntry], datetime | None]]:
        """Up to `limit` users whose plan ends before `before`, earliest first (never planned
        first), with their schedule entries and where their plan ends (None: from now).

        Inside a transaction (a planning slice) the listed users stay locked until it ends,
        and users locked by someone else (a turn re-planning them) are left for the next
        pass: a plan is never written over a re-plan."""
        rows = self._all(
            f"SELECT {_USER_COLUMNS}, planned_until FROM users "
            "WHERE planned_until IS NULL OR planned_until < %s "
            "ORDER BY planned_until NULLS FIRST, id LIMIT %s FOR NO KEY UPDATE SKIP LOCKED",
            (utc(before), limit),
        )
        if not rows:
            return []
        entries: dict[int, list[ScheduleEntry]] = {row[0]: [] for row in rows}
        sql = (
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE user_id = ANY(%s) "
            "ORDER BY user_id, id"
        )
        for row in self._all(sql, (list(entries),)):
            entries[row[1]].append(_schedule(row))
        return [(_user(row[:-1]), entries[row[0]], _opt_dt(row[-1])) for row in rows]

    def set_planned_until(self, marks: Sequence[tuple[int, datetime]]) -> None:
        """Move users' planning bookmarks: (user id, planned until) pairs, one statement."""
        if not marks:
            return
        self._count(
            "UPDATE users SET planned_until = m.until FROM "
            "unnest(%s::bigint[], %s::timestamptz[]) AS m(id, until) WHERE users.id = m.id",
            ([user_id for user_id, _ in marks], [utc(until) for _, until in marks]),
        )

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
        sql = (
            "UPDATE nudges SET status = %s, error = %s, "
            "sent_at = COALESCE(%s::timestamptz, sent_at) WHERE id = %s"
        )
        stamp = None if sent_at is None else utc(sent_at)
        return self._count(sql, (status, error, stamp, nudge_id)) == 1

    def answer_nudge(self, nudge_id: int, answer: str) -> bool:
        """Record what the user did with a nudge ("started", "skipped"), nothing else."""
        if answer not in NUDGE_ANSWERS:
            raise ValueError(f"unknown nudge answer {answer!r}")
        return self._count("UPDATE nudges SET answer = %s WHERE id = %s", (answer, nudge_id)) == 1

    def nudges_since(self, user_id: int, since: datetime) -> list[Nudge]:
        """The user's nudges due at or after `since`, any status, earliest first."""
        sql = (
            f"SELECT {_NUDGE_COLUMNS} FROM nudges WHERE user_id = %s AND due_at >= %s "
            "ORDER BY due_at, id"
        )
        return [_nudge(row) for row in self._all(sql, (user_id, utc(since)))]

    def mark_sent(self, sent: Sequence[tuple[int, datetime]]) -> None:
        """Mark many nudges `sent` at their times in one statement (the dispatcher's batch)."""
        if not sent:
            return
        self._count(
            "UPDATE nudges SET status = 'sent', error = NULL, sent_at = s.at FROM "
            "unnest(%s::bigint[], %s::timestamptz[]) AS s(id, at) WHERE nudges.id = s.id",
            ([nudge_id for nudge_id, _ in sent], [utc(at) for _, at in sent]),
        )

    def record_heartbeat(self, at: datetime) -> None:
        self._count(
            "INSERT INTO meta (key, value) VALUES ('heartbeat', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (utc(at).isoformat(timespec="microseconds"),),
        )

    def last_heartbeat(self) -> datetime | None:
        row = self._one("SELECT value FROM meta WHERE key = 'heartbeat'")
        return None if row is None else _dt(datetime.fromisoformat(row[0]))

    def nudge_counts(self) -> dict[str, int]:
        """Nudges per status, every known status present (0 when none)."""
        counts = dict.fromkeys(NUDGE_STATUSES, 0)
        for status, n in self._all("SELECT status, COUNT(*) FROM nudges GROUP BY status"):
            counts[status] = int(n)
        return counts

    # the user's own data

    def export_user(self, user_id: int) -> dict[str, Any]:
        user = self.get_user(user_id)
        by_user = "WHERE user_id = %s ORDER BY id"
        params = (user_id,)
        nudges = []
        for r in self._all(
            f"SELECT {_NUDGE_COLUMNS}, sent_at, error, created_at FROM nudges {by_user}", params
        ):
            nudge = as_json_dict(_nudge(r))
            nudge["sent_at"] = None if r[9] is None else _dt(r[9]).isoformat()
            nudge["error"] = r[10]
            nudge["created_at"] = _dt(r[11]).isoformat()
            nudges.append(nudge)

        def rows(columns: str, table: str, record: Callable[[Sequence[Any]], Any]) -> list[Any]:
            sql = f"SELECT {columns} FROM {table} {by_user}"
            return [as_json_dict(record(r)) for r in self._all(sql, params)]

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
        with self.transaction():
            for table in USER_TABLES:
                deleted += self._count(f"DELETE FROM {table} WHERE user_id = %s", (user_id,))
            deleted += self._count("DELETE FROM users WHERE id = %s", (user_id,))
        return deleted

    # several workers on one database (PostgreSQL only)

    def join_workers(self) -> int:
        """Join the workers on this database: a worker id of its own, and a liveness lock
        held for as long as this store is open (on a connection of its own, so a pool that
        recycles connections never drops it). Returns the id; claims are stamped with it.

        `WorkerConflictError` when a bot of the one-bot-per-database kind is running here (it
        holds BOT_LOCK exclusively; workers hold it shared, so that it cannot start either)."""
        if self.worker_id is not None:
            return self.worker_id
        conn = psycopg.connect(self.url, autocommit=True)
        try:
            shared = conn.execute("SELECT pg_try_advisory_lock_shared(%s)", (BOT_LOCK,))
            if not _first(shared.fetchone()):
                raise WorkerConflictError("a bot that runs alone (an older version) is running")
            while True:  # ids cycle after 2**31: skip one a live worker still holds
                worker = int(_first(conn.execute("SELECT nextval('worker_ids')").fetchone()))
                got = conn.execute(
                    "SELECT pg_try_advisory_lock(%s, %s)", (WORKER_LOCKS, worker)
                ).fetchone()
                if _first(got):
                    break
        except BaseException:
            conn.close()
            raise
        self._worker_conn = conn
        self._roles = set()
        self.worker_id = worker
        return worker

    def leave_workers(self) -> None:
        """Give up the worker id, its roles and its liveness lock (closing their connection)."""
        conn, self._worker_conn = self._worker_conn, None
        self.worker_id = None
        self._roles = set()
        if conn is not None:
            conn.close()

    def live_workers(self) -> list[int]:
        """The ids of the workers running on this database (this one included), lowest first."""
        rows = self._all(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid::bigint = %s AND objsubid = 2 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "ORDER BY 1",
            (WORKER_LOCKS,),
        )
        return [int(row[0]) for row in rows]

    def others_alive(self) -> bool:
        """Whether another worker runs on this database right now."""
        return any(worker != self.worker_id for worker in self.live_workers())

    def try_role(self, role: str) -> bool:
        """Take `role` (the planner, the Telegram poller, the Discord gateway...) unless
        another worker plays it: a session advisory lock on this worker's own connection,
        held until `release_role` or until this worker dies. True if this worker has it."""
        conn = self._worker_conn
        if conn is None:
            return True  # not one of several workers: every role is this process's
        if role in self._roles:
            return True
        got = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (ROLE_LOCKS, role))
        if _first(got.fetchone()):
            self._roles.add(role)
            return True
        return False

    def release_role(self, role: str) -> None:
        conn = self._worker_conn
        if conn is None or role not in self._roles:
            return
        self._roles.discard(role)
        conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (ROLE_LOCKS, role))

    def take_send_token(self, platform: str, rate: float, capacity: float = 1.0) -> float:
        """One send of `platform` from the budget all workers share: a token bucket in the
        database, refilled at `rate` per second up to `capacity` tokens. 0.0: a token was
        taken, send now; otherwise the seconds until one may be there (try again then).

        One statement, the bucket's row locked for it: concurrent takers queue on the row
        for a moment, never wait on each other's sends. Time is the server's clock, the one
        clock every worker shares."""
        row = self._one(
            "WITH now AS (SELECT clock_timestamp() AS t), "
            "ins AS (INSERT INTO send_budget (platform, tokens, at) "
            "SELECT %(p)s, %(cap)s - 1, t FROM now ON CONFLICT (platform) DO NOTHING), "
            "b AS (SELECT s.platform, LEAST(%(cap)s, s.tokens + %(rate)s * "
            "EXTRACT(EPOCH FROM now.t - s.at)) AS avail, now.t FROM send_budget s, now "
            "WHERE s.platform = %(p)s FOR UPDATE OF s) "
            "UPDATE send_budget s SET tokens = b.avail - (b.avail >= 1)::int, at = b.t "
            "FROM b WHERE s.platform = b.platform RETURNING b.avail",
            {"p": platform, "cap": max(1.0, capacity), "rate": rate},
        )
        if row is None:  # the bucket's first take (the INSERT is not visible to the UPDATE)
            return 0.0
        avail = float(row[0])
        return 0.0 if avail >= 1 else max(0.001, (1 - avail) / rate)

    def pause_sends(self, platform: str, seconds: float, rate: float) -> None:
        """Every worker's sends of `platform` wait `seconds` (a 429's retry_after): the
        shared bucket goes that far below empty."""
        self._count(
            "UPDATE send_budget SET tokens = LEAST(tokens + %(rate)s * "
            "EXTRACT(EPOCH FROM clock_timestamp() - at), -%(rate)s * %(s)s), "
            "at = clock_timestamp() WHERE platform = %(p)s",
            {"p": platform, "s": max(0.0, seconds), "rate": rate},
        )

    # webhook updates in order across workers

    def order_updates(
        self,
        platform: str,
        arrived: Sequence[tuple[str, int]],
        done: Sequence[tuple[str, int]],
        asking: Sequence[tuple[str, int]],
        stale: float,
    ) -> set[tuple[str, int]]:
        """Webhook updates of users, (user key, update_id), in one transaction: `done` ones
        handled (their tickets go), `arrived` ones received (tickets recorded), and of the
        `asking` ones, those that must still wait: an earlier update of the same user,
        received by any worker in the last `stale` seconds, is unhandled. A worker batches
        these calls (one round trip for whatever its updates need at that moment)."""
        with self.transaction(), self._conn() as conn:
            if done:
                conn.execute(
                    "DELETE FROM update_tickets t USING unnest(%s::text[], %s::bigint[]) "
                    "AS d(user_key, update_id) WHERE t.platform = %s "
                    "AND t.user_key = d.user_key AND t.update_id = d.update_id",
                    ([u for u, _ in done], [i for _, i in done], platform),
                )
                self._ticket_batches += 1
                if self._ticket_batches % 256 == 0:  # now and then: tickets a dead worker left
                    conn.execute(
                        "DELETE FROM update_tickets "
                        "WHERE arrived_at < clock_timestamp() - interval '1 hour'"
                    )
            if arrived:
                conn.execute(
                    "INSERT INTO update_tickets (platform, user_key, update_id) "
                    "SELECT %s, a.user_key, a.update_id "
                    "FROM unnest(%s::text[], %s::bigint[]) AS a(user_key, update_id) "
                    "ON CONFLICT DO NOTHING",
                    (platform, [u for u, _ in arrived], [i for _, i in arrived]),
                )
            if not asking:
                return set()
            rows = conn.execute(
                "SELECT a.user_key, a.update_id "
                "FROM unnest(%s::text[], %s::bigint[]) AS a(user_key, update_id) "
                "WHERE EXISTS (SELECT 1 FROM update_tickets t WHERE t.platform = %s "
                "AND t.user_key = a.user_key AND t.update_id < a.update_id "
                "AND t.arrived_at > clock_timestamp() - make_interval(secs => %s))",
                ([u for u, _ in asking], [i for _, i in asking], platform, stale),
            ).fetchall()
        return {(str(u), int(i)) for u, i in rows}

    def shared_secret(self, name: str, fresh: str) -> str:
        """A secret every worker uses alike (the webhook's): `fresh` replaces the stored one
        when no other worker runs (a new start of the whole bot), else the stored one."""
        key = f"secret:{name}"
        if not self.others_alive():
            self._count(
                "INSERT INTO meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, fresh),
            )
            return fresh
        self._count(
            "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
            (key, fresh),
        )
        row = self._one("SELECT value FROM meta WHERE key = %s", (key,))
        return fresh if row is None else str(row[0])


class WorkerConflictError(RuntimeError):
    """A bot that runs alone on the database holds it: no worker starts beside it."""


def _first(row: Sequence[Any] | None) -> Any:
    return None if row is None else row[0]


if TYPE_CHECKING:

    def _implements_the_outbox(store: PgStorage) -> Outbox:
        return store


# ---------------------------------------------------------------- from outside the bot


def read_heartbeat(url: str, timeout: float = 5.0) -> datetime | None:
    """The scheduler's last heartbeat in the database at `url`, read on a connection of its
    own (`python -m bot healthcheck`). psycopg.Error when it cannot be read."""
    with psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout))) as conn:
        if schema_version(conn) < SCHEMA_VERSION:
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = 'heartbeat'").fetchone()
    return None if row is None else _dt(datetime.fromisoformat(row[0]))

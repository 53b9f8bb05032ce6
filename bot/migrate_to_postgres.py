"""`python -m bot migrate-to-postgres`: copy the SQLite database into PostgreSQL, then check.

1. The SQLite file at BOT_DB_PATH is brought to the current schema (as starting the bot
   would), and so is the PostgreSQL database at BOT_DATABASE_URL (`PgStorage` migrates it).
2. The PostgreSQL database must hold no rows yet: a copy never merges into live data.
3. Every table of the SQLite file is copied with COPY in one transaction, ids kept, each
   value converted to its PostgreSQL column's type (ISO text to timestamptz, 0/1 to
   boolean, JSON text to json/jsonb, '' planning bookmarks to NULL); the id sequences then
   continue after the highest id. A table or column SQLite has and PostgreSQL lacks stops
   the copy before anything is written.
4. The row counts of every table are compared, one line per table; any mismatch fails.

Stop the bot first: rows written to SQLite during the copy would not be copied.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Json, Jsonb

from bot.storage import Storage
from bot.storage_pg import PgStorage, redact_url


class CopyError(RuntimeError):
    """The copy cannot be made (the message says why); nothing was written."""


def _converter(pg_type: str) -> Callable[[Any], Any]:
    """How a SQLite value becomes a value of a PostgreSQL column of `pg_type`."""
    if pg_type == "timestamp with time zone":
        return lambda v: None if v in (None, "") else datetime.fromisoformat(v)
    if pg_type == "date":
        return lambda v: None if v in (None, "") else date.fromisoformat(v)
    if pg_type == "boolean":
        return lambda v: None if v is None else bool(v)
    if pg_type == "jsonb":
        return lambda v: None if v is None else Jsonb(json.loads(v))
    if pg_type == "json":
        return lambda v: None if v is None else Json(json.loads(v))
    if pg_type == "text":
        return lambda v: None if v is None else str(v).replace("\x00", "")
    return lambda v: v


def _sqlite_tables(source: sqlite3.Connection) -> list[str]:
    """The bot's tables in the file, `users` first (every other table refers to it)."""
    names = [
        row[0]
        for row in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name"
        )
    ]
    return sorted(names, key=lambda name: (name != "users", name))


def _pg_columns(conn: psycopg.Connection[Any], table: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s",
        (table,),
    ).fetchall()
    return {name: data_type for name, data_type in rows}


def _last_id(source: sqlite3.Connection, table: str) -> int:
    """The highest id SQLite ever gave in `table` (AUTOINCREMENT keeps it in sqlite_sequence,
    also after that row was deleted)."""
    try:
        row = source.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    except sqlite3.OperationalError:  # no AUTOINCREMENT table at all
        return 0
    return 0 if row is None else int(row[0])


def _count(conn: psycopg.Connection[Any] | sqlite3.Connection, table: str) -> int:
    row = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    return 0 if row is None else int(row[0])


def copy_to_postgres(sqlite_path: Path, url: str, say: Callable[[str], None] = print) -> bool:
    """Copy the SQLite database at `sqlite_path` into the PostgreSQL one at `url`; one line
    per table through `say`. True when every table's row count matches. `CopyError` (nothing
    written) when the copy cannot be made; psycopg/sqlite3 errors pass through."""
    if not sqlite_path.is_file():
        raise CopyError(f"BOT_DB_PATH: there is no database at {sqlite_path}")
    with Storage(sqlite_path):
        pass  # brought to the current schema
    with PgStorage(url, max_size=1):
        pass  # likewise
    with (
        closing(sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)) as source,
        psycopg.connect(url) as target,
    ):
        target.execute("SET TIME ZONE 'UTC'")
        tables = _sqlite_tables(source)
        columns: dict[str, tuple[list[str], list[Callable[[Any], Any]]]] = {}
        for table in tables:
            pg_columns = _pg_columns(target, table)
            if not pg_columns:
                raise CopyError(f"PostgreSQL has no table {table}: this bot cannot copy it")
            names = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
            missing = [name for name in names if name not in pg_columns]
            if missing:
                raise CopyError(
                    f"PostgreSQL's {table} has no column {', '.join(missing)}: "
                    "this bot cannot copy it"
                )
            if _count(target, table):
                raise CopyError(
                    f"{redact_url(url)} already has rows ({table}); copy into an empty database"
                )
            columns[table] = (names, [_converter(pg_columns[name]) for name in names])
        with target.transaction():
            for table in tables:
                names, convert = columns[table]
                listed = ", ".join(names)
                with target.cursor().copy(f"COPY {table} ({listed}) FROM STDIN") as copy:
                    for row in source.execute(f"SELECT {listed} FROM {table}"):
                        copy.write_row([f(value) for f, value in zip(convert, row, strict=True)])
                if "id" in names:  # go on after the last id SQLite gave, never reuse one
                    target.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                        f"GREATEST(COALESCE((SELECT MAX(id) FROM {table}), 0), %s) + 1, false)",
                        (table, _last_id(source, table)),
                    )
        matched = True
        for table in tables:
            before, after = _count(source, table), _count(target, table)
            same = before == after
            matched = matched and same
            verdict = "ok" if same else "MISMATCH"
            say(f"{table}: {before} rows in SQLite, {after} in PostgreSQL: {verdict}")
    return matched

"""`MemoryStore`: the `Store` protocol in plain dicts, for core tests and benchmarks.

It behaves like `bot.storage.Storage` where the coach can tell the difference: datetimes
must be timezone-aware and come back in UTC, a user's `dialog` goes through JSON on save,
returned users are copies (edits count only after `save_user`), rows of an unknown user
raise `LookupError`, and ids are never reused. Nothing is persisted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from itertools import count
from typing import TYPE_CHECKING, Any, TypeVar

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

_Timed = TypeVar("_Timed", SorenessReport, MassageRecord, RedFlagEvent, RollingSession)
_Row = TypeVar("_Row")


def _copy_user(user: User) -> User:
    return replace(user, dialog=json.loads(json.dumps(user.dialog)))


def _by_time(rows: dict[int, _Timed], since: datetime) -> list[_Timed]:
    since = utc(since)
    return sorted((r for r in rows.values() if r.at >= since), key=lambda r: (r.at, r.id))


class MemoryStore:
    """Every record in dicts keyed by user id, then by row id."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """No rollback in memory: a failed turn's writes stay (tests check SQLite for that)."""
        yield

    def __init__(self, clock: Clock = system_clock) -> None:
        self.clock = clock
        self._ids = count(1)
        self._users: dict[int, User] = {}
        self._keys: dict[tuple[str, str], int] = {}
        self._schedules: dict[int, dict[int, ScheduleEntry]] = {}
        self._soreness: dict[int, dict[int, SorenessReport]] = {}
        self._massages: dict[int, dict[int, MassageRecord]] = {}
        self._red_flags: dict[int, dict[int, RedFlagEvent]] = {}
        self._rolling: dict[int, dict[int, RollingSession]] = {}
        self._nudges: dict[int, dict[int, Nudge]] = {}
        self._nudge_errors: dict[int, str | None] = {}
        self._sent_at: dict[int, datetime] = {}
        self._planned_until: dict[int, datetime] = {}  # user id -> where their plan ends
        self._heartbeat: datetime | None = None

    def _tables(self) -> tuple[dict[int, dict[int, Any]], ...]:
        return (
            self._schedules,
            self._soreness,
            self._massages,
            self._red_flags,
            self._rolling,
            self._nudges,
        )

    def _rows(self, table: dict[int, dict[int, _Row]], user_id: int) -> dict[int, _Row]:
        """That user's rows, for writing; `LookupError` when there is no such user."""
        if user_id not in self._users:
            raise LookupError(f"no user {user_id}")
        return table.setdefault(user_id, {})

    # users

    def user_for(self, platform: str, platform_id: str, default_tz: str) -> User:
        user_id = self._keys.get((platform, platform_id))
        if user_id is None:
            user_id = next(self._ids)
            self._keys[(platform, platform_id)] = user_id
            self._users[user_id] = User(
                id=user_id,
                platform=platform,
                platform_id=platform_id,
                tz=default_tz,
                created_at=self.clock(),
            )
        return _copy_user(self._users[user_id])

    def get_user(self, user_id: int) -> User | None:
        user = self._users.get(user_id)
        return None if user is None else _copy_user(user)

    def save_user(self, user: User) -> None:
        old = self._users.get(user.id)
        if old is None:
            raise LookupError(f"no user {user.id}")
        saved = _copy_user(user)
        saved.created_at = old.created_at if user.created_at is None else utc(user.created_at)
        del self._keys[(old.platform, old.platform_id)]
        self._keys[(saved.platform, saved.platform_id)] = saved.id
        self._users[saved.id] = saved

    def count_rows(self, user_id: int) -> int:
        """Rows about this user in every table, the user row included."""
        own = 1 if user_id in self._users else 0
        return own + sum(len(t.get(user_id, {})) for t in self._tables())

    # schedules

    def add_schedule(
        self,
        user_id: int,
        time: str,
        weekday: int | None = None,
        on_date: date | None = None,
        workout: str | None = None,
    ) -> ScheduleEntry:
        rows = self._rows(self._schedules, user_id)
        entry = ScheduleEntry(next(self._ids), user_id, time, weekday, on_date, workout)
        rows[entry.id] = entry
        return entry

    def schedules(self, user_id: int) -> list[ScheduleEntry]:
        return sorted(self._schedules.get(user_id, {}).values(), key=lambda e: e.id)

    def remove_schedule(self, user_id: int, entry_id: int) -> bool:
        return self._schedules.get(user_id, {}).pop(entry_id, None) is not None

    def clear_schedules(self, user_id: int) -> int:
        return len(self._schedules.pop(user_id, {}))

    # soreness

    def record_soreness(
        self, user_id: int, area: str, severity: int, at: datetime, note: str = ""
    ) -> SorenessReport:
        rows = self._rows(self._soreness, user_id)
        report = SorenessReport(next(self._ids), user_id, area, severity, utc(at), note)
        rows[report.id] = report
        return report

    def get_soreness(self, user_id: int, report_id: int) -> SorenessReport | None:
        return self._soreness.get(user_id, {}).get(report_id)

    def update_soreness(
        self, user_id: int, report_id: int, *, area: str | None = None, severity: int | None = None
    ) -> SorenessReport | None:
        rows = self._soreness.get(user_id, {})
        report = rows.get(report_id)
        if report is None:
            return None
        report = replace(
            report,
            area=report.area if area is None else area,
            severity=report.severity if severity is None else severity,
        )
        rows[report_id] = report
        return report

    def delete_soreness(self, user_id: int, report_id: int) -> bool:
        return self._soreness.get(user_id, {}).pop(report_id, None) is not None

    def soreness_since(self, user_id: int, since: datetime) -> list[SorenessReport]:
        return _by_time(self._soreness.get(user_id, {}), since)

    # massages

    def record_massage(self, user_id: int, at: datetime, note: str = "") -> MassageRecord:
        rows = self._rows(self._massages, user_id)
        record = MassageRecord(next(self._ids), user_id, utc(at), note)
        rows[record.id] = record
        return record

    def delete_massage(self, user_id: int, massage_id: int) -> bool:
        return self._massages.get(user_id, {}).pop(massage_id, None) is not None

    def massages_since(self, user_id: int, since: datetime) -> list[MassageRecord]:
        return _by_time(self._massages.get(user_id, {}), since)

    def last_massage(self, user_id: int) -> MassageRecord | None:
        rows = self._massages.get(user_id, {}).values()
        return max(rows, key=lambda r: (r.at, r.id), default=None)

    # red flags

    def record_red_flag(
        self, user_id: int, at: datetime, areas: tuple[str, ...], text: str
    ) -> RedFlagEvent:
        rows = self._rows(self._red_flags, user_id)
        event = RedFlagEvent(next(self._ids), user_id, utc(at), tuple(areas), text)
        rows[event.id] = event
        return event

    def red_flags_since(self, user_id: int, since: datetime) -> list[RedFlagEvent]:
        return _by_time(self._red_flags.get(user_id, {}), since)

    # rolling sessions

    def record_rolling(
        self, user_id: int, at: datetime, seconds: int, areas: tuple[str, ...]
    ) -> RollingSession:
        rows = self._rows(self._rolling, user_id)
        session = RollingSession(next(self._ids), user_id, utc(at), seconds, tuple(areas))
        rows[session.id] = session
        return session

    def rolling_since(self, user_id: int, since: datetime) -> list[RollingSession]:
        return _by_time(self._rolling.get(user_id, {}), since)

    # nudge outbox (the parts the coach uses; the scheduler runs on `bot.storage.Storage`)

    def enqueue_nudge(
        self, user_id: int, kind: str, due_at: datetime, payload: dict[str, Any]
    ) -> int | None:
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
        rows = self._rows(self._nudges, user_id)
        due_at = utc(due_at)
        ref = payload.get("ref")
        for nudge in rows.values():
            if nudge.kind != kind:
                continue
            if nudge.due_at == due_at or (ref is not None and nudge.payload.get("ref") == ref):
                return None
        nudge = Nudge(
            next(self._ids),
            user_id,
            kind,
            due_at,
            json.loads(json.dumps(payload)),
            status,
            0,
            send_at=due_at if send_at is None else utc(send_at),
        )
        rows[nudge.id] = nudge
        self._nudge_errors[nudge.id] = error
        return nudge.id

    def get_nudge(self, nudge_id: int) -> Nudge | None:
        for rows in self._nudges.values():
            if nudge_id in rows:
                return rows[nudge_id]
        return None

    def pending_nudges_of(self, user_id: int) -> list[Nudge]:
        return [nudge for nudge in self.nudges(user_id) if nudge.status == "pending"]

    def nudges(self, user_id: int) -> list[Nudge]:
        """The user's nudges by due time (for tests)."""
        return sorted(self._nudges.get(user_id, {}).values(), key=lambda n: (n.due_at, n.id))

    def mark_nudge(
        self,
        nudge_id: int,
        status: str,
        *,
        error: str | None = None,
        sent_at: datetime | None = None,
    ) -> bool:
        if status not in NUDGE_STATUSES:
            raise ValueError(f"unknown nudge status {status!r}")
        nudge = self.get_nudge(nudge_id)
        if nudge is None:
            return False
        self._nudges[nudge.user_id][nudge_id] = replace(nudge, status=status)
        self._nudge_errors[nudge_id] = error
        if status == "sent":
            self._sent_at[nudge_id] = utc(sent_at or self.clock())
        return True

    def answer_nudge(self, nudge_id: int, answer: str) -> bool:
        if answer not in NUDGE_ANSWERS:
            raise ValueError(f"unknown nudge answer {answer!r}")
        nudge = self.get_nudge(nudge_id)
        if nudge is None:
            return False
        self._nudges[nudge.user_id][nudge_id] = replace(nudge, answer=answer)
        return True

    def nudges_since(self, user_id: int, since: datetime) -> list[Nudge]:
        return [nudge for nudge in self.nudges(user_id) if nudge.due_at >= utc(since)]

    def latest_sent_nudge(self, user_id: int, since: datetime) -> tuple[Nudge, datetime] | None:
        sent = [
            (self._sent_at[n.id], n)
            for n in self._nudges.get(user_id, {}).values()
            if n.id in self._sent_at and self._sent_at[n.id] >= utc(since)
        ]
        if not sent:
            return None
        at, nudge = max(sent, key=lambda item: (item[0], item[1].id))
        return nudge, at

    def replace_nudges(self, user_id: int, now: datetime, planned: Sequence[PlannedNudge]) -> int:
        rows = self._rows(self._nudges, user_id)
        now = utc(now)
        for nudge in list(rows.values()):
            old_error = self._nudge_errors.get(nudge.id) or ""
            replaceable = nudge.status == "pending" or (
                nudge.status == "skipped" and old_error.startswith(PLAN_SKIP_PREFIX)
            )
            if nudge.kind in PLANNED_KINDS and nudge.due_at > now and replaceable:
                del rows[nudge.id]
        self._planned_until.pop(user_id, None)
        return self.add_planned(user_id, planned)

    # the outbox (the scheduler's side)

    def add_planned(self, user_id: int, planned: Sequence[PlannedNudge]) -> int:
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

    def users_to_plan(
        self, before: datetime, limit: int
    ) -> list[tuple[User, list[ScheduleEntry], datetime | None]]:
        never = datetime.min.replace(tzinfo=UTC)
        due = [
            (self._planned_until.get(user_id, never), user_id)
            for user_id in self._users
            if self._planned_until.get(user_id, never) < utc(before)
        ]
        due.sort()
        return [
            (
                _copy_user(self._users[user_id]),
                self.schedules(user_id),
                None if until == never else until,
            )
            for until, user_id in due[:limit]
        ]

    def set_planned_until(self, marks: Sequence[tuple[int, datetime]]) -> None:
        for user_id, until in marks:
            if user_id in self._users:
                self._planned_until[user_id] = utc(until)

    def _all_nudges(self, platform: str | None = None) -> list[Nudge]:
        return [
            nudge
            for user_id, rows in self._nudges.items()
            if platform is None or self._users[user_id].platform == platform
            for nudge in rows.values()
        ]

    def pending_nudges(
        self, until: datetime, limit: int, platform: str | None = None
    ) -> list[Nudge]:
        due = [
            n
            for n in self._all_nudges(platform)
            if n.status == "pending" and n.send_time <= utc(until)
        ]
        return sorted(due, key=lambda n: (n.send_time, n.id))[:limit]

    def next_due(self, platform: str | None = None) -> datetime | None:
        pending = [n.send_time for n in self._all_nudges(platform) if n.status == "pending"]
        return min(pending, default=None)

    def send_load(
        self, platform: str | None, start: datetime, end: datetime
    ) -> dict[datetime, int]:
        load: dict[datetime, int] = {}
        for n in self._all_nudges(platform):
            if n.status in ("pending", "sending") and utc(start) <= n.send_time < utc(end):
                load[n.send_time] = load.get(n.send_time, 0) + 1
        return load

    def _move(self, nudge_id: int, expected: str, **changes: Any) -> bool:
        nudge = self.get_nudge(nudge_id)
        if nudge is None or nudge.status != expected:
            return False
        self._nudges[nudge.user_id][nudge_id] = replace(nudge, **changes)
        return True

    def claim_nudge(self, nudge_id: int) -> bool:
        nudge = self.get_nudge(nudge_id)
        attempts = 0 if nudge is None else nudge.attempts + 1
        return self._move(nudge_id, "pending", status="sending", attempts=attempts)

    def release_nudge(self, nudge_id: int, error: str | None = None) -> bool:
        if not self._move(nudge_id, "sending", status="pending"):
            return False
        self._nudge_errors[nudge_id] = error
        return True

    def unclaim_nudge(self, nudge_id: int) -> bool:
        nudge = self.get_nudge(nudge_id)
        attempts = 0 if nudge is None else max(0, nudge.attempts - 1)
        return self._move(nudge_id, "sending", status="pending", attempts=attempts)

    def mark_sent(self, sent: Sequence[tuple[int, datetime]]) -> None:
        for nudge_id, at in sent:
            self.mark_nudge(nudge_id, "sent", sent_at=at)

    def fail_interrupted(self, error: str = "interrupted: delivery unknown") -> int:
        stuck = [n for n in self._all_nudges() if n.status == "sending"]
        for nudge in stuck:
            self.mark_nudge(nudge.id, "failed", error=error)
        return len(stuck)

    def expire_nudges(self, before: datetime, error: str) -> int:
        late = [n for n in self._all_nudges() if n.status == "pending" and n.due_at < utc(before)]
        for nudge in late:
            self.mark_nudge(nudge.id, "missed", error=error)
        return len(late)

    def set_unreachable(self, user_id: int, unreachable: bool = True) -> bool:
        user = self._users.get(user_id)
        if user is None:
            return False
        self._users[user_id] = replace(user, unreachable=unreachable)
        return True

    def record_heartbeat(self, at: datetime) -> None:
        self._heartbeat = utc(at)

    def last_heartbeat(self) -> datetime | None:
        return self._heartbeat

    def nudge_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(NUDGE_STATUSES, 0)
        for nudge in self._all_nudges():
            counts[nudge.status] += 1
        return counts

    # the user's own data

    def export_user(self, user_id: int) -> dict[str, Any]:
        user = self._users.get(user_id)

        def rows(table: dict[int, dict[int, Any]]) -> list[dict[str, Any]]:
            values = table.get(user_id, {}).values()
            return [as_json_dict(r) for r in sorted(values, key=lambda r: r.id)]

        return {
            "user": None if user is None else as_json_dict(_copy_user(user)),
            "schedules": rows(self._schedules),
            "soreness": rows(self._soreness),
            "massages": rows(self._massages),
            "red_flags": rows(self._red_flags),
            "rolling": rows(self._rolling),
            "nudges": rows(self._nudges),
        }

    def forget_user(self, user_id: int) -> int:
        deleted = sum(len(t.pop(user_id, {})) for t in self._tables())
        user = self._users.pop(user_id, None)
        if user is not None:
            del self._keys[(user.platform, user.platform_id)]
            deleted += 1
        return deleted


if TYPE_CHECKING:

    def _implements_the_outbox(store: MemoryStore) -> Outbox:
        return store

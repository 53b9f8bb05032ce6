"""The coach's state as plain records, and the `Store` protocol that keeps them.

`bot.storage.Storage` implements `Store` over SQLite; `bot.core.memory.MemoryStore`
implements it in memory for tests and benchmarks. Times are timezone-aware UTC datetimes;
local times (a workout at 18:00) are kept as "HH:MM" strings in the user's time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(slots=True)
class User:
    """One person on one platform: `id` is ours, (platform, platform_id) is theirs."""

    id: int
    platform: str
    platform_id: str
    tz: str
    lead_minutes: int = 30
    quiet_start: str | None = None  # "22:00"; quiet hours may wrap past midnight
    quiet_end: str | None = None  # "07:00"
    paused: bool = False
    unreachable: bool = False
    onboarded: bool = False
    massage_day: str = "sat"  # weekday of the monthly massage nudge (first such day of the month)
    massage_time: str = "10:00"
    massage_target: int = 3
    chat_id: str | None = None  # where to send nudges when it differs from platform_id
    dialog: dict[str, Any] = field(default_factory=dict)  # pending multi-step conversation
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """A training session: weekly on `weekday` (0=Mon) or once on `on_date`, at local `time`."""

    id: int
    user_id: int
    time: str  # "HH:MM", user's local time
    weekday: int | None = None
    on_date: date | None = None
    workout: str | None = None  # workout id, or None when not said


@dataclass(frozen=True, slots=True)
class SorenessReport:
    id: int
    user_id: int
    area: str
    severity: int  # 0-10; 0 means recovered
    at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class MassageRecord:
    id: int
    user_id: int
    at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class RedFlagEvent:
    id: int
    user_id: int
    at: datetime
    areas: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class RollingSession:
    """A guided rolling routine the user finished: when, how long, which areas."""

    id: int
    user_id: int
    at: datetime
    seconds: int
    areas: tuple[str, ...]


NUDGE_KINDS = ("pre_workout", "massage", "massage_behind", "snooze")
"""`pre_workout` before a session, `massage` monthly, `massage_behind` mid-month when behind,
`snooze` a nudge the user asked to see again 10 minutes later."""
PLANNED_KINDS = ("pre_workout", "massage", "massage_behind", "snooze")
"""The kinds the planner owns: a re-plan replaces a user's pending future rows of these kinds."""


@dataclass(frozen=True, slots=True)
class PlannedNudge:
    """A nudge the planner wants in the outbox.

    `payload["ref"]` names what the nudge is about (the session instant, the month), so a
    re-plan never plans a second nudge for something already nudged. `status` is "pending",
    or "skipped" with a `reason` for a nudge dropped at planning time (quiet hours).
    """

    kind: str
    due_at: datetime
    payload: dict[str, Any]
    status: str = "pending"
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Nudge:
    """One planned message in the outbox. `(user_id, kind, due_at)` is unique."""

    id: int
    user_id: int
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    status: str
    attempts: int


class Store(Protocol):
    """Everything the coach reads and writes. One implementation per backend, no SQL elsewhere."""

    def transaction(self) -> AbstractContextManager[None]:
        """Writes inside commit together or not at all; nested blocks are allowed."""
        ...

    def user_for(self, platform: str, platform_id: str, default_tz: str) -> User:
        """The user with that platform key, created with defaults on first contact."""
        ...

    def get_user(self, user_id: int) -> User | None: ...

    def save_user(self, user: User) -> None: ...

    def add_schedule(
        self,
        user_id: int,
        time: str,
        weekday: int | None = None,
        on_date: date | None = None,
        workout: str | None = None,
    ) -> ScheduleEntry: ...

    def schedules(self, user_id: int) -> list[ScheduleEntry]: ...

    def remove_schedule(self, user_id: int, entry_id: int) -> bool: ...

    def clear_schedules(self, user_id: int) -> int: ...

    def record_soreness(
        self, user_id: int, area: str, severity: int, at: datetime, note: str = ""
    ) -> SorenessReport: ...

    def get_soreness(self, user_id: int, report_id: int) -> SorenessReport | None: ...

    def update_soreness(
        self, user_id: int, report_id: int, *, area: str | None = None, severity: int | None = None
    ) -> SorenessReport | None: ...

    def delete_soreness(self, user_id: int, report_id: int) -> bool: ...

    def soreness_since(self, user_id: int, since: datetime) -> list[SorenessReport]:
        """Reports at or after `since`, oldest first."""
        ...

    def record_massage(self, user_id: int, at: datetime, note: str = "") -> MassageRecord: ...

    def delete_massage(self, user_id: int, massage_id: int) -> bool: ...

    def massages_since(self, user_id: int, since: datetime) -> list[MassageRecord]:
        """Massages at or after `since`, oldest first."""
        ...

    def last_massage(self, user_id: int) -> MassageRecord | None: ...

    def record_red_flag(
        self, user_id: int, at: datetime, areas: tuple[str, ...], text: str
    ) -> RedFlagEvent: ...

    def red_flags_since(self, user_id: int, since: datetime) -> list[RedFlagEvent]: ...

    def record_rolling(
        self, user_id: int, at: datetime, seconds: int, areas: tuple[str, ...]
    ) -> RollingSession: ...

    def rolling_since(self, user_id: int, since: datetime) -> list[RollingSession]: ...

    def enqueue_nudge(
        self, user_id: int, kind: str, due_at: datetime, payload: dict[str, Any]
    ) -> int | None:
        """Plan a nudge; the new id, or None when (user_id, kind, due_at) is already planned
        or, when `payload` has a "ref", a nudge of that kind with that ref exists."""
        ...

    def get_nudge(self, nudge_id: int) -> Nudge | None: ...

    def pending_nudges_of(self, user_id: int) -> list[Nudge]:
        """The user's pending nudges, earliest first (e.g. to cancel a snooze on Skip)."""
        ...

    def latest_sent_nudge(self, user_id: int, since: datetime) -> tuple[Nudge, datetime] | None:
        """The user's most recent nudge sent at or after `since`, and when it was sent (so a
        typed "skip" can answer it)."""
        ...

    def mark_nudge(
        self,
        nudge_id: int,
        status: str,
        *,
        error: str | None = None,
        sent_at: datetime | None = None,
    ) -> bool: ...

    def replace_nudges(self, user_id: int, now: datetime, planned: Sequence[PlannedNudge]) -> int:
        """Drop the user's pending (and plan-time skipped) rows of `PLANNED_KINDS` due after
        `now`, then add `planned` (deduplicated as `enqueue_nudge` does); returns rows added."""
        ...

    def export_user(self, user_id: int) -> dict[str, Any]:
        """Every row about this user, JSON-serialisable."""
        ...

    def forget_user(self, user_id: int) -> int:
        """Delete every row about this user; returns how many rows went."""
        ...

"""The coach's state as plain records (the protocols that keep them are in `ports`).

Times are timezone-aware UTC datetimes; local times (a workout at 18:00) are kept as
"HH:MM" strings in the user's time zone. `utc` and `as_json_dict` are the conversions every
store shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any

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
    body_map: bool = False  # a body map of current soreness with "what should I roll?" answers
    weekly_summary: bool = False  # opted in to the Sunday-evening summary of the week


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


NUDGE_STATUSES = ("pending", "sending", "sent", "failed", "missed", "skipped")
"""`pending` waits to be sent; `claim_nudge` moves it to `sending` just before the send;
`sent`, `failed`, `missed` (too late to be useful) and `skipped` (paused, quiet hours...) end it."""
NUDGE_KINDS = ("pre_workout", "massage", "massage_behind", "snooze", "weekly")
"""`pre_workout` before a session, `massage` monthly, `massage_behind` mid-month when behind,
`snooze` a nudge the user asked to see again 10 minutes later, `weekly` the opt-in summary
of the week on Sunday evening."""
NUDGE_ANSWERS = ("started", "skipped")
"""What the user did with a nudge they got: tapped Start (followed it) or Skip."""
PLANNED_KINDS = ("pre_workout", "massage", "massage_behind", "snooze", "weekly")
"""The kinds the planner owns: a re-plan replaces a user's pending future rows of these kinds."""
PLAN_SKIP_PREFIX = "plan: "
"""`error` prefix of rows the planner recorded as skipped (quiet hours): a re-plan replaces
them. Every store writes and reads it the same way."""


@dataclass(frozen=True, slots=True)
class PlannedNudge:
    """A nudge the planner wants in the outbox.

    `payload["ref"]` names what the nudge is about (the session instant, the month), so a
    re-plan never plans a second nudge for something already nudged. `status` is "pending",
    or "skipped" with a `reason` for a nudge dropped at planning time (quiet hours).

    Its send window is [`earliest`, `due_at`] (`earliest` None: `due_at` only): the planner
    says how early it may go (`bot.core.nudges.send_window`), the scheduler picks `send_at`
    in it against the platform's send rate (`bot.core.send_slots`). None: at `due_at`.
    """

    kind: str
    due_at: datetime
    payload: dict[str, Any]
    status: str = "pending"
    reason: str | None = None
    earliest: datetime | None = None
    send_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Nudge:
    """One planned message in the outbox. `(user_id, kind, due_at)` is unique. `answer` is
    what the user did with it once delivered (one of `NUDGE_ANSWERS`), None until then.
    `send_at` is when the dispatcher sends it (planned ahead, at or before `due_at` unless
    the platform's send rate is short); None is read as `due_at`. Lateness is sent - due."""

    id: int
    user_id: int
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    status: str
    attempts: int
    answer: str | None = None
    send_at: datetime | None = None

    @property
    def send_time(self) -> datetime:
        """When it is to be sent: `send_at`, or `due_at` when none was planned."""
        return self.due_at if self.send_at is None else self.send_at


def utc(at: datetime) -> datetime:
    """`at` as an aware UTC datetime; a naive datetime is a bug and raises `ValueError`."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: pass a timezone-aware datetime")
    return at.astimezone(UTC)


def as_json_dict(record: Any) -> dict[str, Any]:
    """A record dataclass as a JSON-serialisable dict (datetimes and dates as ISO strings)."""
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out

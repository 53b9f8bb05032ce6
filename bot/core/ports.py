"""The seams, as small protocols: what the coach, the scheduler and the platforms need of
each other, and nothing more.

- `Store`: the coach's state (users, schedules, soreness, massages, red flags, rolling
  sessions, and the nudge rows a turn touches).
- `Outbox`: a `Store` that also keeps the nudge outbox the scheduler plans into and drains.
  The scheduler is typed against `Outbox` and `Messenger` only.
- `Messenger`, `SendResult`, `Delivery`: pushing a reply to a user who did not just write.
- `Adapter`: a platform's lifecycle (`running()`), its `Capabilities` and its `send`.

Implementations: `bot.storage.Storage` (SQLite) and `bot.core.memory.MemoryStore` for the
stores, held to one contract in tests/test_ports.py (a PostgreSQL store plugs in as the
third); `bot/adapters/` for the platforms. docs/architecture.md draws the arrows.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Protocol

from bot.core.records import (
    MassageRecord,
    Nudge,
    PlannedNudge,
    RedFlagEvent,
    RollingSession,
    ScheduleEntry,
    SorenessReport,
    User,
)
from bot.core.replies import Reply


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

    def answer_nudge(self, nudge_id: int, answer: str) -> bool:
        """Record what the user did with a nudge (one of `NUDGE_ANSWERS`: "started" when they
        followed it, "skipped"), touching nothing else; False when there is no such nudge."""
        ...

    def nudges_since(self, user_id: int, since: datetime) -> list[Nudge]:
        """The user's nudges due at or after `since`, in any status, earliest first (for
        /history and the weekly summary: which were followed, which skipped)."""
        ...

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


class Outbox(Store, Protocol):
    """The nudge outbox on top of the coach's state: what the scheduler plans and sends.

    A row moves `pending -> sending -> sent | failed`, or to `missed` / `skipped` with a
    reason; a row is sent only after its claim committed, and a claimed row is never sent
    again (at-most-once, see bot/scheduler).
    """

    def add_planned(self, user_id: int, planned: Sequence[PlannedNudge]) -> int:
        """Insert planned nudges, idempotently (see `enqueue_nudge`); returns rows added."""
        ...

    def users_to_plan(
        self, before: datetime, limit: int
    ) -> list[tuple[User, list[ScheduleEntry], datetime | None]]:
        """Up to `limit` users whose plan ends before `before`, earliest first, with their
        schedule and where their plan ends (None: from now)."""
        ...

    def set_planned_until(self, marks: Sequence[tuple[int, datetime]]) -> None:
        """Move users' planning bookmarks: (user id, planned until) pairs."""
        ...

    def pending_nudges(
        self, until: datetime, limit: int, platform: str | None = None
    ) -> list[Nudge]:
        """Up to `limit` pending nudges to be sent by `until` (their `send_at`), in that order
        (of `platform`'s users)."""
        ...

    def next_due(self, platform: str | None = None) -> datetime | None:
        """When the earliest pending nudge (of `platform`'s users) is to be sent (its
        `send_at`, which is its due time unless it was planned ahead)."""
        ...

    def send_load(
        self, platform: str | None, start: datetime, end: datetime
    ) -> dict[datetime, int]:
        """How many pending or sending nudges (of `platform`'s users) are to be sent at each
        instant in [start, end): the send slots already taken (bot.core.send_slots)."""
        ...

    def claim_nudge(self, nudge_id: int) -> bool:
        """`pending -> sending`, one more attempt; False when it was not pending."""
        ...

    def release_nudge(self, nudge_id: int, error: str | None = None) -> bool:
        """`sending -> pending`: not delivered (rate limited), to be tried again."""
        ...

    def unclaim_nudge(self, nudge_id: int) -> bool:
        """`sending -> pending` with the attempt undone: its request never started."""
        ...

    def mark_sent(self, sent: Sequence[tuple[int, datetime]]) -> None:
        """Many nudges `sent`, each at its time, together."""
        ...

    def fail_interrupted(self, error: str = "interrupted: delivery unknown") -> int:
        """At start-up: rows left in `sending` become `failed`, never resent."""
        ...

    def expire_nudges(self, before: datetime, error: str) -> int:
        """Pending nudges due before `before` become `missed`."""
        ...

    def set_unreachable(self, user_id: int, unreachable: bool = True) -> bool:
        """Flag a user who blocked the bot; only the scheduler sets it (the coach clears it
        when they write again)."""
        ...

    def nudge_counts(self) -> dict[str, int]:
        """Nudges per status, every status present."""
        ...

    def record_heartbeat(self, at: datetime) -> None:
        """The scheduler is alive at `at` (read by `python -m bot healthcheck`)."""
        ...

    def last_heartbeat(self) -> datetime | None:
        """When the scheduler last said it was alive; None before it ever ran."""
        ...


class Workers(Protocol):
    """The other worker processes on the same database, as an adapter needs them (several
    `python -m bot` on one PostgreSQL database; `PgStorage` once it joined them). Every call
    waits on the database: adapters make them in a worker thread."""

    def try_role(self, role: str) -> bool:
        """Take `role` ("telegram-poller", "discord-gateway") unless another worker plays
        it; kept until this worker stops or dies. True: this worker plays it now."""
        ...

    def release_role(self, role: str) -> None:
        """Give `role` up (another worker may take it at once); nothing if not held."""
        ...

    def live_workers(self) -> list[int]:
        """The ids of the workers running on this database now (this one included)."""
        ...

    def take_send_token(self, platform: str, rate: float, capacity: float = 1.0) -> float:
        """A token from a bucket every worker shares (refilled at `rate`/s): 0.0, taken;
        otherwise the seconds to wait before asking again."""
        ...

    def shared_secret(self, name: str, fresh: str) -> str:
        """One secret every worker uses alike: `fresh` when no other worker runs."""
        ...

    def order_updates(
        self,
        platform: str,
        arrived: Sequence[tuple[str, int]],
        done: Sequence[tuple[str, int]],
        asking: Sequence[tuple[str, int]],
        stale: float,
    ) -> set[tuple[str, int]]:
        """Users' updates, (user key, update_id): `done` ones handled, `arrived` ones received
        by this worker (before they are acknowledged); returns those of `asking` that must
        wait, because an earlier update of the user received by any worker in the last
        `stale` seconds is not handled yet."""
        ...


class Delivery(Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # the user blocked the bot: stop nudging them
    RETRY_LATER = "retry_later"  # rate limited: wait `retry_after` seconds
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SendResult:
    delivery: Delivery
    retry_after: float = 0.0
    error: str = ""

    @property
    def sent(self) -> bool:
        return self.delivery is Delivery.SENT


class Messenger(Protocol):
    """Something that can push a reply to a user who did not just write to us."""

    platform: str

    async def send(self, user: User, reply: Reply) -> SendResult: ...


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can show; None means no limit (bot/adapters/buttons.py fits replies)."""

    max_rows: int | None = None
    max_per_row: int | None = None
    max_label: int | None = None  # characters
    max_data: int | None = None  # bytes of button data
    markup: str = "plain"  # how text is formatted: "plain", "html", "markdown"
    images: bool = False
    files: bool = False


class Adapter(Messenger, Protocol):
    """A platform: started for the duration of `running()`, sending through `send`."""

    capabilities: Capabilities

    def running(self) -> AbstractAsyncContextManager[Any]: ...

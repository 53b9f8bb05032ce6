"""The bot's one clock: everything that asks "what time is it?" asks a `Clock`.

The coach, the nudge scheduler and the storage take the same clock, so a test (or a demo)
can run the whole bot at a chosen instant: the first Saturday of a month, a DST change
day, 29 February. `python -m bot` uses `system_clock` unless `BOT_CLOCK_START` is set, and
then `clock_starting_at` that instant, running on in real time from there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current instant, timezone-aware UTC."""


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock_starting_at(instant: datetime) -> Clock:
    """A clock that reads `instant` now and then runs at real speed.

    An offset from the system clock rather than a frozen value: timers, timeouts and the
    scheduler's waits still pass in real seconds.
    """
    offset = instant.astimezone(UTC) - datetime.now(UTC)

    def shifted() -> datetime:
        return datetime.now(UTC) + offset

    return shifted

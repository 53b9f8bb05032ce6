"""Plan ahead: the send time of each nudge a planning pass writes (see the package docstring).

The planner (`bot.core.nudges`) gives each nudge its window, [earliest, due]; here each one
gets a `send_at` in it from the platform's send slots (`bot.core.send_slots.SendSlots`, the
latest free slot), which start from what the outbox already holds (`Outbox.send_load`).
The outbox is read an hour at a time, each hour once per pass and only when a window (or
the hour after it, where a full window spills) touches it: an hourly pass, which plans the
hour entering the horizon, reads ~3 hours of rows, not 48. A re-plan deletes rows and adds
new ones, so the next pass reads the counts afresh rather than trusting a tally kept here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot.core.nudges import send_deadline
from bot.core.ports import Outbox
from bot.core.records import PlannedNudge
from bot.core.send_slots import SendSlots

CHUNK = timedelta(hours=1)
"""The outbox's send times are read this much at a time."""
SPILL = timedelta(hours=1)
"""How far past a window's end its hours are read too: where a full window's nudges go."""


class PlanAhead:
    """One planning pass's send slots, per platform with a known send rate."""

    def __init__(self, store: Outbox, rates: Mapping[str, float], now: datetime) -> None:
        self.store = store
        self.rates = dict(rates)
        # A whole minute: due times on the minute fall on a slot's start at any whole rate.
        self.origin = now.replace(second=0, microsecond=0)
        self._slots: dict[str, SendSlots] = {}
        self._read: dict[str, set[int]] = {}  # the hours of the outbox read, per platform

    def slots(self, platform: str) -> SendSlots | None:
        """The platform's slots (with what has been read of the outbox); None: no known rate."""
        if platform not in self.rates:
            return None
        found = self._slots.get(platform)
        if found is None:
            found = self._slots[platform] = SendSlots(self.rates[platform], self.origin)
            self._read[platform] = set()
        return found

    def read(self, platform: str, start: datetime, end: datetime) -> None:
        """Take the slots the outbox holds in [start, end], an hour at a time, each hour once."""
        slots, read = self.slots(platform), self._read.get(platform)
        if slots is None or read is None:
            return
        first = max(0, (start - self.origin) // CHUNK)
        last = (end - self.origin) // CHUNK
        for hour in range(first, last + 1):
            if hour not in read:
                read.add(hour)
                begins = self.origin + CHUNK * hour
                slots.load(self.store.send_load(platform, begins, begins + CHUNK))

    def place(self, platform: str, planned: Sequence[PlannedNudge]) -> list[PlannedNudge]:
        """`planned` with a send time each: pending ones with a window in a slot of it (or
        after it when it is full), the rest at their due time."""
        slots = self.slots(platform)
        if slots is None:
            return list(planned)
        placed: list[PlannedNudge] = []
        for item in planned:
            if item.status != "pending":
                placed.append(item)
                continue
            earliest = item.due_at if item.earliest is None else item.earliest
            self.read(platform, earliest, item.due_at + SPILL)
            send_at = slots.place(earliest, item.due_at, send_deadline(item))
            placed.append(replace(item, send_at=send_at))
        return placed

"""Plan ahead: the send time of each nudge a planning pass writes (see the package docstring).

The planner (`bot.core.nudges`) gives each nudge its window, [earliest, due]; here each one
gets a `send_at` in it from the platform's send slots (`bot.core.send_slots.SendSlots`, the
latest free slot), which start from what the outbox already holds (`Outbox.send_load`),
read once per pass. A re-plan deletes rows and adds new ones, so the next pass reads the
counts afresh rather than trusting a tally kept here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot.core.nudges import send_deadline
from bot.core.ports import Outbox
from bot.core.records import PlannedNudge
from bot.core.send_slots import SendSlots

FAR_AHEAD = timedelta(days=30)
"""How far ahead the outbox's send times are read: everything pending, in practice."""


class PlanAhead:
    """One planning pass's send slots, per platform with a known send rate."""

    def __init__(self, store: Outbox, rates: Mapping[str, float], now: datetime) -> None:
        self.store = store
        self.rates = dict(rates)
        # A whole minute: due times on the minute fall on a slot's start at any whole rate.
        self.origin = now.replace(second=0, microsecond=0)
        self._slots: dict[str, SendSlots] = {}

    def slots(self, platform: str) -> SendSlots | None:
        """The platform's slots, read from the outbox on first use; None: no known rate."""
        if platform not in self.rates:
            return None
        found = self._slots.get(platform)
        if found is None:
            found = SendSlots(self.rates[platform], self.origin)
            found.load(self.store.send_load(platform, self.origin, self.origin + FAR_AHEAD))
            self._slots[platform] = found
        return found

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
            send_at = slots.place(earliest, item.due_at, send_deadline(item))
            placed.append(replace(item, send_at=send_at))
        return placed

"""Send slots: when each planned nudge goes out, against a platform's send rate (pure).

A platform sends at most `rate` messages a second, so time ahead is cut into slots of
1/rate s, one message each. `SendSlots.place(earliest, latest)` gives a nudge the *latest*
free slot in its window [earliest, latest]: with room, a nudge goes at its due time
(`latest`) and nobody is sent early for nothing; when a minute is crowded, the nudges that
do not fit take the free slots before it, as far back as their windows allow, so the burst
is spread out before the due minute instead of queueing after it. A nudge whose window is
full takes the first free slot after `latest` (late, but in order, and it counts against
the slots of those planned after it), unless that is after its `deadline` (a session that
has started): then it keeps `latest` and takes no slot.

Both searches are a disjoint-set "nearest free slot" walk with path compression, so
placing n nudges into a crowded window costs about n, not n² (12,500 nudges due in the
same minute fill 420 s of slots). Only the slots touched are kept.

The slots already taken come from the outbox (`load`: how many nudges are planned at each
instant, e.g. `Outbox.send_load`); a count of k at one instant takes k slots, at it and
before it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

_EPSILON = 1e-6  # slots of a float rate: an instant on a slot's boundary is in that slot


class SendSlots:
    """A platform's send slots from `origin` on (slot i starts at origin + i/rate)."""

    def __init__(self, rate: float, origin: datetime) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.origin = origin.astimezone(UTC)
        self._left: dict[int, int] = {}  # taken slot -> a slot before it to look at
        self._right: dict[int, int] = {}  # taken slot -> a slot after it to look at
        self.taken = 0

    def _index(self, at: datetime) -> float:
        return (at - self.origin).total_seconds() * self.rate

    def slot_of(self, at: datetime) -> int:
        """The slot `at` falls in (before `origin`: slot 0, the earliest one kept)."""
        return max(0, math.floor(self._index(at) + _EPSILON))

    def at(self, slot: int) -> datetime:
        """When slot `slot` starts, to the microsecond."""
        return self.origin + timedelta(microseconds=round(slot * 1_000_000 / self.rate))

    def _free_before(self, slot: int) -> int:
        """The latest free slot at or before `slot` (-1: none from `origin` on)."""
        path: list[int] = []
        while slot >= 0 and slot in self._left:
            path.append(slot)
            slot = self._left[slot]
        for seen in path:
            self._left[seen] = slot
        return slot

    def _free_after(self, slot: int) -> int:
        path: list[int] = []
        while slot in self._right:
            path.append(slot)
            slot = self._right[slot]
        for seen in path:
            self._right[seen] = slot
        return slot

    def _take(self, slot: int) -> None:
        self._left[slot] = slot - 1
        self._right[slot] = slot + 1
        self.taken += 1

    def is_free(self, slot: int) -> bool:
        return slot not in self._left

    def load(self, counts: Mapping[datetime, int]) -> None:
        """Take the slots of nudges already planned: `count` at each instant, at its slot
        and the free ones before it (after it, when there are none)."""
        for instant in sorted(counts):
            slot = self.slot_of(instant)
            for _ in range(counts[instant]):
                free = self._free_before(slot)
                self._take(free if free >= 0 else self._free_after(slot))

    def take_latest(self, earliest: datetime, latest: datetime) -> datetime | None:
        """Take the latest free slot in [earliest, latest] (from `origin` on) and return
        when it starts (`latest` itself when that is inside the slot); None: all taken."""
        latest_slot = math.floor(self._index(latest) + _EPSILON)
        if latest_slot < 0:
            return None
        first = max(0, math.ceil(self._index(earliest) - _EPSILON))
        free = self._free_before(latest_slot)
        if free < first:
            return None
        self._take(free)
        send = self.at(free)
        return latest if free == latest_slot and send < latest else send

    def take_first(self, after: datetime, before: datetime | None = None) -> datetime | None:
        """Take the first free slot from the one `after` falls in, if it starts before
        `before` (None: any); when it starts, never before `after`. None: no such slot."""
        free = self._free_after(self.slot_of(after))
        send = self.at(free)
        if before is not None and send >= before:
            return None
        self._take(free)
        return max(send, after)

    def place(
        self, earliest: datetime, latest: datetime, deadline: datetime | None = None
    ) -> datetime:
        """The send time for a nudge that may go in [earliest, latest]: the latest free slot
        in it (taken), else the first free one after it up to `deadline`, else `latest`."""
        return self.take_latest(earliest, latest) or self.take_first(latest, deadline) or latest

"""Plan ahead: the send time of each nudge a planning pass writes (see the package docstring).

The planner (`bot.core.nudges`) gives each nudge its window, [earliest, due]; here each one
gets a `send_at` in it from the platform's send slots (`bot.core.send_slots.SendSlots`, the
latest free slot), which start from what the outbox already holds (`Outbox.send_load`).

The slots are kept an hour at a time (one `SendSlots` per UTC hour) and from pass to pass:
a pass extends users' plans up to a week past its horizon, so read afresh every pass, each
pass would read the whole outbox. The first pass after a start reads it (`warm`), ten
minutes at a time; later ones read the hour that came into reach. That is exact beyond the
horizon, where only the planner writes. Inside it the coach's re-plans add rows at their
due time, so a user planned from now (new, or re-planned) reads each hour inside the
horizon that their windows touch afresh, once per pass, and at most `FRESH_READS` hours a
pass (after many re-plans, the others as kept). Users extended a week at the horizon's
edge use the slots as kept: they could only miss re-plans of the last hour or two. What a
tally can also miss is rows deleted beyond the horizon (a re-plan, /forget): their slots
look taken, so a crowded minute spreads a little earlier than it needs to. Hours that
have passed are dropped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from bot.core.nudges import send_deadline
from bot.core.ports import Outbox
from bot.core.records import PlannedNudge
from bot.core.send_slots import SendSlots

CHUNK = timedelta(hours=1)
"""The outbox's send times are read, and their slots kept, this much at a time."""
PIECE = timedelta(minutes=10)
"""An hour is read in pieces this long when the slots are warmed, yielding in between."""
FRESH_READS = 4
"""At most this many hours are read again per pass for plans from now (~25 ms each at
100,000 users): a pass after many re-plans must not re-read the whole horizon."""


@dataclass(slots=True)
class _Hour:
    slots: SendSlots
    read_for: datetime  # the horizon of the pass that read it from the outbox


def hour_of(at: datetime) -> datetime:
    """The start of the UTC hour `at` falls in: the hours' slots start on whole minutes, so
    due times on the minute fall on a slot's start at any whole rate."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class PlanAhead:
    """The send slots of the planning passes, per platform with a known send rate."""

    def __init__(self, store: Outbox, rates: Mapping[str, float]) -> None:
        self.store = store
        self.rates = dict(rates)
        self.horizon: datetime | None = None  # the current pass's
        self.origin = datetime.min.replace(tzinfo=UTC)  # its minute: no slot before it
        self._hours: dict[tuple[str, datetime], _Hour] = {}
        self._fresh_reads = 0  # this pass's

    def begin_pass(self, now: datetime, horizon: datetime) -> None:
        """A pass planning up to `horizon` starts: hours over by `now` are dropped."""
        self.horizon = horizon
        self._fresh_reads = 0
        self.origin = now.astimezone(UTC).replace(second=0, microsecond=0)
        current = hour_of(now)
        for key in [key for key in self._hours if key[1] < current]:
            del self._hours[key]

    def warm(self, until: datetime) -> Iterator[None]:
        """Read the hours from the pass's minute to `until` that are not kept yet, one
        `PIECE` per step: after a start, the whole outbox, in steps a reply can wait for
        (a crowded hour holds tens of thousands of rows). Later passes read an hour or so."""
        for platform in self.rates:
            hour = hour_of(self.origin)
            while hour < until:
                if (platform, hour) not in self._hours:
                    slots = SendSlots(self.rates[platform], hour)
                    self._hours[(platform, hour)] = _Hour(slots, self.horizon or hour)
                    piece = hour
                    while piece < hour + CHUNK:
                        slots.load(self.store.send_load(platform, piece, piece + PIECE))
                        piece += PIECE
                        yield
                hour += CHUNK

    def _hour(self, platform: str, start: datetime, fresh: bool) -> SendSlots:
        """The platform's slots of the hour from `start`, read when missing, or (`fresh`)
        when it is inside the horizon and was read in an earlier pass: rows the coach
        wrote may be there (up to `FRESH_READS` a pass)."""
        horizon = self.horizon or start
        kept = self._hours.get((platform, start))
        stale = fresh and start < horizon and kept is not None and kept.read_for != horizon
        if stale:
            stale = self._fresh_reads < FRESH_READS
            self._fresh_reads += 1
        if kept is None or stale:
            slots = SendSlots(self.rates[platform], start)
            slots.load(self.store.send_load(platform, start, start + CHUNK))
            kept = self._hours[(platform, start)] = _Hour(slots, horizon)
        return kept.slots

    def send_at(self, platform: str, item: PlannedNudge, fresh: bool = True) -> datetime:
        """A send time for one pending nudge: the latest free slot of its window, else the
        first free one after it, up to its deadline, else its due time (no slot). Never a
        slot before the pass's minute: those have gone."""
        latest = item.due_at
        earliest = max(self.origin, latest if item.earliest is None else item.earliest)
        hour = hour_of(latest)
        while earliest <= latest and hour + CHUNK > earliest:
            slots = self._hour(platform, hour, fresh)
            last = latest if hour == hour_of(latest) else slots.at(slots.slot_of(hour + CHUNK) - 1)
            found = slots.take_latest(max(earliest, hour), last)
            if found is not None:
                return found
            hour -= CHUNK
        deadline = send_deadline(item)
        after = max(latest, self.origin)
        hour = hour_of(after)
        while deadline is None or hour < deadline:
            before = hour + CHUNK if deadline is None else min(deadline, hour + CHUNK)
            found = self._hour(platform, hour, fresh).take_first(max(after, hour), before)
            if found is not None:
                return found
            hour += CHUNK
        return latest

    def place(
        self, platform: str, planned: Sequence[PlannedNudge], fresh: bool = True
    ) -> list[PlannedNudge]:
        """`planned` with a send time each: pending ones with a window in a slot of it (or
        after it when it is full), the rest at their due time. `fresh`: a plan from now,
        which reads hours inside the horizon again (see the module doc)."""
        if platform not in self.rates:
            return list(planned)
        return [
            replace(item, send_at=self.send_at(platform, item, fresh))
            if item.status == "pending"
            else item
            for item in planned
        ]

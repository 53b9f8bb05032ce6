"""Instants: local "HH:MM" session times turned into aware UTC datetimes, DST-correct.

`local_wall_time`, `session_starts` and `next_session` turn local times into aware UTC
instants: a wall time inside a spring-forward gap is moved forward by the gap (02:30 → 03:30
local), an ambiguous fall-back time is its first occurrence; exactly one instant per local
day either way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from bot.core.records import ScheduleEntry
from bot.core.timeplan.schedules import PlannedSession
from bot.core.timeplan.zones import tzinfo_for

_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _clock(hhmm: str) -> time:
    match = _HHMM_RE.match(hhmm)
    if match is None:
        raise ValueError(f"not an HH:MM time: {hhmm!r}")
    return time(int(match.group(1)), int(match.group(2)))


@functools.lru_cache(maxsize=16384)
def local_wall_time(day: date, hhmm: str, zone: str) -> datetime:
    """The aware UTC instant when clocks in `zone` show `hhmm` on `day`.

    DST: a wall time inside a spring-forward gap (02:30 on 2026-03-29 in Berlin) does not
    exist; it is read with the offset in force before the jump, which is the instant the clock
    would show if it had not jumped — 03:30 local, i.e. shifted forward by the gap. An
    ambiguous fall-back time (02:30 on 2026-10-25 in Berlin) is its FIRST occurrence (fold=0,
    still summer time). Either way exactly one instant. Raises ValueError for a bad time/zone.

    Remembered: a planning pass asks for the same few thousand (day, time, zone) triples for
    tens of thousands of users, and this was a tenth of the pass.
    """
    local = datetime.combine(day, _clock(hhmm)).replace(tzinfo=tzinfo_for(zone), fold=0)
    return local.astimezone(UTC)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment


def _local_days(entry: ScheduleEntry | PlannedSession, first: date, last: date) -> Iterator[date]:
    if entry.on_date is not None:
        if first <= entry.on_date <= last:
            yield entry.on_date
        return
    if entry.weekday is None or not 0 <= entry.weekday <= 6:
        return
    day = first + timedelta(days=(entry.weekday - first.weekday()) % 7)
    while day <= last:
        yield day
        day += timedelta(days=7)


def session_starts(
    entry: ScheduleEntry | PlannedSession, zone: str, start: datetime, end: datetime
) -> list[datetime]:
    """Every start of `entry` in [start, end) as aware UTC datetimes, oldest first.

    One instant per local day the session falls on (see `local_wall_time` for DST).
    `start` and `end` must be aware; an entry with neither weekday nor date has no starts.
    """
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        return []
    tz = tzinfo_for(zone)
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    starts = (local_wall_time(day, entry.time, zone) for day in _local_days(entry, first, last))
    return [moment for moment in starts if start <= moment < end]


EntryT = TypeVar("EntryT", ScheduleEntry, PlannedSession)


def next_session(
    entries: Sequence[EntryT], zone: str, now: datetime
) -> tuple[datetime, EntryT] | None:
    """The soonest session start strictly after `now` (aware UTC) and its entry, or None.

    Ties go to the entry listed first. Past one-off sessions are skipped.
    """
    now = _aware(now, "now")
    after = now + timedelta(microseconds=1)
    best: tuple[datetime, EntryT] | None = None
    for entry in entries:
        horizon = after + timedelta(days=8)
        if entry.on_date is not None:
            moment = local_wall_time(entry.on_date, entry.time, zone)
            found = [moment] if moment > now else []
        else:
            found = session_starts(entry, zone, after, horizon)
        if found and (best is None or found[0] < best[0]):
            best = (found[0], entry)
    return best

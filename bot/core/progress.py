"""Progress people can see: what /history, its chart, the body map and the weekly summary
are made of. Pure functions of the user's stored data and the turn's clock, no drawing.

- **Soreness over time** is counted as the recommender counts it (`recommend.current_soreness`:
  an area's latest report, halving every 24 h): a day's value is the area's soreness at the
  end of that local day (at the turn's instant for today).
- **Sessions** are the user's past workouts: their schedule's starts since they joined,
  and every session a pre-workout nudge was planned for (so a session removed from the
  schedule since still counts). A session was **rolled before** when a rolling session
  was logged from 3 h before it to 15 min after its start, or its nudge's Start was tapped.
- **Nudges followed vs skipped**: the pre-workout nudges (and their snoozes) delivered, one
  per session; followed when Start was tapped on any of them, skipped when Skip was.
- The chart (`history_chart`) shows the sorest `MAX_CHART_AREAS` areas over `CHART_DAYS`;
  the body map (`body_map`) every area of the library, shaded by its soreness now, with the
  areas of warning signs of the last 14 days marked apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.core.picture import BodyMap, BodyMapWords, ChartWords, HistoryChart, Series, Shade
from bot.core.recommend import RED_FLAG_EXCLUSION, SORENESS_WINDOW, current_soreness
from bot.core.records import MassageRecord, Nudge, RollingSession, SorenessReport
from bot.core.timeplan import session_starts
from bot.core.turn import Turn

HISTORY_DAYS = 14
"""The text summary of /history covers this many days."""
CHART_DAYS = 28
"""The chart covers four weeks."""
MAX_CHART_AREAS = 5
"""Lines on the chart at most: more would not read on a phone."""
ROLLED_BEFORE = timedelta(hours=3)
ROLLED_LATE = timedelta(minutes=15)
"""A roll from 3 h before a session to 15 min after its start was a pre-workout roll."""
STREAK_LOOKBACK = timedelta(weeks=8)
"""How far back the pre-workout streak looks."""


@dataclass(frozen=True, slots=True)
class NudgeTally:
    """Pre-workout reminders delivered in a span, one per session, and what became of them."""

    sent: int = 0
    followed: int = 0
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class Records:
    """Everything about a user the pictures and summaries read, loaded once per turn."""

    since: datetime  # CHART_DAYS ago: what the chart and "empty" count from
    reports: list[SorenessReport]  # from SORENESS_WINDOW before `since`, oldest first
    rolled: list[RollingSession]  # from STREAK_LOOKBACK ago
    massages: list[MassageRecord]  # from `since`
    nudges: list[Nudge]  # due from STREAK_LOOKBACK ago

    @property
    def empty(self) -> bool:
        """Nothing to show: no soreness, rolling or massage in the chart's weeks."""
        return not (
            any(report.at >= self.since for report in self.reports)
            or any(roll.at >= self.since for roll in self.rolled)
            or self.massages
        )


def load(turn: Turn) -> Records:
    store, user_id, now = turn.store, turn.user.id, turn.now
    since = now - timedelta(days=CHART_DAYS)
    lookback = now - STREAK_LOOKBACK - timedelta(days=1)
    return Records(
        since=since,
        reports=store.soreness_since(user_id, since - SORENESS_WINDOW),
        rolled=store.rolling_since(user_id, lookback),
        massages=store.massages_since(user_id, since),
        nudges=store.nudges_since(user_id, lookback),
    )


# --- days ---------------------------------------------------------------------------------


def local_days(turn: Turn, count: int) -> list[date]:
    """The last `count` local days, today last."""
    today = turn.local_now.date()
    return [today - timedelta(days=count - 1 - n) for n in range(count)]


def _day_end(turn: Turn, day: date) -> datetime:
    """The end of a local day (midnight after it), or now for today."""
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=turn.zone)
    return min(end, turn.now)


def _day_indexes(turn: Turn, days: Sequence[date], moments: Sequence[datetime]) -> tuple[int, ...]:
    index = {day: n for n, day in enumerate(days)}
    found = {index.get(moment.astimezone(turn.zone).date()) for moment in moments}
    return tuple(sorted(n for n in found if n is not None))


# --- soreness -----------------------------------------------------------------------------


def daily_soreness(turn: Turn, records: Records, days: Sequence[date]) -> dict[str, list[float]]:
    """Area id -> one value a day (0 when not sore), for every area sore on some day: on a
    day with reports of the area, its latest one (what the user said); on other days, what
    is left of it at the end of the day as the recommender decays it."""
    index = {day: n for n, day in enumerate(days)}
    said: dict[tuple[str, int], int] = {}
    for report in records.reports:  # oldest first: the day's latest report wins
        n = index.get(report.at.astimezone(turn.zone).date())
        if n is not None and report.at <= turn.now:
            said[(report.area, n)] = report.severity
    by_area: dict[str, list[float]] = {}
    for n, day in enumerate(days):
        for area, value in current_soreness(records.reports, _day_end(turn, day)).items():
            by_area.setdefault(area, [0.0] * len(days))[n] = round(value, 1)
    for (area, n), severity in said.items():
        by_area.setdefault(area, [0.0] * len(days))[n] = float(severity)
    return by_area


def sorest_areas(turn: Turn, by_area: dict[str, list[float]], most: int) -> list[str]:
    """Up to `most` areas of the library, the highest peak first (ties: library order)."""
    order = {area: n for n, area in enumerate(turn.library.areas)}
    known = [area for area in by_area if area in order and max(by_area[area]) > 0]
    known.sort(key=lambda area: (-max(by_area[area]), order[area]))
    return known[:most]


def recent_levels(records: Records, since: datetime) -> dict[str, list[int]]:
    """Area id -> the severities reported since `since`, oldest first."""
    levels: dict[str, list[int]] = {}
    for report in records.reports:
        if report.at >= since:
            levels.setdefault(report.area, []).append(report.severity)
    return levels


def average_severity(
    reports: Sequence[SorenessReport], start: datetime, end: datetime
) -> float | None:
    """The mean severity reported in [start, end); None when nothing was."""
    found = [r.severity for r in reports if start <= r.at < end]
    return sum(found) / len(found) if found else None


# --- sessions and reminders -----------------------------------------------------------------


def _session_of(nudge: Nudge) -> str | None:
    """The session a pre-workout nudge (or its snooze) is about, as its ISO instant."""
    kind = nudge.payload.get("of_kind", "pre_workout") if nudge.kind == "snooze" else nudge.kind
    at = nudge.payload.get("session_at")
    return at if kind == "pre_workout" and isinstance(at, str) else None


def past_sessions(turn: Turn, records: Records, since: datetime) -> list[datetime]:
    """The user's workouts that started in [since, now), oldest first (see module doc)."""
    joined = turn.user.created_at or since
    first = max(since, joined)
    found: set[datetime] = set()
    for entry in turn.store.schedules(turn.user.id):
        try:
            found.update(session_starts(entry, turn.user.tz, first, turn.now))
        except ValueError:  # a broken stored time or zone: no sessions from it
            continue
    for nudge in records.nudges:
        at = _session_of(nudge)
        if at is None:
            continue
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            continue
        if since <= moment < turn.now:
            found.add(moment)
    return sorted(found)


def nudge_tally(records: Records, since: datetime) -> NudgeTally:
    """Pre-workout reminders delivered since `since`, one per session (see module doc)."""
    sessions: dict[str, list[Nudge]] = {}
    for nudge in records.nudges:
        session = _session_of(nudge)
        if session is not None and nudge.due_at >= since:
            sessions.setdefault(session, []).append(nudge)
    sent = followed = skipped = 0
    for rows in sessions.values():
        if not any(n.status == "sent" or n.answer is not None for n in rows):
            continue
        sent += 1
        answers = {n.answer for n in rows}
        if "started" in answers:
            followed += 1
        elif "skipped" in answers:
            skipped += 1
    return NudgeTally(sent, followed, skipped)


def _started_sessions(records: Records) -> set[datetime]:
    """The sessions whose nudge's Start was tapped."""
    started: set[datetime] = set()
    for nudge in records.nudges:
        at = _session_of(nudge)
        if at is not None and nudge.answer == "started":
            try:
                started.add(datetime.fromisoformat(at))
            except ValueError:
                continue
    return started


def rolled_before(records: Records, session: datetime, started: set[datetime]) -> bool:
    """Whether the user rolled before this session (see module doc); `started` is
    `_started_sessions(records)`."""
    if session in started:
        return True
    return any(
        session - ROLLED_BEFORE <= roll.at <= session + ROLLED_LATE for roll in records.rolled
    )


def pre_workout_streak(turn: Turn, records: Records) -> tuple[int, int]:
    """(sessions in a row, most recent first, rolled before; sessions looked at)."""
    sessions = past_sessions(turn, records, turn.now - STREAK_LOOKBACK)
    started = _started_sessions(records)
    streak = 0
    for session in reversed(sessions):
        if not rolled_before(records, session, started):
            break
        streak += 1
    return streak, len(sessions)


# --- pictures -------------------------------------------------------------------------------


def history_chart(turn: Turn, records: Records) -> HistoryChart:
    """The last `CHART_DAYS` of soreness for the sorest areas, with workouts, rolling
    sessions and massages marked on their days."""
    days = local_days(turn, CHART_DAYS)
    by_area = daily_soreness(turn, records, days)
    chosen = sorest_areas(turn, by_area, MAX_CHART_AREAS)
    known_from = _first_day_known(turn, days)
    series = tuple(
        Series(turn.library.areas[area].name, _unknown_before(by_area[area], known_from))
        for area in chosen
    )
    start = _day_end(turn, days[0] - timedelta(days=1))
    return HistoryChart(
        title=turn.say("chart_title", days=CHART_DAYS),
        days=tuple(days),
        series=series,
        workouts=_day_indexes(turn, days, past_sessions(turn, records, start)),
        rolled=_day_indexes(turn, days, [roll.at for roll in records.rolled]),
        massages=_day_indexes(turn, days, [massage.at for massage in records.massages]),
        words=ChartWords(
            axis=turn.say("chart_axis"),
            workouts=turn.say("chart_workouts"),
            rolled=turn.say("chart_rolled"),
            massages=turn.say("chart_massages"),
            nothing_sore=turn.say("chart_nothing_sore"),
        ),
    )


def _first_day_known(turn: Turn, days: Sequence[date]) -> int:
    """The index of the day the user joined (0 when before the chart starts): before it the
    bot knew nothing, which is not the same as nothing sore."""
    joined = turn.user.created_at
    if joined is None:
        return 0
    day = joined.astimezone(turn.zone).date()
    return next((n for n, shown in enumerate(days) if shown >= day), len(days))


def _unknown_before(values: Sequence[float], first: int) -> tuple[float, ...]:
    """NaN (no line drawn) before `first`, the values from it on."""
    return tuple(math.nan if n < first else value for n, value in enumerate(values))


def body_map(turn: Turn, reports: Sequence[SorenessReport] | None = None) -> BodyMap | None:
    """Every area shaded by its soreness now, warning-sign areas marked; None when nothing
    is sore and no warning sign was reported (an empty body says nothing)."""
    if reports is None:
        reports = turn.store.soreness_since(turn.user.id, turn.now - SORENESS_WINDOW)
    sore = current_soreness(reports, turn.now)
    flagged = {
        area
        for event in turn.store.red_flags_since(turn.user.id, turn.now - RED_FLAG_EXCLUSION)
        for area in event.areas
    }
    areas = turn.library.areas
    if not (set(sore) | flagged) & set(areas):
        return None
    shades = tuple(
        Shade(area_id, area.name, round(sore.get(area_id, 0.0), 1), area_id in flagged)
        for area_id, area in areas.items()
    )
    return BodyMap(
        title=turn.say("body_map_title"),
        areas=shades,
        words=BodyMapWords(
            front=turn.say("body_map_front"),
            back=turn.say("body_map_back"),
            scale=turn.say("body_map_scale"),
            red_flag=turn.say("body_map_red_flag"),
        ),
    )


def body_map_caption(turn: Turn, picture: BodyMap) -> str:
    """The map in words (what a screen reader, or a phone that did not load it, says)."""
    sore = sorted((s for s in picture.areas if s.soreness >= 1), key=lambda s: -s.soreness)
    named = ", ".join(f"{s.name} {round(s.soreness)}/10" for s in sore)
    lines = [turn.say("body_map_caption", areas=named) if sore else turn.say("body_map_clear")]
    flagged = [s.name for s in picture.areas if s.red_flag]
    if flagged:
        lines.append(turn.say("body_map_caption_red_flags", areas=", ".join(flagged)))
    return "\n".join(lines)

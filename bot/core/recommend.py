"""Which area should I roll? Rank body areas and fit a rolling routine into the user's time.

Everything here is a pure function of its arguments (the clock is the `now` argument), so the
same inputs always give the same routine.

How soreness counts
    The latest report for an area is the truth: a later "fine now" (severity 0) cancels earlier
    soreness. That report's severity then decays with its age: it halves every `HALF_LIFE`
    (24 h), so after about 72 h a report counts 1/8 and barely registers. Reports older than
    `SORENESS_WINDOW` (7 days) are ignored, and a decayed value under `MIN_SORENESS` (0.5) is
    dropped.

How areas are ranked
    score = decayed soreness + workout focus bonus (focus[0] gets 4, then 3.5, 3, 2.5, 2, 1.5)
    + 5 for an area the user asked about just now. Ties go by the workout's focus order, then
    the order of areas.yaml. The lower back is never rolled: its score is shared out equally
    to the areas around it (`Area.instead`). Areas named in a red flag within `RED_FLAG_EXCLUSION`
    (14 days) are never in a routine. When the ranked areas don't fill the time, the routine
    goes on with areas next to them (`Area.related`) and then a general full-body warm-up.

How time is spent
    The budget is clamped to 5-20 minutes (10 when not given). Walking the ranking, each area
    gets its content time (`Area.seconds`); an area that doesn't fit fully but has at least
    45 s left gets the rest (rounded down to 15 s); the walk stops when under 45 s remain.
    The total never exceeds the budget, and more minutes never give fewer areas.

Input contract
    `reports` are oldest first, as `Store.soreness_since` returns them (the window is found
    by bisection). Datetimes must be timezone-aware. Reports and red flags up to
    `CLOCK_SLACK` after `now` count as "now", so a report stamped by a slightly fast platform
    clock is not lost; anything later is ignored.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from operator import attrgetter

from bot.core.content import Area, Library
from bot.core.records import RedFlagEvent, SorenessReport
from bot.core.timeplan import zone_or_utc

HALF_LIFE = timedelta(hours=24)
"""Soreness halves every 24 h: after ~72 h a report counts 1/8 and barely registers."""
SORENESS_WINDOW = timedelta(days=7)
"""Reports older than this are ignored by `current_soreness`."""
MIN_SORENESS = 0.5
"""Decayed soreness below this is treated as gone."""
VERY_SORE = 8.0
"""Decayed soreness at or above this gets a go-light reason and note."""
RED_FLAG_EXCLUSION = timedelta(days=14)
"""Areas with a red flag in the last 14 days are never in a routine."""
CLOCK_SLACK = timedelta(minutes=5)
"""Records stamped up to this far after `now` count as happening now."""

MIN_MINUTES, DEFAULT_MINUTES, MAX_MINUTES = 5, 10, 20
MIN_SLOT_SECONDS = 45
"""A partial area gets the remaining time only when at least this much is left."""
SLOT_STEP_SECONDS = 15

FOCUS_BONUS: tuple[float, ...] = (4.0, 3.5, 3.0, 2.5, 2.0, 1.5)
ASKED_BONUS = 5.0
DEFAULT_FOCUS_WORKOUT = "full_body"
"""The general warm-up used when nothing is sore and no workout is given."""

ESCALATION_SEVERITY = 5
ESCALATION_SPAN = timedelta(days=7)
ESCALATION_RECENT = timedelta(days=2)
"""An escalation needs the area's latest report to be this recent."""
ESCALATION_MAX_GAP = timedelta(hours=72)
"""Two reports further apart than this don't make one continuous stretch of soreness."""

MAX_EXPLANATION = 140
GO_LIGHT = "go light: pressure only to a comfortable level"
_LOWER_BACK = "lower_back"
_AT = attrgetter("at")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_VERB_WORKOUTS = frozenset({"run", "cycle", "swim"})
"""Workouts whose name reads as a verb: "you run at 18:00", "you ride tomorrow at 07:00"."""


@dataclass(frozen=True, slots=True)
class AreaPick:
    """One area in a routine, how long to spend on it and why it is there."""

    area: Area
    seconds: int
    reason: str  # "sore 7/10 yesterday", "your run's focus"


@dataclass(frozen=True, slots=True)
class Escalation:
    """An area sore at >= 5/10 on every report over at least a week: time for a therapist."""

    area: Area
    days: int  # whole days from the first to the latest report of the stretch
    severity: int  # the latest report's severity


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A rolling routine with a one-line explanation and anything the user should know."""

    picks: tuple[AreaPick, ...]
    minutes: int  # the budget used (clamped 5..20)
    explanation: str  # one line
    notes: tuple[str, ...]
    excluded: tuple[str, ...]  # area ids left out for red flags
    workout: str | None
    escalations: tuple[Escalation, ...]

    @property
    def seconds(self) -> int:
        """Total time of the routine."""
        return sum(pick.seconds for pick in self.picks)


# --------------------------------------------------------------------------------------
# Soreness


def _aware(at: datetime, name: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime for {name}: pass a timezone-aware datetime")


def _window(reports: Sequence[SorenessReport], start: datetime, now: datetime) -> range:
    """Indexes of the (oldest-first) reports at or after `start` and not after now + slack."""
    low = bisect_left(reports, start, key=_AT)
    high = bisect_right(reports, now + CLOCK_SLACK, lo=low, key=_AT)
    return range(low, high)


def _latest_per_area(reports: Sequence[SorenessReport], now: datetime) -> dict[str, SorenessReport]:
    """The latest report (by time, then id) for each area within the soreness window."""
    latest: dict[str, SorenessReport] = {}
    for index in _window(reports, now - SORENESS_WINDOW, now):
        report = reports[index]
        known = latest.get(report.area)
        if known is None or (report.at, report.id) >= (known.at, known.id):
            latest[report.area] = report
    return latest


def _decay(report: SorenessReport, now: datetime) -> float:
    age = max(now - report.at, timedelta(0))
    factor: float = 0.5 ** (age / HALF_LIFE)
    return report.severity * factor


def current_soreness(reports: Sequence[SorenessReport], now: datetime) -> dict[str, float]:
    """Area id -> decayed severity (0..10) from each area's latest report; faded areas dropped.

    `reports` must be oldest first (as the store returns them).
    """
    _aware(now, "now")
    out: dict[str, float] = {}
    for area_id, report in _latest_per_area(reports, now).items():
        value = _decay(report, now)
        if value >= MIN_SORENESS:
            out[area_id] = value
    return out


# --------------------------------------------------------------------------------------
# Escalation


@dataclass(slots=True)
class _Stretch:
    latest: SorenessReport
    earliest: datetime
    open: bool = True


def escalations(
    library: Library, reports: Sequence[SorenessReport], now: datetime
) -> list[Escalation]:
    """Areas sore at >= 5/10 on every report of a stretch spanning at least 7 days.

    The stretch ends at the area's latest report, which must be within 2 days of `now`, and
    runs back while reports stay >= 5 and no two are more than 72 h apart. Longest first.
    Pass history going back at least as far as you want stretches counted (oldest first).
    """
    _aware(now, "now")
    end = bisect_right(reports, now + CLOCK_SLACK, key=_AT)
    recent = bisect_left(reports, now - ESCALATION_RECENT, hi=end, key=_AT)
    latest: dict[str, SorenessReport] = {}
    for index in range(recent, end):
        report = reports[index]
        known = latest.get(report.area)
        if known is None or (report.at, report.id) >= (known.at, known.id):
            latest[report.area] = report
    stretches = {
        area_id: _Stretch(report, report.at)
        for area_id, report in latest.items()
        if report.severity >= ESCALATION_SEVERITY and area_id in library.areas
    }
    open_count = len(stretches)
    index = end
    while open_count and index > 0:
        index -= 1
        report = reports[index]
        stretch = stretches.get(report.area)
        if stretch is None or not stretch.open:
            continue
        if (report.at, report.id) >= (stretch.latest.at, stretch.latest.id):
            continue
        gap = stretch.earliest - report.at
        if gap <= ESCALATION_MAX_GAP and report.severity >= ESCALATION_SEVERITY:
            stretch.earliest = report.at
            continue
        stretch.open = False
        open_count -= 1
    found = [
        Escalation(
            area=library.areas[area_id],
            days=(stretch.latest.at - stretch.earliest).days,
            severity=stretch.latest.severity,
        )
        for area_id, stretch in stretches.items()
        if stretch.latest.at - stretch.earliest >= ESCALATION_SPAN
    ]
    order = _area_order(library)
    found.sort(key=lambda item: (-item.days, order.get(item.area.id, len(order))))
    return found


# --------------------------------------------------------------------------------------
# Words


def mid_sentence(name: str) -> str:
    """'Calves' -> 'calves', 'Lower-body strength' -> 'lower-body strength', 'IT band' kept."""
    if len(name) > 1 and name[1].isupper():
        return name
    return name[:1].lower() + name[1:]


def _plural(area: Area) -> bool:
    return area.name.endswith("s") or area.name.lower() == "feet"


_ORDERS: dict[int, tuple[Library, dict[str, int]]] = {}


def _area_order(library: Library) -> dict[str, int]:
    """Each area's place in areas.yaml, the tie-breaker of every ranking; once per library."""
    cached = _ORDERS.get(id(library))
    if cached is None or cached[0] is not library:
        cached = (library, {area_id: n for n, area_id in enumerate(library.areas)})
        _ORDERS[id(library)] = cached
    return cached[1]


def day_words(at: datetime, now: datetime, tz: tzinfo) -> str:
    """When `at` was, in words relative to `now` in `tz`: 'today', 'yesterday', '2 days ago',
    'on Friday', 'on 12 Nov'."""
    day = at.astimezone(tz).date()
    days = (now.astimezone(tz).date() - day).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days <= 3:
        return f"{days} days ago"
    if days <= 6:
        return f"on {_WEEKDAYS[day.weekday()]}"
    return f"on {day.day} {_MONTHS[day.month - 1]}"


def _when_words(at: datetime, now: datetime, tz: tzinfo) -> str:
    """When a workout is: 'at 18:00', 'tomorrow at 07:00', 'on Thu at 07:00', 'on 3 Dec at 07:00'.

    Today needs no day word: "you run at 18:00".
    """
    local = at.astimezone(tz)
    clock = f"at {local:%H:%M}"
    days = (local.date() - now.astimezone(tz).date()).days
    if days == 0:
        return clock
    if days == 1:
        return f"tomorrow {clock}"
    if 1 < days <= 6:
        return f"on {_WEEKDAYS[local.weekday()][:3]} {clock}"
    return f"on {local.day} {_MONTHS[local.month - 1]} {clock}"


def _workout_noun(library: Library, workout: str | None) -> str:
    """'run', 'ride', 'lower-body strength session', 'full-body session'; 'session' if none."""
    if workout is None:
        return "session"
    noun = mid_sentence(library.workouts[workout].name)
    return noun if noun.endswith("session") or workout in _VERB_WORKOUTS else f"{noun} session"


def _workout_clause(
    library: Library, workout: str | None, at: datetime | None, now: datetime, tz: tzinfo
) -> str:
    """'you run at 18:00', 'your lower-body strength session is on Thu at 07:00'."""
    noun = _workout_noun(library, workout)
    if at is None:
        return f"your {noun} is next"
    when = _when_words(at, now, tz)
    if workout in _VERB_WORKOUTS:
        return f"you {noun} {when}"
    return f"your {noun} is {when}"


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _names(library: Library, area_ids: Iterable[str]) -> str:
    return _join([mid_sentence(library.areas[area_id].name) for area_id in area_ids])


# --------------------------------------------------------------------------------------
# Ranking and the routine


@dataclass(slots=True)
class _Candidate:
    area_id: str
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)


def _clamp_minutes(minutes: int | None) -> int:
    if minutes is None:
        return DEFAULT_MINUTES
    return max(MIN_MINUTES, min(MAX_MINUTES, minutes))


def _red_flag_exclusions(
    library: Library, red_flags: Sequence[RedFlagEvent], now: datetime
) -> dict[str, datetime]:
    """Area id -> the latest red flag naming it within the exclusion window."""
    start, end = now - RED_FLAG_EXCLUSION, now + CLOCK_SLACK
    flagged: dict[str, datetime] = {}
    for event in red_flags:
        if not start <= event.at <= end:
            continue
        for area_id in event.areas:
            if area_id in library.areas and (area_id not in flagged or event.at > flagged[area_id]):
                flagged[area_id] = event.at
    return flagged


def _fit(ranking: Sequence[tuple[str, str]], library: Library, budget: int) -> list[AreaPick]:
    """Walk the ranking, giving each area its content time while it fits (see module doc)."""
    picks: list[AreaPick] = []
    remaining = budget
    for area_id, reason in ranking:
        if remaining < MIN_SLOT_SECONDS and picks:
            break
        area = library.areas[area_id]
        if area.seconds <= remaining:
            seconds = area.seconds
        elif remaining >= MIN_SLOT_SECONDS:
            seconds = remaining // SLOT_STEP_SECONDS * SLOT_STEP_SECONDS
        elif not picks:  # at least one area, even on a budget no area fits
            seconds = remaining
        else:
            break
        picks.append(AreaPick(area=area, seconds=seconds, reason=reason))
        remaining -= seconds
    return picks


def recommend(
    library: Library,
    *,
    reports: Sequence[SorenessReport],
    red_flags: Sequence[RedFlagEvent],
    now: datetime,
    minutes: int | None = None,
    workout: str | None = None,
    workout_at: datetime | None = None,
    zone: str = "UTC",
    asked_areas: Sequence[str] = (),
) -> Recommendation:
    """A routine for right now: the most useful areas that fit into `minutes`, with reasons.

    `reports` and `red_flags` are the user's history (oldest first); `workout` is a workout id
    and `workout_at` when it starts; `zone` (IANA) sets the days and times in the words;
    `asked_areas` are area ids the user just mentioned. Raises `ValueError` for an unknown
    workout or area id, or a naive datetime.
    """
    _aware(now, "now")
    if workout_at is not None:
        _aware(workout_at, "workout_at")
    if workout is not None and workout not in library.workouts:
        raise ValueError(f"unknown workout {workout!r}")
    for area_id in asked_areas:
        if area_id not in library.areas:
            raise ValueError(f"unknown area {area_id!r}")
    tz = zone_or_utc(zone)
    budget_minutes = _clamp_minutes(minutes)
    flagged = _red_flag_exclusions(library, red_flags, now)
    latest = _latest_per_area(reports, now)
    soreness = {
        area_id: value
        for area_id, report in latest.items()
        if area_id in library.areas
        and area_id not in flagged
        and (value := _decay(report, now)) >= MIN_SORENESS
    }
    asked = tuple(dict.fromkeys(a for a in asked_areas if a not in flagged))
    focus = library.workouts[workout].focus if workout is not None else ()
    focus_order = {area_id: index for index, area_id in enumerate(focus)}
    noun = _workout_noun(library, workout)
    notes: list[str] = []

    candidates: dict[str, _Candidate] = {}

    def add(area_id: str, score: float, reason: str) -> None:
        candidate = candidates.setdefault(area_id, _Candidate(area_id))
        candidate.score += score
        if reason not in candidate.reasons:
            candidate.reasons.append(reason)

    very_sore: list[str] = []
    order = _area_order(library)
    for area_id in library.areas:
        if area_id not in soreness:
            continue
        value = soreness[area_id]
        report = latest[area_id]
        reason = f"sore {report.severity}/10 {day_words(report.at, now, tz)}"
        if value >= VERY_SORE and library.areas[area_id].rollable:
            reason += f" - {GO_LIGHT}"
            very_sore.append(area_id)
        add(area_id, value, reason)
    for area_id in asked:
        add(area_id, ASKED_BONUS, "you asked about it")
    for index, area_id in enumerate(focus):
        if area_id not in flagged:
            add(area_id, FOCUS_BONUS[min(index, len(FOCUS_BONUS) - 1)], f"your {noun}'s focus")

    # Never roll what isn't rollable (the lower back): share its score out to the areas
    # around it that are not themselves excluded.
    unrollable = [
        c for c in candidates.values() if not library.areas[c.area_id].rollable and c.score > 0
    ]
    shared_from: dict[str, tuple[str, ...]] = {}
    for candidate in unrollable:
        del candidates[candidate.area_id]
        area = library.areas[candidate.area_id]
        around = tuple(a for a in area.instead if a not in flagged)
        shared_from[area.id] = around
        if around:
            share = candidate.score / len(around)
            for area_id in around:
                add(area_id, share, f"eases your {mid_sentence(area.name)}")

    def rank_key(candidate: _Candidate) -> tuple[float, int, int]:
        return (
            -round(candidate.score, 9),
            focus_order.get(candidate.area_id, len(focus)),
            order.get(candidate.area_id, len(order)),
        )

    ranked = sorted((c for c in candidates.values() if c.score > 0), key=rank_key)
    ranking: list[tuple[str, str]] = [(c.area_id, "; ".join(c.reasons)) for c in ranked]
    seen = {c.area_id for c in ranked} | set(flagged)

    def fill(area_id: str, reason: str) -> None:
        if area_id not in seen and library.areas[area_id].rollable:
            seen.add(area_id)
            ranking.append((area_id, reason))

    for candidate in ranked:
        for area_id in library.areas[candidate.area_id].related:
            fill(area_id, f"next to your {mid_sentence(library.areas[candidate.area_id].name)}")
    for area_id in library.workouts[DEFAULT_FOCUS_WORKOUT].focus:
        fill(area_id, "general warm-up")
    for area_id in library.areas:  # a long budget, or red flags took out the usual areas
        fill(area_id, "general warm-up")

    picks = _fit(ranking, library, budget_minutes * 60)
    picked = {pick.area.id for pick in picks}

    # Notes: go light, the lower back, red flags.
    for area_id in very_sore:
        if area_id in picked:
            area = library.areas[area_id]
            verb = "are" if _plural(area) else "is"
            notes.append(f"Your {mid_sentence(area.name)} {verb} very sore: {GO_LIGHT}.")
    for area_id, around in shared_from.items():
        area = library.areas[area_id]
        worked = [a for a in around if a in picked]
        if area_id == _LOWER_BACK:
            lead = "The lumbar spine is never rolled directly"
        else:
            lead = f"Your {mid_sentence(area.name)} is never rolled directly"
        if worked:
            notes.append(f"{lead}, so this works your {_names(library, worked)} instead.")
        elif around:
            notes.append(f"{lead}; roll your {_names(library, around)} around it instead.")
        else:
            notes.append(f"{lead}.")
    excluded = tuple(a for a in library.areas if a in flagged)
    by_day: dict[str, list[str]] = {}
    for area_id in excluded:
        by_day.setdefault(day_words(flagged[area_id], now, tz), []).append(area_id)
    for day, area_ids in by_day.items():
        notes.append(
            f"Left out your {_names(library, area_ids)} (red flag {day}): don't roll there "
            "until a clinician has checked it."
        )

    explanation = _explain(
        library,
        picks=picks,
        soreness=soreness,
        latest=latest,
        shared_from=shared_from,
        asked=asked,
        excluded=excluded,
        workout=workout,
        workout_at=workout_at,
        now=now,
        tz=tz,
    )
    return Recommendation(
        picks=tuple(picks),
        minutes=budget_minutes,
        explanation=explanation,
        notes=tuple(notes),
        excluded=excluded,
        workout=workout,
        escalations=tuple(escalations(library, reports, now)),
    )


def _explain(
    library: Library,
    *,
    picks: Sequence[AreaPick],
    soreness: dict[str, float],
    latest: dict[str, SorenessReport],
    shared_from: dict[str, tuple[str, ...]],
    asked: Sequence[str],
    excluded: Sequence[str],
    workout: str | None,
    workout_at: datetime | None,
    now: datetime,
    tz: tzinfo,
) -> str:
    """One line: the top soreness behind the routine and the workout it is for."""
    picked = {pick.area.id for pick in picks}
    # The sorest area that shaped the routine: a picked area, or an unrollable one whose
    # neighbours were picked.
    worked = {a for a, around in shared_from.items() if picked & set(around)}
    shaping = [a for a in soreness if a in picked or a in worked]
    asked = [a for a in asked if a in picked or a in worked]
    has_workout = workout is not None or workout_at is not None
    clause = _workout_clause(library, workout, workout_at, now, tz) if has_workout else ""
    if shaping:
        order = _area_order(library)
        top = min(shaping, key=lambda a: (-round(soreness[a], 9), order.get(a, 0)))
        area, report = library.areas[top], latest[top]
        verb = "were" if _plural(area) else "was"
        lead = (
            f"Your {mid_sentence(area.name)} {verb} {report.severity}/10 "
            f"{day_words(report.at, now, tz)}"
        )
        if has_workout:
            options = [
                f"{lead} and {clause}.",
                f"{lead}, ahead of your {_workout_noun(library, workout)}.",
            ]
        elif top in shared_from:
            options = [f"{lead}, so this works the areas around it."]
        else:
            options = [f"{lead}, so {'they come' if _plural(area) else 'it comes'} first."]
        options.append(f"{lead}.")
    elif asked:
        lead = f"You asked about your {_names(library, asked)}"
        options = [f"{lead} and {clause}."] if has_workout else []
        if asked[0] in worked:
            options.append(f"{lead}, so this works the areas around it.")
        options += [
            f"{lead}, so {'that comes' if len(asked) == 1 else 'those come'} first.",
            "You asked about these areas, so they come first.",
        ]
    else:
        if excluded:
            lead = f"With your {_names(library, excluded)} left out for now, this is"
        elif soreness:
            lead = "Your soreness has mostly faded, so this is"
        else:
            lead = "Nothing is sore, so this is"
        if has_workout:
            noun = _workout_noun(library, workout)
            when = f" {_when_words(workout_at, now, tz)}" if workout_at is not None else ""
            options = [
                f"{lead} a general warm-up for your {noun}{when}.",
                f"{lead} a general warm-up for your {noun}.",
                f"Nothing else is sore, so this is a general warm-up for your {noun}.",
            ]
        else:
            options = [
                f"{lead} a general full-body warm-up.",
                "Nothing else is sore, so this is a general full-body warm-up.",
            ]
    for option in options:
        if len(option) <= MAX_EXPLANATION:
            return option
    return options[-1][: MAX_EXPLANATION - 1] + "…"

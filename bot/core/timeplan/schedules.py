"""Training schedules in plain words: "Mon legs 18:00, Thu upper 7pm" → sessions.

Used by onboarding ("when do you train?"), `/schedule add ...` and the scheduler.

`parse_schedule("Mon legs 18:00, Thu upper 7pm", today)` reads a message as a sequence of
*groups*, each a set of days (weekly: "Mon Wed Fri", "weekdays", "mon-fri"; one-off:
"today", "tonight", "tomorrow", "next fri", "the 14th", "2026-03-14"), one or more times
(`clock`) and an optional workout. A new group starts when a day, or a second workout,
follows a group that already has a time, and at a comma, full stop or new line after a group
that has a time or a workout — so "Mon, Wed, Fri 6pm" stays one group while "Mon Wed 7am,
Sat 9am" is two. A group with days but no time is *not* given another group's time; it is
reported in `ScheduleReading.problems` instead. Words we do not know ("I train", "on", "at",
"every") are ignored. The words come from the `Library` given (the shipped content when
None), through `words.time_words`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.core.content import Library
from bot.core.records import ScheduleEntry
from bot.core.timeplan.clock import ClockTime, resolve, valid_time
from bot.core.timeplan.tokens import SEPARATORS, Token, schedule_tokens
from bot.core.timeplan.words import PhraseTable, TimeWords, phrase_table, time_words

MAX_SCHEDULE_TEXT = 4_000  # longer messages are cut: nobody lists a schedule in an essay
MAX_SESSIONS = 100  # more than this from one message is a mistake, not a training plan
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_OTHER_HALF = {"am": "pm", "pm": "am"}


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """A session read from a message: weekly on `weekday` (0=Mon) or once on `on_date`."""

    time: str  # "HH:MM" 24h local
    weekday: int | None = None
    on_date: date | None = None
    workout: str | None = None


@dataclass(frozen=True, slots=True)
class ScheduleReading:
    """What a schedule message says: the sessions, what could not be understood, assumptions.

    `problems` are short user-facing explanations ("I found days (Mon, Wed) but no time —
    add one like 18:00 or 6pm."); `notes` say how ambiguous words were read ("I read '6' as
    18:00 — write 6am if you meant the morning.") so the reply can show them.
    """

    sessions: tuple[PlannedSession, ...]
    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def found_nothing(self) -> bool:
        """Nothing in the text looked like a day or a time (not even a half-said one)."""
        return not self.sessions and self.problems == (_NOTHING_FOUND,)


# --- from tokens to items -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Item:
    kind: str  # days, date, time, bad_time, workout, context, sep, noise
    days: tuple[int, ...] = ()
    on_date: date | None = None
    label: str = ""
    time: ClockTime | None = None
    value: str = ""


def _day_at(tokens: Sequence[Token], index: int, words: TimeWords) -> int | None:
    if index >= len(tokens) or tokens[index].kind != "word":
        return None
    return words.day(tokens[index].text)


def _on_or_after(today: date, weekday: int, *, strictly: bool) -> date:
    ahead = (weekday - today.weekday()) % 7
    if strictly and ahead == 0:
        ahead = 7
    return today + timedelta(days=ahead)


def _day_of_month(today: date, day: int) -> date | None:
    year, month = today.year, today.month
    for _ in range(13):
        try:
            found = date(year, month, day)
        except ValueError:
            found = None
        if found is not None and found >= today:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _date_label(day: date) -> str:
    return f"{DAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]}"


def _range_start(items: Sequence[_Item]) -> ClockTime | None:
    last = next((item for item in reversed(items) if item.kind != "noise"), None)
    return last.time if last is not None and last.kind == "time" else None


def _scan(
    tokens: Sequence[Token], today: date, words: TimeWords, workouts: PhraseTable[str]
) -> list[_Item]:
    """Tag each token or phrase: days, dates, times, workouts, context words, separators."""
    items: list[_Item] = []
    last_time_at = -10
    i, count = 0, len(tokens)
    while i < count:
        token = tokens[i]
        text = token.text
        following = tokens[i + 1].text if i + 1 < count else ""
        previous = tokens[i - 1].text if i > 0 else ""
        workout = workouts.match(tokens, i) if workouts.longest else None
        if workout is not None:
            items.append(_Item("workout", value=workout[1]))
            i += workout[0]
            continue
        day_set = words.day_sets.match(tokens, i)
        if day_set is not None:
            items.append(_Item("days", days=day_set[1]))
            i += day_set[0]
            continue
        if token.kind == "punct":
            items.append(_Item("sep" if text in SEPARATORS else "noise", value=text))
        elif token.kind == "iso":
            try:
                year, month, day = (int(part) for part in text.split("-"))
                items.append(_Item("date", on_date=date(year, month, day), label=text))
            except ValueError:
                items.append(_Item("bad_date", label=text))
        elif token.kind == "ord":
            found = _day_of_month(today, token.hour) if 1 <= token.hour <= 31 else None
            if found is not None:
                items.append(_Item("date", on_date=found, label=f"the {text}"))
        elif token.kind in ("clock", "num"):
            if token.kind == "num" and token.meridiem is None and following in words.not_time_units:
                items.append(_Item("noise", value=text))
                i += 1
                continue
            strong = (
                token.kind == "clock" or token.meridiem is not None or previous in words.at_words
            )
            time_ = ClockTime(
                token.hour, token.minute, token.meridiem, token.padded, token.bare, strong, text
            )
            start = (
                _range_start(items)
                if previous in words.range_words and last_time_at == i - 2
                else None
            )
            if start is not None:  # "6pm to 7pm", "6-7pm": the session starts at the first
                if start.meridiem is None and time_.meridiem is not None and start.hour <= 12:
                    same = start.hour % 12 <= time_.hour % 12  # "11-1pm" starts at 11am
                    start.meridiem = time_.meridiem if same else _OTHER_HALF[time_.meridiem]
                    start.strong = True
                    start.meridiem = start.meridiem if valid_time(start) else None
            elif valid_time(time_):
                items.append(_Item("time", time=time_))
                last_time_at = i
            elif strong:
                items.append(_Item("bad_time", label=text))
        elif text in words.hours and (
            previous in words.at_words or following in ("am", "pm") or following in words.oclock
        ):
            hour = words.hours[text]
            meridiem = following if following in ("am", "pm") else None
            items.append(_Item("time", time=ClockTime(hour, 0, meridiem, False, True, True, text)))
            last_time_at = i
            if meridiem is not None:
                i += 1
        elif text in words.noon or text in words.midnight:
            hour = 0 if text in words.midnight else 12
            items.append(_Item("time", time=ClockTime(hour, 0, None, True, False, True, text)))
            last_time_at = i
        elif text in ("next", "this") and _day_at(tokens, i + 1, words) is not None:
            weekday = _day_at(tokens, i + 1, words)
            assert weekday is not None
            found = _on_or_after(today, weekday, strictly=text == "next")
            items.append(_Item("date", on_date=found, label=f"{text} {DAY_NAMES[weekday]}"))
            i += 2
            continue
        elif text == "this" and (following in words.morning or following in words.evening):
            items.append(_Item("date", on_date=today, label="today"))
        elif (text, following) == ("day", "after") and i + 2 < count:
            if tokens[i + 2].text in words.tomorrow:
                found = today + timedelta(days=2)
                items.append(_Item("date", on_date=found, label="the day after tomorrow"))
                i += 3
                continue
        elif text in words.today:
            items.append(_Item("date", on_date=today, label="today"))
            if text in words.tonight:
                items.append(_Item("context", value="pm"))
        elif text in words.tomorrow:
            items.append(_Item("date", on_date=today + timedelta(days=1), label="tomorrow"))
        elif text in words.morning or text in words.evening:
            context = "am" if text in words.morning else "pm"
            last = next((item for item in reversed(items) if item.kind != "noise"), None)
            if (
                i - last_time_at <= 3
                and last is not None
                and last.time is not None
                and last.time.meridiem is None
            ):
                last.time.context = context
            else:
                items.append(_Item("context", value=context))
        elif (weekday := _day_at(tokens, i, words)) is not None:
            end = _day_at(tokens, i + 2, words) if following in words.range_words else None
            if end is not None:
                span = (end - weekday) % 7
                items.append(_Item("days", days=tuple((weekday + k) % 7 for k in range(span + 1))))
                i += 3
                continue
            items.append(_Item("days", days=(weekday,)))
        else:
            items.append(_Item("noise", value=text))
        i += 1
    return items


# --- from items to sessions -----------------------------------------------------------------


@dataclass(slots=True)
class _Group:
    days: list[int] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)
    date_labels: list[str] = field(default_factory=list)
    times: list[ClockTime] = field(default_factory=list)
    bad_times: list[str] = field(default_factory=list)
    workout: str | None = None
    context: str | None = None

    @property
    def has_days(self) -> bool:
        return bool(self.days or self.dates)

    @property
    def has_time(self) -> bool:
        return bool(self.times or self.bad_times)

    @property
    def empty(self) -> bool:
        return not (self.has_days or self.has_time or self.workout)


def _groups(items: Sequence[_Item]) -> list[_Group]:
    groups: list[_Group] = []
    current = _Group()

    def close() -> _Group:
        if not current.empty:
            groups.append(current)
        return _Group()

    for item in items:
        if item.kind == "sep":
            if current.has_time or (current.has_days and current.workout):
                current = close()
        elif item.kind in ("days", "date", "bad_date"):
            if current.has_time and current.has_days:
                current = close()
            if item.kind == "days":
                current.days.extend(day for day in item.days if day not in current.days)
            elif item.on_date is not None:
                if item.on_date not in current.dates:
                    current.dates.append(item.on_date)
                    current.date_labels.append(item.label)
            else:
                current.bad_times.append(item.label)
        elif item.kind == "time" and item.time is not None:
            current.times.append(item.time)
        elif item.kind == "bad_time":
            current.bad_times.append(item.label)
        elif item.kind == "workout":
            if current.workout is not None and current.has_time:
                current = close()
            if current.workout is None:
                current.workout = item.value
        elif item.kind == "context":
            current.context = item.value
    close()
    return groups


def _join(labels: Sequence[str]) -> str:
    return ", ".join(labels)


def _read_group(
    group: _Group,
    today: date,
    names: Mapping[str, str],
) -> tuple[list[PlannedSession], list[str], list[str]]:
    sessions: list[PlannedSession] = []
    problems: list[str] = []
    notes: list[str] = []
    strong = [t for t in group.times if t.strong]
    times: list[str] = []
    for time_ in strong or group.times:
        hhmm, note = resolve(time_, time_.context or group.context)
        if hhmm not in times:
            times.append(hhmm)
            if note is not None:
                notes.append(note)
    days = sorted(group.days)
    day_labels = [DAY_NAMES[day] for day in days] + [
        label
        if label.startswith(("the ", "next ", "this ")) or "-" in label
        else f"{label}, {_date_label(on_date)}"
        for label, on_date in zip(group.date_labels, group.dates, strict=True)
    ]
    past = [d for d in group.dates if d < today]
    for day in past:
        problems.append(f"{_date_label(day)} {day.year} has already passed — pick a later date.")
    dates = sorted(d for d in group.dates if d >= today)
    if group.bad_times and not times:
        problems.append(
            f"I couldn't read {_join([repr(b) for b in group.bad_times])} as a time or date — "
            "use a time like 18:00 or 6pm."
        )
    elif group.has_days and not times:
        what = "days" if len(day_labels) > 1 else "a day"
        problems.append(
            f"I found {what} ({_join(day_labels)}) but no time — add one like 18:00 or 6pm."
        )
    elif times and not group.has_days:
        example = times[0]
        problems.append(
            f"I found a time ({_join(times)}) but no day — add days like "
            f"'Mon Wed Fri {example}', 'weekdays {example}' or 'tomorrow {example}'."
        )
    elif not times and group.workout is not None:
        name = names.get(group.workout, group.workout)
        problems.append(
            f"I found a workout ({name}) but no day or time — add them like 'Mon 18:00 {name}'."
        )
    for weekday in days:
        for hhmm in times:
            sessions.append(PlannedSession(hhmm, weekday=weekday, workout=group.workout))
    for on_date in dates:
        for hhmm in times:
            sessions.append(PlannedSession(hhmm, on_date=on_date, workout=group.workout))
    return sessions, problems, notes


_NOTHING_FOUND = (
    "I couldn't find any training days or times in that — try something like "
    "'Mon Wed Fri 18:00', 'weekdays 7am' or 'tomorrow 6:30pm'."
)


def parse_schedule(
    text: str,
    today: date,
    workout_words: Mapping[str, str] | None = None,
    library: Library | None = None,
) -> ScheduleReading:
    """Read training sessions from a message; never raises on any text.

    `today` is the user's local date (for "today", "tomorrow", "next fri", "the 14th").
    `workout_words` maps lowercase phrases to workout ids (longest phrase wins); None uses
    the library's workout phrases plus the short words of language.yaml (legs, upper, run,
    bike, swim ...). `library` gives the words (the shipped content when None).
    """
    words = time_words(library)
    if workout_words is None:
        table = words.workouts
    else:
        table = phrase_table({k.lower(): v for k, v in workout_words.items()})
    tokens = schedule_tokens(text, MAX_SCHEDULE_TEXT)
    sessions: list[PlannedSession] = []
    problems: list[str] = []
    notes: list[str] = []
    for group in _groups(_scan(tokens, today, words, table)):
        found, group_problems, group_notes = _read_group(group, today, words.workout_names)
        sessions.extend(s for s in found if s not in sessions)
        problems.extend(p for p in group_problems if p not in problems)
        notes.extend(n for n in group_notes if n not in notes)
    if len(sessions) > MAX_SESSIONS:
        problems.append(
            f"That's more than {MAX_SESSIONS} sessions; I kept the first {MAX_SESSIONS}."
        )
        sessions = sessions[:MAX_SESSIONS]
    if not sessions and not problems:
        problems.append(_NOTHING_FOUND)
    return ScheduleReading(tuple(sessions), tuple(problems), tuple(notes))


def describe_session(
    session: PlannedSession | ScheduleEntry,
    workout_names: Mapping[str, str] | None = None,
    library: Library | None = None,
) -> str:
    """One line for a session: "Mon 18:00 · Lower-body strength", "Thu 26 Nov 07:30".

    Workout names come from `workout_names`, else from `library` (the shipped content when
    None)."""
    if session.on_date is not None:
        when = f"{_date_label(session.on_date)} {session.time}"
    elif session.weekday is not None and 0 <= session.weekday <= 6:
        when = f"{DAY_NAMES[session.weekday]} {session.time}"
    else:
        when = session.time
    if session.workout is None:
        return when
    names = time_words(library).workout_names if workout_names is None else workout_names
    return f"{when} · {names.get(session.workout, session.workout.replace('_', ' '))}"

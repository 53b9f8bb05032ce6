"""Training times, schedules and time zones in plain words — pure functions, no I/O.

Used by onboarding ("when do you train?"), `/schedule add ...`, `/settings` and the scheduler.

**Schedules.** `parse_schedule("Mon legs 18:00, Thu upper 7pm", today)` reads a message as
a sequence of *groups*, each a set of days (weekly: "Mon Wed Fri", "weekdays", "mon-fri";
one-off: "today", "tonight", "tomorrow", "next fri", "the 14th", "2026-03-14"), one or more
times and an optional workout. A new group starts when a day, or a second workout, follows
a group that already has a time, and at a comma, full stop or new line after a group that has
a time or a workout — so "Mon, Wed, Fri 6pm" stays one group while "Mon Wed 7am, Sat 9am"
is two. A group with days but no time is *not* given another group's time; it is reported in
`ScheduleReading.problems` instead. Words we do not know ("I train", "on", "at", "every")
are ignored.

**Clock times.** "18:00", "6pm", "6:30 pm", "7am", "7.30", "1830", "18h30", "noon",
"midnight", "6 in the evening". A time with minutes and no am/pm is a 24-hour time as
written ("7:30" is 07:30). A *bare hour* with no am/pm and no morning/evening word is read
the way people talk about training: 1–6 → afternoon/evening (13:00–18:00; few train at 3am),
7–11 → morning, 12 → noon, 0 and 13–23 → as written, and a leading zero ("06") means 24-hour.
The reading says so in `ScheduleReading.notes` ("I read '6' as 18:00 — …") so the reply can
show it and the user can correct it.

**Time zones.** `parse_timezone` accepts IANA names in any case ("europe/berlin",
"america/new york"), city names derived from the tz database ("sao paulo", "tokyo"), a few
aliases ("nyc", "pst", "india"), UTC offsets ("+2", "GMT+5:30" → "UTC+05:30") and sentences
("I'm in Berlin"). Offsets become fixed-offset zone strings that `tzinfo_for` understands.

**Instants.** `local_wall_time`, `session_starts` and `next_session` turn local "HH:MM"
times into aware UTC instants, DST-correct: a wall time inside a spring-forward gap is moved
forward by the gap (02:30 → 03:30 local), an ambiguous fall-back time is its first
occurrence; exactly one instant per local day either way.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import TypeVar

from rapidfuzz.distance import DamerauLevenshtein

from bot.core.content import default_library
from bot.core.records import ScheduleEntry

MAX_SCHEDULE_TEXT = 4_000  # longer messages are cut: nobody lists a schedule in an essay
MAX_ZONE_TEXT = 200
MAX_SESSIONS = 100  # more than this from one message is a mistake, not a training plan
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MIN_OFFSET_MINUTES = -12 * 60
MAX_OFFSET_MINUTES = 14 * 60


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


# --- tokens -------------------------------------------------------------------------------

_MERIDIEM_RE = re.compile(r"(?<![^\W\d_])([ap])(?:\.\s?m\b\.?|m\b)")
_TOKEN_RE = re.compile(
    r"(?P<iso>\d{4}-\d{1,2}-\d{1,2})(?!\d)"
    r"|(?P<clock>(?P<ch>\d{1,2})[:.h](?P<cm>\d{2}))(?!\d)(?:\s*(?P<cmer>am|pm)\b)?"
    r"|(?P<num>\d{1,4})(?:\s*(?P<nmer>am|pm)\b|(?P<ord>st|nd|rd|th)\b|\b)"
    r"|(?P<word>[^\W_][\w']*)"
    r"|(?P<punct>[,;.!?/&+@|\n-])"
)
_SEPARATORS = frozenset({",", ";", ".", "!", "?", "|", "\n"})


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # iso, clock, num, ord, word, punct
    text: str
    hour: int = 0
    minute: int = 0
    meridiem: str | None = None
    padded: bool = False  # hour written with a leading zero or as HHMM: a 24-hour time
    bare: bool = False  # an hour alone, no minutes


def _normalise(text: str, limit: int) -> str:
    text = text[:limit].lower()
    if not text.isascii():
        for fancy, plain in (("’", "'"), ("‘", "'"), ("–", "-"), ("—", "-"), ("−", "-")):
            text = text.replace(fancy, plain)
    return _MERIDIEM_RE.sub(r"\1m", text)


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN_RE.finditer(text):
        kind = match.lastgroup or ""
        raw = match.group(0)
        if match.group("clock") is not None:
            hour_text = match.group("ch")
            tokens.append(
                _Token(
                    "clock",
                    raw.replace(" ", ""),
                    hour=int(hour_text),
                    minute=int(match.group("cm")),
                    meridiem=match.group("cmer"),
                    padded=len(hour_text) == 2 and hour_text[0] == "0",
                )
            )
        elif match.group("num") is not None:
            digits = match.group("num")
            if match.group("ord") is not None:
                tokens.append(_Token("ord", raw, hour=int(digits)))
            elif len(digits) >= 3:
                tokens.append(
                    _Token(
                        "num",
                        raw.replace(" ", ""),
                        hour=int(digits[:-2]),
                        minute=int(digits[-2:]),
                        meridiem=match.group("nmer"),
                        padded=len(digits) == 4,
                    )
                )
            else:
                tokens.append(
                    _Token(
                        "num",
                        raw.replace(" ", ""),
                        hour=int(digits),
                        meridiem=match.group("nmer"),
                        padded=len(digits) == 2 and digits[0] == "0",
                        bare=True,
                    )
                )
        elif kind == "iso":
            tokens.append(_Token("iso", raw))
        elif kind == "word":
            tokens.append(_Token("word", raw.strip("'")))
        else:
            tokens.append(_Token("punct", raw))
    return tokens


# --- vocabulary -----------------------------------------------------------------------------

_DAY_WORDS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("monday", "mon", "mons", "m"),
        ("tuesday", "tue", "tues", "tu"),
        ("wednesday", "wed", "weds", "w"),
        ("thursday", "thu", "thur", "thurs", "th"),
        ("friday", "fri", "fris", "f"),
        ("saturday", "sat", "sats", "sa"),
        ("sunday", "sun", "suns", "su"),
    )
):
    for _name in _names:
        _DAY_WORDS[_name] = _index
    _DAY_WORDS[_names[0] + "s"] = _index
_FUZZY_DAYS = tuple(name for name in _DAY_WORDS if len(name) >= 6)

_ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)
_DAY_SETS: dict[tuple[str, ...], tuple[int, ...]] = {
    ("weekdays",): (0, 1, 2, 3, 4),
    ("weekday",): (0, 1, 2, 3, 4),
    ("week", "days"): (0, 1, 2, 3, 4),
    ("workdays",): (0, 1, 2, 3, 4),
    ("work", "days"): (0, 1, 2, 3, 4),
    ("weekends",): (5, 6),
    ("weekend",): (5, 6),
    ("every", "day"): _ALL_DAYS,
    ("each", "day"): _ALL_DAYS,
    ("every", "single", "day"): _ALL_DAYS,
    ("everyday",): _ALL_DAYS,
    ("daily",): _ALL_DAYS,
    ("all", "week"): _ALL_DAYS,
    ("7", "days"): _ALL_DAYS,
    ("seven", "days"): _ALL_DAYS,
}
_TODAY_WORDS = frozenset({"today", "tonight", "tonite", "2night"})
_TOMORROW_WORDS = frozenset(
    {"tomorrow", "tmrw", "tmr", "tmrow", "tomorow", "tommorow", "tommorrow", "2morrow", "2moro"}
)
_MORNING_WORDS = frozenset({"morning", "mornings", "am"})
_EVENING_WORDS = frozenset(
    {"evening", "evenings", "night", "nights", "afternoon", "afternoons", "pm", "tonight"}
)
_NOON_WORDS = frozenset({"noon", "midday", "lunchtime"})
_OTHER_HALF = {"am": "pm", "pm": "am"}
_RANGE_WORDS = frozenset({"-", "to", "through", "thru", "till", "til", "until"})
_AT_WORDS = frozenset({"at", "@", "around", "about", "by", "from", "approx", "approximately"})
_TIME_FILLERS = frozenset({"o'clock", "oclock", "sharp", "ish", "in", "the", "at", "@"})
_NOT_TIME_UNITS = frozenset(
    {"times", "time", "x", "sets", "set", "reps", "rep", "min", "mins", "minute", "minutes"}
    | {"hour", "hours", "hr", "hrs", "km", "k", "mi", "mile", "miles", "days", "day", "weeks"}
    | {"week", "sessions", "session", "kg", "kgs", "lb", "lbs", "months", "month", "years"}
)
_NUMBER_WORDS = {
    name: value
    for value, name in enumerate(
        [
            *("zero", "one", "two", "three", "four", "five", "six"),
            *("seven", "eight", "nine", "ten", "eleven", "twelve"),
        ]
    )
    if value
}

_SHORT_WORKOUT_WORDS = {
    "legs": "lower_body",
    "leg": "lower_body",
    "lower": "lower_body",
    "upper": "upper_body",
    "arms": "upper_body",
    "push": "upper_body",
    "pull": "upper_body",
    "full": "full_body",
    "run": "run",
    "running": "run",
    "bike": "cycle",
    "ride": "cycle",
    "cycle": "cycle",
    "swim": "swim",
}


@functools.lru_cache(maxsize=1)
def default_workout_words() -> dict[str, str]:
    """Lowercase phrase -> workout id: the content library's phrases plus short words."""
    words: dict[str, str] = {}
    for workout in default_library().workouts.values():
        words[workout.id] = workout.id
        for phrase in workout.phrases:
            words[phrase.lower()] = workout.id
    words.update(_SHORT_WORKOUT_WORDS)
    return words


@functools.lru_cache(maxsize=1)
def _default_workout_names() -> dict[str, str]:
    return {workout.id: workout.name for workout in default_library().workouts.values()}


@dataclass(frozen=True, slots=True)
class _PhraseTable:
    phrases: dict[tuple[str, ...], str]
    longest: int

    def match(self, tokens: Sequence[_Token], start: int) -> tuple[int, str] | None:
        """The longest phrase starting at `start`: (token count, value)."""
        for size in range(min(self.longest, len(tokens) - start), 0, -1):
            key = tuple(token.text for token in tokens[start : start + size])
            found = self.phrases.get(key)
            if found is not None:
                return size, found
        return None


def _phrase_table(words: Mapping[str, str]) -> _PhraseTable:
    phrases: dict[tuple[str, ...], str] = {}
    for phrase, value in words.items():
        key = tuple(token.text for token in _tokens(_normalise(phrase, 200)))
        if key and key not in phrases:
            phrases[key] = value
    return _PhraseTable(phrases, max((len(key) for key in phrases), default=0))


@functools.lru_cache(maxsize=1)
def _default_phrase_table() -> _PhraseTable:
    return _phrase_table(default_workout_words())


# --- from tokens to items -------------------------------------------------------------------


@dataclass(slots=True)
class _Time:
    hour: int
    minute: int
    meridiem: str | None
    padded: bool
    bare: bool
    strong: bool  # said as a time for sure (am/pm, minutes, "at 6"); weak: a lone number
    raw: str
    context: str | None = None  # "am"/"pm" from "in the morning"/"in the evening"


@dataclass(frozen=True, slots=True)
class _Item:
    kind: str  # days, date, time, bad_time, workout, context, sep, noise
    days: tuple[int, ...] = ()
    on_date: date | None = None
    label: str = ""
    time: _Time | None = None
    value: str = ""


def _day_word(word: str) -> int | None:
    found = _DAY_WORDS.get(word)
    if found is not None or len(word) < 6 or not word.isalpha():
        return found
    limit = 1 if len(word) < 8 else 2
    for name in _FUZZY_DAYS:
        close = abs(len(name) - len(word)) <= limit
        if close and DamerauLevenshtein.distance(word, name, score_cutoff=limit) <= limit:
            return _DAY_WORDS[name]
    return None


def _day_at(tokens: Sequence[_Token], index: int) -> int | None:
    if index >= len(tokens) or tokens[index].kind != "word":
        return None
    return _day_word(tokens[index].text)


def _valid_time(time_: _Time) -> bool:
    if time_.minute > 59:
        return False
    if time_.meridiem is not None:
        return 1 <= time_.hour <= 12
    return 0 <= time_.hour <= 23


def _resolve(time_: _Time, context: str | None) -> tuple[str, str | None]:
    """'HH:MM' for a valid time, and a note when a bare hour was read by the default rule."""
    hour, note = time_.hour, None
    if time_.meridiem is not None:
        hour = hour % 12 + (12 if time_.meridiem == "pm" else 0)
    elif context is not None and not time_.padded and 1 <= hour <= 11:
        hour += 12 if context == "pm" else 0
    elif time_.bare and not time_.padded and 1 <= hour <= 11:
        other = "am" if hour <= 6 else "pm"
        meant = "the morning" if hour <= 6 else "the evening"
        hour += 12 if hour <= 6 else 0
        note = f"I read '{time_.raw}' as {hour:02d}:00 — write {time_.raw}{other} if you meant"
        note += f" {meant}."
    return f"{hour:02d}:{time_.minute:02d}", note


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


def _range_start(items: Sequence[_Item]) -> _Time | None:
    last = next((item for item in reversed(items) if item.kind != "noise"), None)
    return last.time if last is not None and last.kind == "time" else None


def _scan(tokens: Sequence[_Token], today: date, workouts: _PhraseTable) -> list[_Item]:
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
        day_set = next(
            (
                (len(key), days)
                for key, days in _DAY_SETS.items()
                if tuple(t.text for t in tokens[i : i + len(key)]) == key
            ),
            None,
        )
        if day_set is not None:
            items.append(_Item("days", days=day_set[1]))
            i += day_set[0]
            continue
        if token.kind == "punct":
            items.append(_Item("sep" if text in _SEPARATORS else "noise", value=text))
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
            if token.kind == "num" and token.meridiem is None and following in _NOT_TIME_UNITS:
                items.append(_Item("noise", value=text))
                i += 1
                continue
            strong = token.kind == "clock" or token.meridiem is not None or previous in _AT_WORDS
            time_ = _Time(
                token.hour, token.minute, token.meridiem, token.padded, token.bare, strong, text
            )
            start = (
                _range_start(items) if previous in _RANGE_WORDS and last_time_at == i - 2 else None
            )
            if start is not None:  # "6pm to 7pm", "6-7pm": the session starts at the first
                if start.meridiem is None and time_.meridiem is not None and start.hour <= 12:
                    same = start.hour % 12 <= time_.hour % 12  # "11-1pm" starts at 11am
                    start.meridiem = time_.meridiem if same else _OTHER_HALF[time_.meridiem]
                    start.strong = True
                    start.meridiem = start.meridiem if _valid_time(start) else None
            elif _valid_time(time_):
                items.append(_Item("time", time=time_))
                last_time_at = i
            elif strong:
                items.append(_Item("bad_time", label=text))
        elif text in _NUMBER_WORDS and (
            previous in _AT_WORDS or following in ("am", "pm", "o'clock", "oclock")
        ):
            hour = _NUMBER_WORDS[text]
            meridiem = following if following in ("am", "pm") else None
            items.append(_Item("time", time=_Time(hour, 0, meridiem, False, True, True, text)))
            last_time_at = i
            if meridiem is not None:
                i += 1
        elif text in _NOON_WORDS or text == "midnight":
            hour = 0 if text == "midnight" else 12
            items.append(_Item("time", time=_Time(hour, 0, None, True, False, True, text)))
            last_time_at = i
        elif text in ("next", "this") and _day_at(tokens, i + 1) is not None:
            weekday = _day_at(tokens, i + 1)
            assert weekday is not None
            found = _on_or_after(today, weekday, strictly=text == "next")
            items.append(_Item("date", on_date=found, label=f"{text} {DAY_NAMES[weekday]}"))
            i += 2
            continue
        elif text == "this" and following in _MORNING_WORDS | _EVENING_WORDS:
            items.append(_Item("date", on_date=today, label="today"))
        elif (text, following) == ("day", "after") and i + 2 < count:
            if tokens[i + 2].text in _TOMORROW_WORDS:
                found = today + timedelta(days=2)
                items.append(_Item("date", on_date=found, label="the day after tomorrow"))
                i += 3
                continue
        elif text in _TODAY_WORDS:
            items.append(_Item("date", on_date=today, label="today"))
            if text != "today":
                items.append(_Item("context", value="pm"))
        elif text in _TOMORROW_WORDS:
            items.append(_Item("date", on_date=today + timedelta(days=1), label="tomorrow"))
        elif text in _MORNING_WORDS or text in _EVENING_WORDS:
            context = "am" if text in _MORNING_WORDS else "pm"
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
        elif (weekday := _day_at(tokens, i)) is not None:
            end = _day_at(tokens, i + 2) if following in _RANGE_WORDS else None
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
    times: list[_Time] = field(default_factory=list)
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
        hhmm, note = _resolve(time_, time_.context or group.context)
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
    text: str, today: date, workout_words: Mapping[str, str] | None = None
) -> ScheduleReading:
    """Read training sessions from a message; never raises on any text.

    `today` is the user's local date (for "today", "tomorrow", "next fri", "the 14th").
    `workout_words` maps lowercase phrases to workout ids (longest phrase wins); None uses
    the content library's phrases plus short words (legs, upper, run, bike, swim ...).
    """
    if workout_words is None:
        table = _default_phrase_table()
        names = _default_workout_names()
    else:
        table = _phrase_table({k.lower(): v for k, v in workout_words.items()})
        names = _default_workout_names()
    tokens = _tokens(_normalise(text, MAX_SCHEDULE_TEXT))
    sessions: list[PlannedSession] = []
    problems: list[str] = []
    notes: list[str] = []
    for group in _groups(_scan(tokens, today, table)):
        found, group_problems, group_notes = _read_group(group, today, names)
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


def parse_clock_time(text: str) -> str | None:
    """'HH:MM' (24h) for a message that is just a time of day, else None.

    "18:00", "6pm", "6:30 pm", "7am", "noon", "7.30", "1830", "at 6 in the evening".
    Out-of-range times ("25:00", "13pm") are None. Bare hours follow the module's rule
    (1–6 → pm, 7–11 → am).
    """
    tokens = _tokens(_normalise(text, 100))
    while tokens and tokens[0].text in _AT_WORDS:
        tokens = tokens[1:]
    if not tokens:
        return None
    times: list[_Time] = []
    context: str | None = None
    for index, token in enumerate(tokens):
        if token.kind in ("clock", "num"):
            times.append(
                _Time(token.hour, token.minute, token.meridiem, token.padded, token.bare, True, "")
            )
        elif token.text in _NOON_WORDS or token.text == "midnight":
            if not (times and times[-1].hour == 12 and token.text == "noon"):
                times.append(
                    _Time(0 if token.text == "midnight" else 12, 0, None, True, False, True, "")
                )
        elif token.text in _MORNING_WORDS or token.text in _EVENING_WORDS:
            context = "am" if token.text in _MORNING_WORDS else "pm"
        elif token.text in _NUMBER_WORDS and index == 0:
            times.append(_Time(_NUMBER_WORDS[token.text], 0, None, False, True, True, ""))
        elif token.text not in _TIME_FILLERS:
            return None
    if len(times) != 1 or not _valid_time(times[0]):
        return None
    return _resolve(times[0], context)[0]


# --- time zones ---------------------------------------------------------------------------

_OFFSET_RE = re.compile(
    r"^(?:utc|gmt|z)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?:\s*(?:h|hrs?|hours?))?$"
)
_FIXED_ZONE_RE = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$")
_REGIONS = frozenset(
    {"Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian"}
    | {"Pacific", "Arctic"}
)
_ZONE_ALIASES = {
    "nyc": "America/New_York",
    "new york city": "America/New_York",
    "la": "America/Los_Angeles",
    "sf": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "bay area": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "london": "Europe/London",
    "uk": "Europe/London",
    "england": "Europe/London",
    "india": "Asia/Kolkata",
    "est": "America/New_York",
    "edt": "America/New_York",
    "eastern": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "central": "America/Chicago",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "mountain": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "cet": "Europe/Berlin",
    "cest": "Europe/Berlin",
    "gmt": "UTC",
    "utc": "UTC",
    "z": "UTC",
    "zulu": "UTC",
    "aest": "Australia/Sydney",
    "aedt": "Australia/Sydney",
    "sydney": "Australia/Sydney",
}
_ZONE_LEADS = re.compile(
    r"^(?:(?:my\s+)?(?:time\s*zone|tz|zone)\s*(?:is|=|:)?"
    r"|i\s*'?\s*a?m\s+(?:in|based\s+in|living\s+in|from)"
    r"|i\s+(?:live|am\s+based|'m\s+based|m\s+based|stay)\s+in"
    r"|(?:set\s+(?:it\s+)?to|use|in|it'?s)"
    r")\s*"
)


@functools.lru_cache(maxsize=1)
def _zone_tables() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(region/city IANA names, city names, other IANA names), all keyed lowercase."""
    regional: dict[str, str] = {}
    other: dict[str, str] = {}
    cities: dict[str, tuple[tuple[int, str], str]] = {}
    for name in zoneinfo.available_timezones():
        if name.startswith(("posix/", "right/")):
            continue
        lower = name.lower()
        region = name.split("/", 1)[0]
        if "/" in name and region in _REGIONS:
            regional[lower] = name
            regional[lower.replace("_", " ")] = name
            city = name.rsplit("/", 1)[1].replace("_", " ").lower()
            rank = (-name.count("/"), name)  # deeper names are the canonical ones
            if city not in cities or rank < cities[city][0]:
                cities[city] = (rank, name)
        else:
            other[lower] = name
            other[lower.replace("_", " ")] = name
    return regional, {city: name for city, (_, name) in cities.items()}, other


def _offset_zone(sign: str, hours: int, minutes: int) -> str | None:
    total = hours * 60 + minutes
    if minutes > 59 or total > MAX_OFFSET_MINUTES or (sign == "-" and total > -MIN_OFFSET_MINUTES):
        return None
    if total == 0:
        return "UTC"
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _zone_candidate(candidate: str) -> str | None:
    candidate = candidate.strip(" \t\r\n.,!?;:'\"()")
    if not candidate:
        return None
    offset = _OFFSET_RE.match(candidate)
    if offset is not None:
        sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3) or 0)
        return _offset_zone(sign, hours, minutes)
    candidate = re.sub(r"\s+", " ", candidate)
    candidate = re.sub(r"\s*/\s*", "/", candidate)
    regional, cities, other = _zone_tables()
    for table in (_ZONE_ALIASES, regional, cities, other):
        found = table.get(candidate)
        if found is not None:
            return found
    return None


def parse_timezone(text: str) -> str | None:
    """A canonical zone string for what the user typed, or None; never raises.

    IANA names in any case ("europe/berlin" → "Europe/Berlin"), city names ("sao paulo"),
    aliases ("nyc", "pst", "india", "gmt" → "UTC"), offsets ("+2", "GMT+5:30", "-03" →
    "UTC+02:00", "UTC+05:30", "UTC-03:00"; -12..+14) and sentences ("I'm in Berlin").
    """
    lowered = _normalise(text, MAX_ZONE_TEXT).strip(" \t\r\n.,!?;:'\"()")
    if not lowered:
        return None
    candidates = [lowered]
    stripped = _ZONE_LEADS.sub("", lowered, count=1)
    if stripped != lowered:
        candidates.append(stripped)
    words = lowered.split()
    candidates.extend(" ".join(words[-size:]) for size in range(min(4, len(words) - 1), 0, -1))
    for candidate in candidates:
        found = _zone_candidate(candidate)
        if found is not None:
            return found
    return None


def zone_or_utc(zone: str) -> tzinfo:
    """`tzinfo_for`, but UTC for a name that is not (or no longer) known: a bad stored
    setting must never break a reply or a nudge."""
    try:
        return tzinfo_for(zone)
    except ValueError:
        return tzinfo_for("UTC")


def tzinfo_for(zone: str) -> tzinfo:
    """The tzinfo for a zone string from `parse_timezone`; ValueError when unknown.

    IANA names give `ZoneInfo`; "UTC+05:30"-style strings give a fixed-offset `timezone`.
    """
    fixed = _FIXED_ZONE_RE.match(zone)
    if fixed is not None:
        sign, hours, minutes = fixed.group(1), int(fixed.group(2)), int(fixed.group(3))
        if _offset_zone(sign, hours, minutes) != zone:
            raise ValueError(f"unknown time zone: {zone!r}")
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if sign == "-" else delta, zone)
    try:
        return zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone: {zone!r}") from exc


# --- instants -------------------------------------------------------------------------------

_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _clock(hhmm: str) -> time:
    match = _HHMM_RE.match(hhmm)
    if match is None:
        raise ValueError(f"not an HH:MM time: {hhmm!r}")
    return time(int(match.group(1)), int(match.group(2)))


def local_wall_time(day: date, hhmm: str, zone: str) -> datetime:
    """The aware UTC instant when clocks in `zone` show `hhmm` on `day`.

    DST: a wall time inside a spring-forward gap (02:30 on 2026-03-29 in Berlin) does not
    exist; it is read with the offset in force before the jump, which is the instant the clock
    would show if it had not jumped — 03:30 local, i.e. shifted forward by the gap. An
    ambiguous fall-back time (02:30 on 2026-10-25 in Berlin) is its FIRST occurrence (fold=0,
    still summer time). Either way exactly one instant. Raises ValueError for a bad time/zone.
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


def describe_session(
    session: PlannedSession | ScheduleEntry, workout_names: Mapping[str, str] | None = None
) -> str:
    """One line for a session: "Mon 18:00 · Lower-body strength", "Thu 26 Nov 07:30"."""
    if session.on_date is not None:
        when = f"{_date_label(session.on_date)} {session.time}"
    elif session.weekday is not None and 0 <= session.weekday <= 6:
        when = f"{DAY_NAMES[session.weekday]} {session.time}"
    else:
        when = session.time
    if session.workout is None:
        return when
    names = _default_workout_names() if workout_names is None else workout_names
    return f"{when} · {names.get(session.workout, session.workout.replace('_', ' '))}"

"""Training times, schedules and time zones in plain words — pure functions, no I/O.

Used by onboarding ("when do you train?"), `/schedule add ...`, `/settings` and the
scheduler. One module per stage:

- `tokens`: schedule messages through the one tokenizer (`bot.core.parsing.tokens`)
- `words`: the vocabulary, built once per `Library` from language.yaml and workouts.yaml
- `clock`: clock times and the bare-hour rule ("6" is 18:00, "9" is 09:00)
- `schedules`: days, dates, times and workouts grouped into sessions
- `zones`: time zones from names, cities, aliases, offsets and sentences
- `instants`: local session times to aware UTC instants, DST-correct

Every reader takes an optional `library`; None reads with the shipped content.
"""

from bot.core.timeplan.clock import parse_clock_time
from bot.core.timeplan.instants import EntryT, local_wall_time, next_session, session_starts
from bot.core.timeplan.schedules import (
    DAY_NAMES,
    MAX_SCHEDULE_TEXT,
    MAX_SESSIONS,
    MONTH_NAMES,
    PlannedSession,
    ScheduleReading,
    describe_session,
    parse_schedule,
)
from bot.core.timeplan.words import TimeWords, time_words
from bot.core.timeplan.zones import (
    MAX_OFFSET_MINUTES,
    MAX_ZONE_TEXT,
    MIN_OFFSET_MINUTES,
    parse_timezone,
    tzinfo_for,
    zone_or_utc,
)

__all__ = [
    "DAY_NAMES",
    "MAX_OFFSET_MINUTES",
    "MAX_SCHEDULE_TEXT",
    "MAX_SESSIONS",
    "MAX_ZONE_TEXT",
    "MIN_OFFSET_MINUTES",
    "MONTH_NAMES",
    "EntryT",
    "PlannedSession",
    "ScheduleReading",
    "TimeWords",
    "describe_session",
    "local_wall_time",
    "next_session",
    "parse_clock_time",
    "parse_schedule",
    "parse_timezone",
    "session_starts",
    "time_words",
    "tzinfo_for",
    "zone_or_utc",
]

"""Training times, schedules and time zones in plain words: see `schedules`."""

from bot.core.timeplan.schedules import (
    PlannedSession,
    ScheduleReading,
    describe_session,
    local_wall_time,
    next_session,
    parse_clock_time,
    parse_schedule,
    parse_timezone,
    session_starts,
    tzinfo_for,
    zone_or_utc,
)

__all__ = [
    "PlannedSession",
    "ScheduleReading",
    "describe_session",
    "local_wall_time",
    "next_session",
    "parse_clock_time",
    "parse_schedule",
    "parse_timezone",
    "session_starts",
    "tzinfo_for",
    "zone_or_utc",
]

"""Times, training schedules and time zones in plain words, and DST-correct session instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.records import ScheduleEntry
from bot.core.timeplan import (
    PlannedSession,
    describe_session,
    local_wall_time,
    next_session,
    parse_clock_time,
    parse_schedule,
    parse_timezone,
    session_starts,
    tzinfo_for,
)

TODAY = date(2026, 11, 25)  # a Wednesday
TOMORROW = date(2026, 11, 26)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def weekly(time: str, *days: int, workout: str | None = None) -> list[PlannedSession]:
    return [PlannedSession(time, weekday=day, workout=workout) for day in days]


def once(time: str, on: date, workout: str | None = None) -> list[PlannedSession]:
    return [PlannedSession(time, on_date=on, workout=workout)]


# --- schedules --------------------------------------------------------------------------------

PHRASES = [
    ("Mon Wed Fri 18:00", weekly("18:00", MON, WED, FRI)),
    ("weekdays 7am", weekly("07:00", MON, TUE, WED, THU, FRI)),
    ("tue/thu 6:30pm", weekly("18:30", TUE, THU)),
    (
        "Mon legs 18:00, Thu upper 7pm",
        weekly("18:00", MON, workout="lower_body") + weekly("19:00", THU, workout="upper_body"),
    ),
    ("tomorrow 7:30", once("07:30", TOMORROW)),
    ("today 6pm", once("18:00", TODAY)),
    ("leg day tomorrow 7:30", once("07:30", TOMORROW, "lower_body")),
    ("mondays and thursdays at 6pm", weekly("18:00", MON, THU)),
    ("every day 6am", weekly("06:00", *range(7))),
    ("daily at 07:00", weekly("07:00", *range(7))),
    ("weekends 9am", weekly("09:00", SAT, SUN)),
    ("sat 8am bike ride", weekly("08:00", SAT, workout="cycle")),
    ("Tuesday & Thursday 6:30am", weekly("06:30", TUE, THU)),
    ("mon-fri 7am", weekly("07:00", MON, TUE, WED, THU, FRI)),
    ("mon to wed 7am", weekly("07:00", MON, TUE, WED)),
    ("Mon,Wed,Fri at 5:30 pm", weekly("17:30", MON, WED, FRI)),
    ("M W F 6pm", weekly("18:00", MON, WED, FRI)),
    ("wednsday 6pm", weekly("18:00", WED)),
    ("thrusday 1830", weekly("18:30", THU)),
    ("tonight 7pm", once("19:00", TODAY)),
    ("tonight at 7", once("19:00", TODAY)),
    ("mon 6 in the evening", weekly("18:00", MON)),
    ("mon 6 in the morning", weekly("06:00", MON)),
    ("Mon Wed 7am, Sat 9am", weekly("07:00", MON, WED) + weekly("09:00", SAT)),
    ("I train 3 times a week: mon wed fri 6pm", weekly("18:00", MON, WED, FRI)),
    (
        "run mon 6pm, swim wed 7am",
        weekly("18:00", MON, workout="run") + weekly("07:00", WED, workout="swim"),
    ),
    ("sunday long run 8am", weekly("08:00", SUN, workout="run")),
    ("mon at six pm", weekly("18:00", MON)),
    ("sat noon", weekly("12:00", SAT)),
    ("mon 6-7pm", weekly("18:00", MON)),
    ("mon 11-1pm", weekly("11:00", MON)),
    ("Mon 7am and 6pm", weekly("07:00", MON) + weekly("18:00", MON)),
    ("next fri 6pm", once("18:00", date(2026, 11, 27))),
    ("on the 14th at 7am", once("07:00", date(2026, 12, 14))),
    ("2026-12-01 18:00", once("18:00", date(2026, 12, 1))),
    ("I TRAIN ON MONDAYS AT 18:00", weekly("18:00", MON)),
]


@pytest.mark.parametrize(("text", "expected"), PHRASES, ids=[text for text, _ in PHRASES])
def test_schedule_phrases_give_the_sessions_people_mean(
    text: str, expected: list[PlannedSession]
) -> None:
    reading = parse_schedule(text, TODAY)
    assert reading.problems == ()
    assert list(reading.sessions) == expected


def test_weekdays_7am_means_monday_to_friday_at_seven() -> None:
    reading = parse_schedule("weekdays 7am", TODAY)
    assert [(s.weekday, s.time) for s in reading.sessions] == [(d, "07:00") for d in range(5)]


def test_bare_hour_one_to_six_is_read_as_afternoon_and_the_reading_says_so() -> None:
    reading = parse_schedule("mon at 6", TODAY)
    assert reading.sessions == (PlannedSession("18:00", weekday=MON),)
    assert any("18:00" in note and "6am" in note for note in reading.notes)


def test_bare_hour_seven_to_eleven_is_read_as_morning() -> None:
    reading = parse_schedule("saturdays at 9", TODAY)
    assert reading.sessions == (PlannedSession("09:00", weekday=SAT),)
    assert any("9pm" in note for note in reading.notes)


def test_times_with_am_pm_need_no_note() -> None:
    assert parse_schedule("Mon 6pm", TODAY).notes == ()


def test_day_group_without_a_time_is_a_problem_not_given_another_groups_time() -> None:
    reading = parse_schedule("Mon legs, Thu upper 7pm", TODAY)
    assert reading.sessions == (PlannedSession("19:00", weekday=THU, workout="upper_body"),)
    assert reading.problems == ("I found a day (Mon) but no time — add one like 18:00 or 6pm.",)


def test_days_without_time_name_the_days_in_the_problem() -> None:
    reading = parse_schedule("Mon, Wed", TODAY)
    assert reading.sessions == ()
    assert reading.problems == ("I found days (Mon, Wed) but no time — add one like 18:00 or 6pm.",)


def test_time_without_days_asks_for_days() -> None:
    reading = parse_schedule("7am", TODAY)
    assert reading.sessions == ()
    assert len(reading.problems) == 1
    assert "no day" in reading.problems[0]


@pytest.mark.parametrize("text", ["mon 25:00", "mon 13pm", "thu 7:75"])
def test_impossible_times_are_reported(text: str) -> None:
    reading = parse_schedule(text, TODAY)
    assert reading.sessions == ()
    assert len(reading.problems) == 1
    assert "couldn't read" in reading.problems[0]


def test_nonsense_schedule_explains_what_was_missing() -> None:
    reading = parse_schedule("banana smoothie please", TODAY)
    assert reading.sessions == ()
    assert len(reading.problems) == 1
    assert "days or times" in reading.problems[0]
    assert "Mon Wed Fri 18:00" in reading.problems[0]


def test_empty_schedule_explains_what_was_missing() -> None:
    assert parse_schedule("   ", TODAY).problems


def test_past_date_is_reported() -> None:
    reading = parse_schedule("2026-01-05 18:00", TODAY)
    assert reading.sessions == ()
    assert "passed" in reading.problems[0]


def test_custom_workout_words_replace_the_defaults() -> None:
    reading = parse_schedule("mon hyrox 6pm, wed legs 7am", TODAY, {"hyrox": "full_body"})
    assert reading.sessions == (
        PlannedSession("18:00", weekday=MON, workout="full_body"),
        PlannedSession("07:00", weekday=WED),
    )


def test_longest_workout_phrase_wins() -> None:
    reading = parse_schedule("tue 6pm leg press", TODAY, {"leg": "run", "leg press": "lower_body"})
    assert reading.sessions == (PlannedSession("18:00", weekday=TUE, workout="lower_body"),)


def test_repeated_sessions_are_listed_once() -> None:
    assert parse_schedule("mon 6pm, monday 18:00", TODAY).sessions == (
        PlannedSession("18:00", weekday=MON),
    )


def test_huge_schedules_are_capped() -> None:
    reading = parse_schedule(" ".join(f"daily {h}:00" for h in range(24)) * 3, TODAY)
    assert len(reading.sessions) <= 100


# --- clock times --------------------------------------------------------------------------------

CLOCK_TIMES = [
    ("18:00", "18:00"),
    ("6pm", "18:00"),
    ("6:30 pm", "18:30"),
    ("6 p.m.", "18:00"),
    ("7am", "07:00"),
    ("noon", "12:00"),
    ("12 noon", "12:00"),
    ("midnight", "00:00"),
    ("7.30", "07:30"),
    ("1830", "18:30"),
    ("0730", "07:30"),
    ("18h30", "18:30"),
    ("12am", "00:00"),
    ("12pm", "12:00"),
    ("at 6 in the evening", "18:00"),
    ("6", "18:00"),
    ("9", "09:00"),
    ("06", "06:00"),
    ("  7:05AM ", "07:05"),
]


@pytest.mark.parametrize(("text", "expected"), CLOCK_TIMES, ids=[t for t, _ in CLOCK_TIMES])
def test_clock_times_become_24_hour_hh_mm(text: str, expected: str) -> None:
    assert parse_clock_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "13pm", "24:00", "7:60", "0am", "hello", "", "6pm 7pm"])
def test_impossible_or_non_times_are_none(text: str) -> None:
    assert parse_clock_time(text) is None


# --- time zones ---------------------------------------------------------------------------------

ZONES = [
    ("Europe/Berlin", "Europe/Berlin"),
    ("europe/berlin", "Europe/Berlin"),
    ("America/New_York", "America/New_York"),
    ("america/new york", "America/New_York"),
    ("nyc", "America/New_York"),
    ("la", "America/Los_Angeles"),
    ("San Francisco", "America/Los_Angeles"),
    ("uk", "Europe/London"),
    ("india", "Asia/Kolkata"),
    ("EST", "America/New_York"),
    ("central", "America/Chicago"),
    ("mst", "America/Denver"),
    ("PDT", "America/Los_Angeles"),
    ("cet", "Europe/Berlin"),
    ("gmt", "UTC"),
    ("Z", "UTC"),
    ("aest", "Australia/Sydney"),
]


@pytest.mark.parametrize(("text", "expected"), ZONES, ids=[t for t, _ in ZONES])
def test_zone_names_and_aliases_give_canonical_iana_names(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new york", "America/New_York"),
        ("Los Angeles", "America/Los_Angeles"),
        ("berlin", "Europe/Berlin"),
        ("tokyo", "Asia/Tokyo"),
        ("sao paulo", "America/Sao_Paulo"),
        ("Sydney", "Australia/Sydney"),
    ],
)
def test_city_name_gives_its_zone(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+2", "UTC+02:00"),
        ("UTC-5", "UTC-05:00"),
        ("GMT+5:30", "UTC+05:30"),
        ("utc +01:00", "UTC+01:00"),
        ("-03", "UTC-03:00"),
        ("+14", "UTC+14:00"),
        ("-12", "UTC-12:00"),
        ("+0", "UTC"),
    ],
)
def test_utc_offset_becomes_a_fixed_zone(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my timezone is America/Chicago", "America/Chicago"),
        ("I'm in Berlin", "Europe/Berlin"),
        ("i live in new york", "America/New_York"),
        ("my tz is utc+2", "UTC+02:00"),
    ],
)
def test_zone_in_a_sentence_is_found(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected


@pytest.mark.parametrize("text", ["Mars/Olympus", "narnia", "", "+15", "-13", "UTC+5:75"])
def test_unknown_zone_is_none(text: str) -> None:
    assert parse_timezone(text) is None


def test_every_parsed_zone_has_a_tzinfo() -> None:
    for text, _ in ZONES:
        zone = parse_timezone(text)
        assert zone is not None
        tzinfo_for(zone)


def test_fixed_zone_string_gives_a_fixed_offset() -> None:
    tz = tzinfo_for("UTC+05:30")
    assert tz.utcoffset(None) == timedelta(hours=5, minutes=30)
    assert tzinfo_for("UTC-03:00").utcoffset(None) == timedelta(hours=-3)


def test_iana_name_gives_zoneinfo() -> None:
    assert tzinfo_for("Europe/Berlin") == ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "", "UTC+15:00", "../etc/passwd", "europe/berlin "]
)
def test_unknown_zone_string_raises_value_error(zone: str) -> None:
    with pytest.raises(ValueError):
        tzinfo_for(zone)


# --- instants and DST ---------------------------------------------------------------------------


def test_wall_time_is_converted_to_utc() -> None:
    assert local_wall_time(date(2026, 6, 1), "18:00", "Europe/Berlin") == datetime(
        2026, 6, 1, 16, 0, tzinfo=UTC
    )


def test_wall_time_in_a_fixed_zone() -> None:
    assert local_wall_time(date(2026, 6, 1), "18:00", "UTC+05:30") == datetime(
        2026, 6, 1, 12, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("day", "zone", "utc_hour"),
    [(date(2026, 3, 29), "Europe/Berlin", 1), (date(2026, 3, 8), "America/New_York", 7)],
)
def test_spring_forward_gap_moves_the_session_to_after_the_jump(
    day: date, zone: str, utc_hour: int
) -> None:
    moment = local_wall_time(day, "02:30", zone)
    assert moment == datetime(day.year, day.month, day.day, utc_hour, 30, tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(zone))
    assert (local.hour, local.minute) == (3, 30)


@pytest.mark.parametrize(
    ("day", "hhmm", "zone", "expected"),
    [
        (date(2026, 10, 25), "02:30", "Europe/Berlin", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (date(2026, 11, 1), "01:30", "America/New_York", datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    ],
)
def test_fall_back_overlap_takes_the_first_occurrence(
    day: date, hhmm: str, zone: str, expected: datetime
) -> None:
    assert local_wall_time(day, hhmm, zone) == expected


def test_fall_back_overlap_gives_one_session() -> None:
    entry = ScheduleEntry(1, 1, "02:30", weekday=SUN)
    starts = session_starts(
        entry,
        "Europe/Berlin",
        datetime(2026, 10, 24, tzinfo=UTC),
        datetime(2026, 10, 26, tzinfo=UTC),
    )
    assert starts == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]


def test_spring_forward_gap_gives_one_session() -> None:
    entry = ScheduleEntry(1, 1, "02:30", weekday=SUN)
    starts = session_starts(
        entry,
        "America/New_York",
        datetime(2026, 3, 7, tzinfo=UTC),
        datetime(2026, 3, 10, tzinfo=UTC),
    )
    assert starts == [datetime(2026, 3, 8, 7, 30, tzinfo=UTC)]


def test_weekly_session_keeps_its_local_time_across_dst() -> None:
    entry = ScheduleEntry(1, 1, "18:00", weekday=MON)
    starts = session_starts(
        entry,
        "Europe/Berlin",
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 4, 30, tzinfo=UTC),
    )
    berlin = ZoneInfo("Europe/Berlin")
    assert len(starts) == 9  # Mondays 2 Mar .. 27 Apr
    assert all(s.astimezone(berlin).hour == 18 and s.weekday() == MON for s in starts)
    assert {s.hour for s in starts} == {16, 17}


def test_session_starts_window_is_half_open() -> None:
    entry = PlannedSession("18:00", weekday=MON)
    at = local_wall_time(date(2026, 11, 30), "18:00", "UTC")
    assert session_starts(entry, "UTC", at, at + timedelta(days=7)) == [at]
    assert session_starts(entry, "UTC", at - timedelta(days=7), at) == [at - timedelta(days=7)]


def test_one_off_session_starts_only_on_its_date() -> None:
    entry = PlannedSession("07:30", on_date=TOMORROW)
    starts = session_starts(
        entry, "Europe/Berlin", datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert starts == [datetime(2026, 11, 26, 6, 30, tzinfo=UTC)]


def test_session_starts_needs_aware_datetimes() -> None:
    with pytest.raises(ValueError):
        session_starts(
            PlannedSession("07:00", weekday=MON), "UTC", datetime(2026, 1, 1), datetime(2026, 2, 1)
        )


def test_next_session_is_the_soonest_start_after_now() -> None:
    monday = ScheduleEntry(1, 1, "18:00", weekday=MON)
    tomorrow = ScheduleEntry(2, 1, "07:00", on_date=TOMORROW)
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert next_session([monday, tomorrow], "Europe/Berlin", now) == (
        datetime(2026, 11, 26, 6, 0, tzinfo=UTC),
        tomorrow,
    )


def test_next_session_is_strictly_after_now() -> None:
    monday = ScheduleEntry(1, 1, "18:00", weekday=MON)
    now = local_wall_time(date(2026, 11, 30), "18:00", "America/New_York")
    found = next_session([monday], "America/New_York", now)
    assert found == (now + timedelta(days=7), monday)


def test_next_session_skips_past_one_offs_and_handles_nothing() -> None:
    past = ScheduleEntry(1, 1, "07:00", on_date=date(2026, 1, 1))
    assert next_session([past], "UTC", datetime(2026, 11, 25, tzinfo=UTC)) is None
    assert next_session([], "UTC", datetime(2026, 11, 25, tzinfo=UTC)) is None


def test_next_session_accepts_a_non_utc_aware_now() -> None:
    entry = ScheduleEntry(1, 1, "09:00", weekday=WED)
    now = datetime(2026, 11, 25, 8, 0, tzinfo=timezone(timedelta(hours=1)))  # 07:00 UTC
    assert next_session([entry], "UTC", now) == (datetime(2026, 11, 25, 9, 0, tzinfo=UTC), entry)


# --- descriptions -------------------------------------------------------------------------------


def test_weekly_session_is_described_by_day_time_and_workout() -> None:
    assert (
        describe_session(PlannedSession("18:00", weekday=MON, workout="lower_body"))
        == "Mon 18:00 · Lower-body strength"
    )


def test_one_off_session_is_described_by_its_date() -> None:
    assert describe_session(ScheduleEntry(1, 1, "07:30", on_date=TOMORROW)) == "Thu 26 Nov 07:30"


def test_description_uses_given_workout_names() -> None:
    session = PlannedSession("06:00", weekday=SAT, workout="cycle")
    assert describe_session(session, {"cycle": "Long ride"}) == "Sat 06:00 · Long ride"


# --- robustness ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_text_never_raises(text: str) -> None:
    reading = parse_schedule(text, TODAY)
    assert reading.sessions or reading.problems
    parse_timezone(text)
    parse_clock_time(text)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *("mon", "tue", "6pm", "7:30", "at", "6", ",", "-", "to", "tomorrow", "legs"),
                *("25:00", "every", "day", "weekdays", "noon", "in", "the", "evening", "13pm"),
                "the 14th",
            ]
        ),
        max_size=30,
    )
)
def test_schedule_like_text_gives_valid_sessions(words: list[str]) -> None:
    reading = parse_schedule(" ".join(words), TODAY)
    for session in reading.sessions:
        assert parse_clock_time(session.time) == session.time
        assert (session.weekday is None) != (session.on_date is None)

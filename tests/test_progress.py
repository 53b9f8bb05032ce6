"""What /history, its chart, the body map and the weekly summary are made of (the core's
side: plain data; tests/test_pictures.py draws them).

Every test runs on the FakeClock (Wednesday 25 November 2026, 09:00 UTC) in Europe/Berlin.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import progress, weekly
from bot.core.content import Library
from bot.core.memory import MemoryStore
from bot.core.nudges import Drop, plan_nudges, render_nudge
from bot.core.picture import BodyMap, HistoryChart
from bot.core.records import User
from bot.core.replies import Reply
from bot.core.turn import Turn
from tests.contract import AREA_IDS
from tests.conversation import Conversation, FakeClock


def pictures(replies: list[Reply]) -> list[object]:
    return [reply.picture for reply in replies if reply.picture is not None]


def chart_of(replies: list[Reply]) -> HistoryChart:
    (chart,) = [p for p in pictures(replies) if isinstance(p, HistoryChart)]
    return chart


# --- /history ---------------------------------------------------------------------------


def test_history_without_data_is_a_friendly_line_and_no_chart(
    conversation: Conversation,
) -> None:
    replies = conversation.say("/history")
    assert len(replies) == 1
    assert "Nothing to chart yet" in replies[0].text
    assert pictures(replies) == []
    assert replies[0].private


def test_history_is_a_summary_with_a_chart_then_the_body_map(
    conversation: Conversation, clock: FakeClock
) -> None:
    conversation.say("calves 7/10")
    clock.advance(days=1)
    conversation.say("quads 4/10")
    conversation.say("had a massage today")
    replies = conversation.say("/history")
    summary, body = replies
    assert isinstance(summary.picture, HistoryChart) and isinstance(body.picture, BodyMap)
    assert summary.private and body.private
    assert "Your last 14 days" in summary.text
    assert "• Quads: 4/10 (today)" in summary.text
    assert "• Calves: 7/10 (yesterday)" in summary.text
    assert "Massages this month: 1 of 3." in summary.text
    assert "Sore now: Quads 4/10, Calves 4/10." in body.text  # the map in words (7 halved)


def test_the_chart_shows_the_five_sorest_areas_with_what_was_said_each_day(
    conversation: Conversation, clock: FakeClock
) -> None:
    said = {"calves": 9, "quads": 8, "glutes": 7, "lats": 6, "chest": 5, "neck": 4, "biceps": 3}
    conversation.say(", ".join(f"{area} {level}/10" for area, level in said.items()))
    clock.advance(days=2)
    conversation.say("biceps 9/10")  # the sorest of all on its day: it makes the cut
    chart = chart_of(conversation.say("/history"))
    assert len(chart.days) == progress.CHART_DAYS == 28
    assert chart.days[-1] == clock.now.date()
    assert [s.name for s in chart.series] == ["Calves", "Biceps", "Quads", "Glutes", "Lats"]
    calves = chart.series[0].values
    assert calves[-3] == 9.0  # the day it was said
    assert 0 < calves[-2] < 9.0 and calves[-1] < calves[-2]  # then it decays
    assert all(math.isnan(value) for value in calves[:-3])  # before the user joined
    assert chart.title == "Soreness, last 28 days"


def test_the_chart_shows_no_soreness_before_the_user_joined_and_zero_after(
    conversation: Conversation, clock: FakeClock
) -> None:
    conversation.say("hi")  # joins today
    clock.advance(days=10)
    conversation.say("calves 6/10")
    (calves,) = [s.values for s in chart_of(conversation.say("/history")).series]
    assert all(math.isnan(value) for value in calves[:-11])
    assert calves[-11:-1] == (0.0,) * 10 and calves[-1] == 6.0


def test_history_lists_what_was_said_of_an_area_and_when_the_latest_was(
    conversation: Conversation, clock: FakeClock
) -> None:
    for level in (7, 5):
        conversation.say(f"hamstrings {level}/10")
        clock.advance(days=1)
    conversation.say("hamstrings 3/10")
    summary = conversation.say("/history")[0]
    assert "• Hamstrings: 7 → 5 → 3/10 (latest today)" in summary.text


@pytest.mark.parametrize("text", ["show me the body map", "how am I doing?", "my progress"])
def test_asking_for_progress_in_words_shows_the_history(
    conversation: Conversation, text: str
) -> None:
    conversation.say("calves 6/10")
    assert "Your last 14 days" in conversation.say(text)[0].text


@pytest.mark.parametrize("text", ["body map on", "turn the body map off"])
def test_body_map_on_or_off_in_words_is_a_setting_not_the_history(
    conversation: Conversation, text: str
) -> None:
    (reply,) = conversation.say(text)
    assert "Your last 14 days" not in reply.text and "body map" in reply.text.lower()


def test_the_chart_marks_workouts_rolls_and_massages_on_their_days(
    conversation: Conversation, clock: FakeClock
) -> None:
    conversation.say("/schedule add mon wed fri 18:00")
    conversation.tap("Save")
    for _ in range(7):  # a week of days; the rolls and the massage on two of them
        clock.advance(days=1)
        if clock.now.weekday() == 4:  # Friday
            conversation.say("done rolling")
        if clock.now.weekday() == 6:  # Sunday
            conversation.say("had a massage today")
    conversation.say("calves 5/10")
    chart = chart_of(conversation.say("/history"))
    days = chart.days
    assert [days[n].weekday() for n in chart.workouts] == [2, 4, 0]  # Wed 25, Fri 27, Mon 30
    assert [days[n].isoformat() for n in chart.rolled] == ["2026-11-27"]
    assert [days[n].isoformat() for n in chart.massages] == ["2026-11-29"]


def test_reminders_followed_and_skipped_are_counted_once_per_session(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    user = conversation.user
    ids = []
    for n in range(3):
        session = clock.now + timedelta(hours=2 + n)
        payload = {"ref": session.isoformat(), "session_at": session.isoformat()}
        nudge_id = memory_store.enqueue_nudge(user.id, "pre_workout", session, payload)
        assert nudge_id is not None
        memory_store.mark_nudge(nudge_id, "sent", sent_at=clock.now)
        ids.append(nudge_id)
    conversation.press(f"nz:{ids[0]}")  # snoozed, then its snooze started: followed once
    (snoozed,) = memory_store.pending_nudges_of(user.id)
    memory_store.mark_nudge(snoozed.id, "sent", sent_at=clock.now)
    conversation.press(f"ns:{snoozed.id}")
    conversation.press(f"nk:{ids[1]}")
    conversation.say("calves 3/10")
    summary = conversation.say("/history")[0]
    assert "Reminders before workouts: 1 followed, 1 skipped, of 3 sent." in summary.text
    answers = {n.id: n.answer for n in memory_store.nudges(user.id)}
    assert (answers[snoozed.id], answers[ids[1]], answers[ids[2]]) == ("started", "skipped", None)


def test_start_then_skip_stays_followed(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    user = conversation.user
    session = clock.now + timedelta(hours=1)
    payload = {"ref": session.isoformat(), "session_at": session.isoformat()}
    nudge_id = memory_store.enqueue_nudge(user.id, "pre_workout", session, payload)
    assert nudge_id is not None
    conversation.press(f"ns:{nudge_id}")
    conversation.press(f"nk:{nudge_id}")
    assert memory_store.get_nudge(nudge_id).answer == "started"  # type: ignore[union-attr]


# --- the body map ------------------------------------------------------------------------


def test_the_body_map_shades_every_area_and_marks_warning_signs_apart(
    conversation: Conversation,
) -> None:
    conversation.say("calves 6/10")
    conversation.say("my hamstring went numb")
    body = pictures(conversation.say("/history"))[-1]
    assert isinstance(body, BodyMap)
    assert tuple(shade.area for shade in body.areas) == AREA_IDS
    shades = {shade.area: shade for shade in body.areas}
    assert shades["calves"].soreness == 6.0 and not shades["calves"].red_flag
    assert shades["hamstrings"].red_flag
    assert sum(shade.soreness > 0 for shade in body.areas) == 1


def test_the_body_map_comes_with_routines_only_when_turned_on(
    conversation: Conversation,
) -> None:
    conversation.say("calves 6/10")
    assert conversation.say("what should I roll?")[-1].picture is None
    assert "body map" in conversation.say("/settings map on")[-1].text
    routine = conversation.say("what should I roll?")[-1]
    assert isinstance(routine.picture, BodyMap) and routine.all_buttons  # Start still there
    conversation.say("calves fine now")
    assert conversation.say("what should I roll?")[-1].picture is None  # nothing to shade


# --- settings ----------------------------------------------------------------------------


def test_settings_show_both_toggles_and_a_tap_turns_one_on(conversation: Conversation) -> None:
    shown = conversation.say("/settings")[-1]
    assert "Weekly summary (Sunday evening): off" in shown.text
    assert "Body map with" in shown.text
    conversation.tap("Weekly summary - turn on")
    assert conversation.user.weekly_summary
    assert "Weekly summary (Sunday evening): on" in conversation.say("/settings")[-1].text
    conversation.tap("Weekly summary - turn off")
    assert not conversation.user.weekly_summary


def test_a_typed_label_of_a_toggle_works_like_the_tap(conversation: Conversation) -> None:
    conversation.say("/settings")
    conversation.say("body map")  # the start of "Body map - turn on", the only such button
    assert conversation.user.body_map


@pytest.mark.parametrize(
    ("said", "field", "on"),
    [
        ("send me a weekly summary", "weekly_summary", True),
        ("I'd like the weekly summary", "weekly_summary", True),
        ("weekly summary on", "weekly_summary", True),
        ("/settings weekly on", "weekly_summary", True),
        ("/settings body map on", "body_map", True),
        ("turn on the body map", "body_map", True),
        ("enable body maps", "body_map", True),
    ],
)
def test_settings_in_plain_words_turn_a_toggle_on(
    conversation: Conversation, said: str, field: str, on: bool
) -> None:
    conversation.say(said)
    assert getattr(conversation.user, field) is on
    assert conversation.coach.respond(conversation.sender, "/settings").handled_as == "command"


@pytest.mark.parametrize(
    "said",
    [
        "stop the weekly summary",
        "no more weekly summaries",
        "turn the weekly summary off",
        "don't send me the weekly summary",
        "/settings weekly off",
    ],
)
def test_settings_in_plain_words_turn_the_weekly_summary_off(
    conversation: Conversation, said: str
) -> None:
    conversation.say("/settings weekly on")
    conversation.say(said)
    assert not conversation.user.weekly_summary


def test_a_toggle_without_on_or_off_changes_nothing(conversation: Conversation) -> None:
    reply = conversation.say("/settings weekly maybe")[-1]
    assert '"on" or "off"' in reply.text and not conversation.user.weekly_summary


# --- the weekly summary: planning ---------------------------------------------------------


def weekly_user(**changes: object) -> User:
    user = User(1, "telegram", "1", "Europe/Berlin", weekly_summary=True)
    for name, value in changes.items():
        setattr(user, name, value)
    return user


NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wednesday


def test_the_weekly_summary_is_planned_for_sunday_evening_local_time() -> None:
    planned = plan_nudges(weekly_user(), [], NOW, NOW + timedelta(days=14))
    weekly_rows = [p for p in planned if p.kind == "weekly"]
    assert [p.due_at for p in weekly_rows] == [
        datetime(2026, 11, 29, 18, 0, tzinfo=UTC),  # 19:00 in Berlin
        datetime(2026, 12, 6, 18, 0, tzinfo=UTC),
    ]
    assert [p.payload["ref"] for p in weekly_rows] == ["2026-W48", "2026-W49"]
    tokyo = plan_nudges(weekly_user(tz="Asia/Tokyo"), [], NOW, NOW + timedelta(days=7))
    assert [p.due_at for p in tokyo] == [datetime(2026, 11, 29, 10, 0, tzinfo=UTC)]


def test_no_weekly_summary_unless_turned_on_nor_while_paused() -> None:
    window = (NOW, NOW + timedelta(days=14))
    assert plan_nudges(weekly_user(weekly_summary=False), [], *window) == []
    assert plan_nudges(weekly_user(paused=True), [], *window) == []


def test_quiet_hours_move_the_weekly_summary_to_their_end() -> None:
    user = weekly_user(quiet_start="18:30", quiet_end="20:15")
    (planned,) = plan_nudges(user, [], NOW, NOW + timedelta(days=7))
    assert planned.due_at == datetime(2026, 11, 29, 19, 15, tzinfo=UTC)


def test_windows_one_after_another_plan_each_weekly_summary_once() -> None:
    user = weekly_user()
    start, found = NOW, []
    for _ in range(24 * 15):  # hourly windows over 15 days
        found += plan_nudges(user, [], start, start + timedelta(hours=1), catch_up=False)
        start += timedelta(hours=1)
    assert [p.payload["ref"] for p in found] == ["2026-W48", "2026-W49"]
    assert found == [p for p in plan_nudges(user, [], NOW, start) if p.kind == "weekly"]


def test_turning_the_summary_on_replans(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 11, 28, 20, 0, tzinfo=UTC))  # Saturday: Sunday is within 48 h
    conversation.say("/settings weekly on")
    (planned,) = memory_store.pending_nudges_of(conversation.user.id)
    assert (planned.kind, planned.due_at) == ("weekly", datetime(2026, 11, 29, 18, tzinfo=UTC))
    conversation.say("/settings weekly off")
    assert memory_store.pending_nudges_of(conversation.user.id) == []


# --- the weekly summary: what it says ------------------------------------------------------


def summary_for(conversation: Conversation, store: MemoryStore, clock: FakeClock) -> Reply:
    turn = Turn(store, conversation.coach.library, clock(), conversation.user)
    nudge_id = store.enqueue_nudge(turn.user.id, "weekly", clock(), {"ref": "w"})
    assert nudge_id is not None
    nudge = store.get_nudge(nudge_id)
    assert nudge is not None
    reply = render_nudge(turn, nudge)
    assert isinstance(reply, Reply)
    return reply


def test_the_summary_counts_the_streak_the_soreness_change_and_massages(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    conversation.say("/settings weekly on")
    conversation.say("/schedule add mon wed fri 18:00")
    conversation.tap("Save")
    conversation.say("calves 8/10")  # the week before: 8 and 6 (Wednesday 25, no roll)
    conversation.say("quads 6/10")
    for _ in range(11):  # to Sunday 6 December
        clock.advance(days=1)
        if clock.now.weekday() in (0, 2, 4):  # a roll at 17:00 Berlin, an hour before
            clock.set(clock.now.replace(hour=16))
            conversation.say("done rolling")
            clock.set(clock.now.replace(hour=9))
        if clock.now.day == 1:
            conversation.say("calves 4/10")  # this week: 4 and 2
            conversation.say("quads 2/10")
    clock.set(datetime(2026, 12, 6, 18, 0, tzinfo=UTC))  # Sunday 19:00 in Berlin
    reply = summary_for(conversation, memory_store, clock)
    assert reply.title == "Your week"
    assert "Rolled before 4 sessions in a row." in reply.text  # Fri 27 to Fri 4, not Wed 25
    assert "Average soreness: 3.0/10, down 4.0 from 7.0 the week before." in reply.text
    assert "Massages: 0 of 3 this month." in reply.text
    assert "behind on massages" in reply.text  # the suggestion, with a reminder from content
    assert [b.data for b in reply.all_buttons] == [weekly.TURN_OFF]


def test_a_session_without_a_roll_ends_the_streak(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    conversation.say("/settings weekly on")
    conversation.say("/schedule add mon wed fri 18:00")
    conversation.tap("Save")
    conversation.say("had a massage today")
    conversation.say("had a massage yesterday")
    conversation.say("had a massage 2 days ago")
    clock.set(datetime(2026, 11, 30, 20, 0, tzinfo=UTC))  # Monday's session has started
    reply = summary_for(conversation, memory_store, clock)
    assert "No roll before your last session" in reply.text
    assert "No soreness reported in the last two weeks." in reply.text
    assert "Massages: 3 of 3 this month - on track." in reply.text
    assert "Before your next session, start with your" in reply.text  # a cue from content


def test_an_area_that_stays_sore_all_week_suggests_a_massage_for_it(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock, library: Library
) -> None:
    conversation.say("/settings weekly on")
    for _ in range(3):
        conversation.say("hamstrings 6/10")
        clock.advance(days=2)
    reply = summary_for(conversation, memory_store, clock)
    assert "Your hamstrings stayed sore all week" in reply.text
    tips = [r.text for r in library.massage.reminders if r.fact == "specificity"]
    assert any(tip in reply.text for tip in tips)


def test_an_area_sore_for_over_a_week_gets_the_escalation_text(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    conversation.say("/settings weekly on")
    for _ in range(5):
        conversation.say("calves 6/10")
        clock.advance(days=2)
    reply = summary_for(conversation, memory_store, clock)
    assert "days of soreness in your calves" in reply.text


def test_all_well_says_keep_going(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    conversation.say("/settings weekly on")
    conversation.say("/settings massage 1")
    conversation.say("had a massage today")
    assert "Keep it up" in summary_for(conversation, memory_store, clock).text


def test_a_summary_turned_off_after_planning_is_not_sent(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    user = conversation.user
    nudge_id = memory_store.enqueue_nudge(user.id, "weekly", clock(), {"ref": "2026-W48"})
    assert nudge_id is not None
    nudge = memory_store.get_nudge(nudge_id)
    assert nudge is not None
    turn = Turn(memory_store, conversation.coach.library, clock(), user)
    assert render_nudge(turn, nudge) == Drop("skipped", "weekly summary turned off")

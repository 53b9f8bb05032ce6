"""The dialog layer as chats: every question takes a typed answer and never traps.

One behaviour per test, written as the transcript a newcomer would type (issue: "A
conversation that never traps"). The labelled dialog sets in tests/data/dialogs*.jsonl
cover the same ground at scale (tests/test_dialog_sets.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core.memory import MemoryStore
from bot.core.records import Nudge
from tests.conversation import Conversation, FakeClock


@pytest.fixture
def onboarded(conversation: Conversation) -> Conversation:
    user = conversation.user
    user.onboarded = True
    conversation.coach.store.save_user(user)
    return conversation


def schedules(conversation: Conversation) -> int:
    return len(conversation.coach.store.schedules(conversation.user.id))


def soreness(conversation: Conversation) -> dict[str, int]:
    store, user = conversation.coach.store, conversation.user
    reports = store.soreness_since(user.id, conversation.coach.clock() - timedelta(days=1))
    return {report.area: report.severity for report in reports}


def question(conversation: Conversation) -> str | None:
    stored = conversation.user.dialog.get("question")
    return stored["kind"] if stored else None


# --- 1. every question takes a typed answer ---------------------------------------------


@pytest.mark.parametrize("answer", ["yes", "y", "ok", "sure", "yep", "save", "do it", "Save"])
def test_a_typed_yes_saves_the_schedule_read_back(onboarded: Conversation, answer: str) -> None:
    onboarded.say("/schedule add Mon Wed Fri 18:00")
    onboarded.say(answer)
    assert "Saved" in onboarded.last_text
    assert schedules(onboarded) == 3


@pytest.mark.parametrize("answer", ["no", "nope", "try again"])
def test_a_typed_no_to_the_read_back_asks_again_and_saves_nothing(
    onboarded: Conversation, answer: str
) -> None:
    onboarded.say("/schedule add Mon 18:00")
    onboarded.say(answer)
    assert "When do you train" in onboarded.last_text
    assert schedules(onboarded) == 0


def test_forget_takes_a_typed_yes(onboarded: Conversation) -> None:
    onboarded.say("calves 6/10")
    onboarded.say("/forget")
    onboarded.say("yes")
    assert "all your data is deleted" in onboarded.last_text
    assert soreness(onboarded) == {}


@pytest.mark.parametrize("answer", ["no", "cancel", "nah keep it", "not now"])
def test_forget_takes_a_typed_no(onboarded: Conversation, answer: str) -> None:
    onboarded.say("calves 6/10")
    onboarded.say("/forget")
    onboarded.say(answer)
    assert "nothing was deleted" in onboarded.last_text
    assert soreness(onboarded) == {"calves": 6}


def test_the_time_zone_suggestion_takes_a_typed_yes(onboarded: Conversation) -> None:
    onboarded.say("I'm in Tokyo this week, change my time zone")
    onboarded.say("yes please")
    assert onboarded.user.tz == "Asia/Tokyo"


def test_a_guided_routine_goes_on_with_typed_next_and_done(onboarded: Conversation) -> None:
    onboarded.say("/roll 5")
    onboarded.say("start")
    assert onboarded.last.title is not None and onboarded.last.title.startswith("1/")
    onboarded.say("next")
    assert onboarded.last.title is not None and onboarded.last.title.startswith("2/")
    onboarded.say("done")  # mid-way: done for now
    assert "Stopped after 2 of" in onboarded.last_text


def nudged(conversation: Conversation, store: MemoryStore, clock: FakeClock) -> int:
    """A pre-workout nudge just delivered to the user; returns its id."""
    session = clock.now + timedelta(minutes=30)
    payload = {"ref": session.isoformat(), "session_at": session.isoformat(), "workout": "run"}
    nudge_id = store.enqueue_nudge(conversation.user.id, "pre_workout", clock.now, payload)
    assert nudge_id is not None
    store.mark_nudge(nudge_id, "sent")
    return nudge_id


@pytest.mark.parametrize(
    ("typed", "answer"),
    [("skip", "Skipped"), ("not today", "Skipped"), ("snooze", "Snoozed"), ("later", "Snoozed")],
)
def test_typed_skip_or_snooze_answers_the_latest_nudge(
    onboarded: Conversation, memory_store: MemoryStore, clock: FakeClock, typed: str, answer: str
) -> None:
    nudged(onboarded, memory_store, clock)
    onboarded.say(typed)
    assert answer in onboarded.last_text


def test_typed_start_after_a_nudge_starts_its_guided_routine(
    onboarded: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    nudged(onboarded, memory_store, clock)
    onboarded.say("ok")
    assert onboarded.last.title is not None and onboarded.last.title.startswith("1/")


def test_a_nudge_hours_old_is_not_answered_by_a_typed_skip(
    onboarded: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    nudged(onboarded, memory_store, clock)
    clock.advance(hours=3)
    onboarded.say("skip")
    assert "Skipped" not in onboarded.last_text


def test_typed_undo_takes_back_the_report(onboarded: Conversation) -> None:
    onboarded.say("glutes 5/10")
    onboarded.say("undo")
    assert soreness(onboarded) == {}


def test_typed_undo_reaches_a_massage_log_after_a_red_flag_reply(
    onboarded: Conversation, memory_store: MemoryStore
) -> None:
    onboarded.say("had a sports massage yesterday")
    onboarded.say("my knee is swollen and hurts when I bend it")  # no buttons on this reply
    onboarded.say("undo")
    assert "no longer logged" in onboarded.last_text
    assert memory_store.last_massage(onboarded.user.id) is None


@pytest.mark.parametrize("text", ["undo that", "oops undo", "take that back"])
def test_undo_in_other_words_takes_back_the_report(onboarded: Conversation, text: str) -> None:
    onboarded.say("glutes 5/10")
    onboarded.say(text)
    assert soreness(onboarded) == {}


def test_undo_with_nothing_recent_says_so_and_changes_nothing(
    onboarded: Conversation, clock: FakeClock
) -> None:
    onboarded.say("glutes 5/10")
    onboarded.say("thanks")  # the Undo button is no longer the latest on screen
    clock.advance(hours=1)
    onboarded.say("undo")
    assert "nothing I can undo" in onboarded.last_text
    assert soreness(onboarded) == {"glutes": 5}


def test_undo_typed_twice_takes_back_only_the_latest(onboarded: Conversation) -> None:
    onboarded.say("glutes 5/10")
    onboarded.say("calves 4/10")
    onboarded.say("undo")
    onboarded.say("undo")
    assert soreness(onboarded) == {"glutes": 5}
    assert "nothing I can undo" in onboarded.last_text


# --- 2. a pending question never swallows something else --------------------------------


@pytest.mark.parametrize(
    ("remark", "answered"),
    [
        ("my calves are killing me", "calves 9/10"),
        ("what should I roll?", "rolling routine"),
        ("had a massage yesterday", "Massage logged"),
        ("hamstrings 6/10", "hamstrings 6/10"),
    ],
)
def test_a_side_remark_at_the_training_days_step_is_answered_and_the_step_stays(
    conversation: Conversation, remark: str, answered: str
) -> None:
    conversation.say("/start")
    conversation.say("Berlin")
    conversation.say(remark)
    assert answered in conversation.all_text
    assert "couldn't find any training days" not in conversation.all_text
    assert question(conversation) == "schedule"
    assert "When do you train" in conversation.last_text  # asked again, one line
    conversation.say("Mon Wed Fri 18:00")
    conversation.say("ok")
    assert schedules(conversation) == 3 and conversation.user.onboarded


def test_a_red_flag_during_a_question_wins_and_the_question_stays(
    onboarded: Conversation,
) -> None:
    onboarded.say("/schedule add Mon 18:00")
    onboarded.say("my foot went numb while rolling")
    assert "clinician" in onboarded.all_text.lower() or "stop" in onboarded.all_text.lower()
    assert question(onboarded) == "confirm_schedule"
    onboarded.say("yes")
    assert schedules(onboarded) == 1


def test_a_side_remark_is_asked_about_again_at_most_twice(conversation: Conversation) -> None:
    conversation.say("/start")
    for _ in range(3):
        conversation.say("quads a bit tight")
    assert "Back to my question" not in conversation.last_text
    assert question(conversation) == "timezone"  # still open, just not repeated


def test_two_messages_that_answer_nothing_close_the_question(conversation: Conversation) -> None:
    conversation.say("/start")
    conversation.say("asdfgh")
    assert "time zone" in conversation.last_text.lower()
    conversation.say("qwerty")
    assert question(conversation) is None


# --- 3. console numbers never collide with values ----------------------------------------


def test_a_number_typed_at_the_severity_prompt_is_the_severity(onboarded: Conversation) -> None:
    onboarded.say("calves 7/10")
    onboarded.tap("Change severity")
    onboarded.say("6")
    assert soreness(onboarded) == {"calves": 6}


def test_a_number_without_a_severity_prompt_changes_nothing(onboarded: Conversation) -> None:
    onboarded.say("calves 7/10")
    onboarded.say("6")
    assert soreness(onboarded) == {"calves": 7}


# --- 4. requests in plain words ------------------------------------------------------------


@pytest.mark.parametrize(
    "request_text",
    ["I have 7 min before leg day", "10 min before my run", "half an hour before my run"],
)
def test_a_time_budget_alone_gets_a_routine(onboarded: Conversation, request_text: str) -> None:
    onboarded.say(request_text)
    assert "rolling routine" in onboarded.all_text


@pytest.mark.parametrize(
    ("said", "changed"),
    [
        ("pause", ("paused", True)),
        ("stop reminding me", ("paused", True)),
        ("remind me 45 min before", ("lead_minutes", 45)),
        ("quiet after 10pm", ("quiet_start", "22:00")),
    ],
)
def test_settings_in_plain_words(
    onboarded: Conversation, said: str, changed: tuple[str, object]
) -> None:
    onboarded.say(said)
    field, value = changed
    assert getattr(onboarded.user, field) == value


def test_the_bots_own_example_is_read_back(onboarded: Conversation) -> None:
    onboarded.say("Mon Wed Fri 18:00")
    assert "Here's what I understood" in onboarded.last_text


# --- 5. the seed's questions get answers ----------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "answer_says"),
    [
        ("is foam rolling better than massage?", "Use both"),
        ("should I roll my lower back?", "Don't roll the lower back itself"),
        ("how often should I get a massage?", "2-4"),
        ("how long should I foam roll?", "5-20 minutes"),
        ("should I roll before or after my workout?", "Before"),
        ("does foam rolling actually work?", "flexible"),
        ("can I foam roll a pulled muscle?", "physio"),
        ("is it bad to roll before running?", "Before is the best time"),
        ("what about after my workout?", "Before is the best time"),
        ("should i stretch or roll?", "roll first, then warm up"),
        ("how do i use the foam roller?", "Never roll the lower back itself"),
    ],
)
def test_questions_about_rolling_get_answers_not_routines(
    onboarded: Conversation, asked: str, answer_says: str
) -> None:
    onboarded.say(asked)
    assert answer_says in onboarded.last_text
    assert "rolling routine" not in onboarded.all_text
    assert onboarded.last.buttons  # each answer ends with a useful button


# --- 6. corrections -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("correction", "after"),
    [
        ("no I meant quads", {"quads": 6}),
        ("actually it was my quads not hamstrings", {"quads": 6}),
        ("make that 4/10", {"hamstrings": 4}),
    ],
)
def test_a_correction_changes_the_last_report(
    onboarded: Conversation, clock: FakeClock, correction: str, after: dict[str, int]
) -> None:
    onboarded.say("hamstrings 6/10")
    clock.advance(minutes=2)
    onboarded.say(correction)
    assert soreness(onboarded) == after


def test_a_late_correction_is_not_applied_to_an_old_report(
    onboarded: Conversation, clock: FakeClock
) -> None:
    onboarded.say("hamstrings 6/10")
    clock.advance(hours=2)
    onboarded.say("make that 4/10")
    assert soreness(onboarded) == {"hamstrings": 6}


# --- 7. dates are read ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "days_ago"),
    [("had a sports massage last week", 7), ("had a massage 3 days ago", 3)],
)
def test_a_past_massage_is_dated(onboarded: Conversation, said: str, days_ago: int) -> None:
    onboarded.say(said)
    store, user = onboarded.coach.store, onboarded.user
    (logged,) = store.massages_since(user.id, onboarded.coach.clock() - timedelta(days=60))
    assert (onboarded.coach.clock() - logged.at).days == days_ago


def test_a_massage_last_month_counts_for_last_month(onboarded: Conversation) -> None:
    onboarded.say("had a massage last month")
    assert "earlier month" in onboarded.last_text


def test_a_booked_massage_is_not_logged(onboarded: Conversation) -> None:
    onboarded.say("booked a massage for Friday")
    store, user = onboarded.coach.store, onboarded.user
    assert store.last_massage(user.id) is None


def test_a_session_today_at_a_time_gone_says_so(onboarded: Conversation) -> None:
    onboarded.say("/schedule add today 6am")  # the clock reads 10:00 in Berlin
    assert "already passed" in onboarded.last_text


# --- 9. bad arguments say what happened ---------------------------------------------------------


@pytest.mark.parametrize(("command", "says"), [("/roll 500", "20"), ("/roll -3", "5")])
def test_a_routine_length_out_of_range_says_the_range(
    onboarded: Conversation, command: str, says: str
) -> None:
    onboarded.say(command)
    assert "5-20 minutes" in onboarded.all_text
    assert f"Your {says}-minute rolling routine" in onboarded.last_text


def test_a_negative_lead_time_is_refused(onboarded: Conversation) -> None:
    onboarded.say("/settings lead -5")
    assert onboarded.user.lead_minutes == 30
    assert "nothing changed" in onboarded.last_text


def test_removing_a_session_when_there_are_none_says_so(onboarded: Conversation) -> None:
    onboarded.say("/schedule remove 7")
    assert "nothing to remove" in onboarded.last_text


def test_an_unknown_command_lists_the_commands(onboarded: Conversation) -> None:
    onboarded.say("/rolll")
    assert "/roll" in onboarded.last_text and "/forget" in onboarded.last_text


@pytest.mark.parametrize("text", ["me duelen mucho las piernas", "мои икры болят"])
def test_another_language_gets_english_only(onboarded: Conversation, text: str) -> None:
    onboarded.say(text)
    assert "only understand English" in onboarded.last_text


# --- 12. manners ----------------------------------------------------------------------------------


def test_counts_have_the_right_plural(onboarded: Conversation) -> None:
    onboarded.say("had a massage today")
    onboarded.say("/massage")
    assert "1 massage this month" in onboarded.last_text


def test_a_massage_button_tapped_three_times_logs_one(onboarded: Conversation) -> None:
    onboarded.say("/massage")
    for _ in range(3):
        onboarded.press("m:log")
    store, user = onboarded.coach.store, onboarded.user
    assert len(store.massages_since(user.id, onboarded.coach.clock() - timedelta(days=1))) == 1
    assert "logged already" in onboarded.last_text


def test_a_schedule_has_a_sensible_cap(onboarded: Conversation) -> None:
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        hours = " ".join(f"{hour}:00" for hour in range(6, 14))
        onboarded.say(f"/schedule add {day} {hours}")
        onboarded.say("yes")
    assert schedules(onboarded) <= 50
    assert "more than 50 sessions" in onboarded.last_text


def test_a_session_is_removed_by_its_day_in_plain_words(onboarded: Conversation) -> None:
    onboarded.say("/schedule add tue 7am, sat 9am")
    onboarded.say("yes")
    onboarded.say("remove the saturday one")
    assert "Removed Sat 09:00" in onboarded.last_text
    assert schedules(onboarded) == 1


def test_a_zone_typed_with_please_is_read(conversation: Conversation) -> None:
    conversation.say("/start")
    conversation.say("berlin pls")
    assert conversation.user.tz == "Europe/Berlin"


def test_a_command_with_typed_options_is_the_same_as_typed_text(
    onboarded: Conversation,
) -> None:
    typed = onboarded.coach.handle_message(onboarded.sender, "/roll 15 run")
    structured = onboarded.coach.handle_command(
        onboarded.sender, "roll", {"minutes": 15, "workout": "run"}
    )
    assert typed[-1].title == structured[-1].title == "Your 15-minute rolling routine"
    assert typed[-1].text == structured[-1].text


def test_a_structured_command_out_of_range_still_says_the_range(onboarded: Conversation) -> None:
    replies = onboarded.coach.handle_command(onboarded.sender, "roll", {"minutes": 500})
    assert "5-20 minutes" in replies[0].text


# --- 13. schedules edited in words ----------------------------------------------------------


def saved_sessions(conversation: Conversation) -> list[str]:
    """The saved schedule as "Wed 07:30 run" strings, in the order /schedule lists it."""
    store, user = conversation.coach.store, conversation.user
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    entries = sorted(store.schedules(user.id), key=lambda e: (e.weekday or 0, e.time))
    return [f"{days[e.weekday or 0]} {e.time} {e.workout or '-'}" for e in entries]


def test_a_correction_at_the_read_back_changes_only_the_day_it_names(
    conversation: Conversation,
) -> None:
    conversation.say("I run mon wed fri at 7am and lift tue thu 6pm")
    conversation.say("no wait, friday is 8am")
    conversation.say("save")
    assert saved_sessions(conversation) == [
        "Mon 07:00 run",
        "Tue 18:00 -",
        "Wed 07:00 run",
        "Thu 18:00 -",
        "Fri 08:00 run",
    ]


def test_also_at_the_read_back_adds_to_it(conversation: Conversation) -> None:
    conversation.say("mon wed 7am")
    conversation.say("also sat 9am")
    conversation.say("yes")
    assert saved_sessions(conversation) == ["Mon 07:00 -", "Wed 07:00 -", "Sat 09:00 -"]


def test_an_unreadable_message_at_the_read_back_keeps_it_on_offer(
    conversation: Conversation,
) -> None:
    conversation.say("mon wed 7am")
    conversation.say("7")
    assert "Mon 07:00" in conversation.last_text and question(conversation) == "confirm_schedule"
    conversation.say("yes")
    assert saved_sessions(conversation) == ["Mon 07:00 -", "Wed 07:00 -"]


def test_moving_a_saved_session_replaces_it_and_keeps_its_workout(
    onboarded: Conversation,
) -> None:
    onboarded.say("run mon wed 7am")
    onboarded.say("yes")
    onboarded.say("move my wednesday session to 7:30")
    assert "This replaces Wed 07:00" in onboarded.last_text
    onboarded.say("yes")
    assert saved_sessions(onboarded) == ["Mon 07:00 run", "Wed 07:30 run"]


def test_a_session_already_saved_is_not_saved_twice(onboarded: Conversation) -> None:
    onboarded.say("mon 7am")
    onboarded.say("yes")
    onboarded.say("mon 7am")
    onboarded.say("yes")
    assert "already on your schedule" in onboarded.last_text
    assert saved_sessions(onboarded) == ["Mon 07:00 -"]


def test_removing_a_day_without_a_session_says_so_and_lists_the_schedule(
    onboarded: Conversation,
) -> None:
    onboarded.say("mon 7am")
    onboarded.say("yes")
    onboarded.say("remove tuesday")
    assert "no session on Tuesday" in onboarded.last_text and "1. Mon 07:00" in onboarded.last_text


# --- 14. short replies a newcomer types ------------------------------------------------------


@pytest.mark.parametrize("text", ["7", "more like a 7", "7/10"])
def test_a_number_under_a_guessed_severity_offers_it_and_yes_sets_it(
    onboarded: Conversation, text: str
) -> None:
    onboarded.say("my hamstrings r sore")
    onboarded.say(text)
    assert "Change hamstrings to 7/10 (from 5/10)?" in onboarded.last_text
    assert soreness(onboarded) == {"hamstrings": 5}  # asked, not applied
    onboarded.say("yes")
    assert soreness(onboarded) == {"hamstrings": 7}


def test_a_number_under_a_guessed_severity_leaves_an_open_read_back_alone(
    onboarded: Conversation,
) -> None:
    onboarded.say("mon 7am")
    onboarded.say("my hamstrings r sore")
    onboarded.say("7")
    onboarded.tap("Yes, 7/10")
    assert soreness(onboarded) == {"hamstrings": 7}
    onboarded.say("yes")
    assert saved_sessions(onboarded) == ["Mon 07:00 -"]


@pytest.mark.parametrize("text", ["ok", "got it", "cool 👍"])
def test_an_acknowledgement_gets_a_friendly_line_not_sorry(
    onboarded: Conversation, text: str
) -> None:
    onboarded.say(text)
    assert "Sorry" not in onboarded.last_text and "👍" in onboarded.last_text


def test_a_place_alone_offers_that_time_zone(onboarded: Conversation) -> None:
    onboarded.say("tokyo")
    assert "Asia/Tokyo" in onboarded.last_text
    assert onboarded.user.tz != "Asia/Tokyo"


def test_asking_to_change_the_time_zone_offers_it_and_yes_changes_it(
    onboarded: Conversation,
) -> None:
    onboarded.say("change my timezone to new york")
    onboarded.say("yes")
    assert onboarded.user.tz == "America/New_York"


@pytest.mark.parametrize("text", ["what is this", "set me up"])
def test_a_newcomers_first_words_get_help_or_setup(conversation: Conversation, text: str) -> None:
    conversation.say(text)
    assert "Sorry" not in conversation.last_text


def test_a_massage_on_an_earlier_day_this_month_is_logged_with_its_day(
    onboarded: Conversation,
) -> None:
    onboarded.say("had a massage yesterday")
    assert "Massage logged for Tue 24 Nov" in onboarded.last_text


@pytest.mark.parametrize(
    ("text", "target"),
    [("set my massage target to 2", 2), ("i want 4 massages a month", 4), ("massage goal two", 2)],
)
def test_the_massage_target_in_words(onboarded: Conversation, text: str, target: int) -> None:
    onboarded.say(text)
    assert onboarded.user.massage_target == target


def test_asking_for_the_massage_count_logs_nothing(
    onboarded: Conversation, memory_store: MemoryStore
) -> None:
    onboarded.say("whats my massage count")
    assert memory_store.last_massage(onboarded.user.id) is None
    assert "this month" in onboarded.last_text


def test_what_can_i_ask_is_help(conversation: Conversation) -> None:
    conversation.say("what can i ask you")
    assert "Commands" in conversation.last_text


def test_skip_in_a_guided_routine_moves_to_the_next_area(onboarded: Conversation) -> None:
    onboarded.say("calves 6/10")
    onboarded.say("what should i roll")
    onboarded.tap("▶ Start guided")
    (step,) = onboarded.say("skip this one")
    assert step.title is not None and step.title.startswith("2/")


def test_how_long_on_each_side_is_answered(onboarded: Conversation) -> None:
    onboarded.say("how long on each side?")
    assert "minute or two per area" in onboarded.last_text


def test_sore_everywhere_offers_a_full_body_routine_and_asks_for_the_worst(
    onboarded: Conversation,
) -> None:
    onboarded.say("i'm sore everywhere")
    assert "worst spots" in onboarded.last_text
    onboarded.say("quads 7, calves 6")
    assert soreness(onboarded) == {"quads": 7, "calves": 6}


def test_a_setting_in_words_at_a_read_back_is_a_setting_and_the_read_back_stays(
    onboarded: Conversation,
) -> None:
    onboarded.say("mon 7am")
    onboarded.say("quiet after 10pm")
    assert onboarded.user.quiet_start == "22:00"
    onboarded.say("yes")
    assert saved_sessions(onboarded) == ["Mon 07:00 -"]


def test_training_times_before_the_time_zone_then_the_zone_is_asked(
    conversation: Conversation,
) -> None:
    conversation.say("/start")
    conversation.say("I train mon wed fri 6pm")
    conversation.say("yes")
    assert "which time zone" in conversation.last_text and not conversation.user.onboarded
    conversation.say("berlin")
    assert conversation.user.tz == "Europe/Berlin" and conversation.user.onboarded
    assert "You're all set" in conversation.last_text


@pytest.mark.parametrize("text", ["it varies, no fixed days", "whenever i can", "not sure"])
def test_no_fixed_days_at_setup_ends_it_kindly(conversation: Conversation, text: str) -> None:
    conversation.say("/start")
    conversation.say("berlin")
    conversation.say(text)
    assert "No fixed days is fine" in conversation.last_text
    assert conversation.user.onboarded and question(conversation) is None


def test_skip_after_the_setup_question_gave_way_still_skips(conversation: Conversation) -> None:
    conversation.say("/start")
    conversation.say("berlin")
    for text in ("asdf", "qwer", "zxcv"):
        conversation.say(text)
    conversation.say("skip")
    assert "Sorry" not in conversation.last_text and conversation.user.onboarded


@pytest.mark.parametrize(
    ("typed", "at"),
    [("snooze 5 min", "10:05"), ("in 20", "10:20"), ("remind me in 15 minutes", "10:15")],
)
def test_a_typed_snooze_with_minutes_snoozes_the_nudge_that_long(
    onboarded: Conversation, memory_store: MemoryStore, clock: FakeClock, typed: str, at: str
) -> None:
    nudged(onboarded, memory_store, clock)  # 09:00 UTC, 10:00 in Berlin
    onboarded.say(typed)
    assert f"again at {at}" in onboarded.last_text


def test_already_rolled_after_a_nudge_logs_the_rolling(
    onboarded: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    nudged(onboarded, memory_store, clock)
    onboarded.say("already rolled")
    assert memory_store.rolling_since(onboarded.user.id, clock.now - timedelta(hours=1))


@pytest.mark.parametrize("text", ["I pulled my hamstring", "i'm injured", "strained my calf"])
def test_an_injury_said_gets_see_someone_first_not_a_routine(
    onboarded: Conversation, text: str
) -> None:
    onboarded.say(text)
    assert "Don't roll the injured spot itself" in onboarded.last_text


def test_is_foam_rolling_good_is_answered(onboarded: Conversation) -> None:
    onboarded.say("is foam rolling good?")
    assert "more flexible" in onboarded.last_text


def test_a_cancelled_massage_logs_nothing_and_shows_the_month(
    onboarded: Conversation, memory_store: MemoryStore
) -> None:
    onboarded.say("massage booked for friday 3pm")
    onboarded.say("cancelled my massage")
    assert "nothing logged" in onboarded.last_text and "this month" in onboarded.last_text
    assert memory_store.last_massage(onboarded.user.id) is None


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("when should i get my next massage", "Book one when an area stays sore"),
        ("how much does a massage cost", "$50-150"),
        ("remind me to book a massage", "once a month I check in about massages"),
        ("i haven't had a massage in ages", "this month"),
    ],
)
def test_massage_talk_that_reports_none_gets_an_answer(
    onboarded: Conversation, memory_store: MemoryStore, text: str, answer: str
) -> None:
    onboarded.say(text)
    assert answer in onboarded.last_text
    assert memory_store.last_massage(onboarded.user.id) is None


def test_asked_about_massage_reminders_while_paused_it_says_they_are_paused(
    onboarded: Conversation,
) -> None:
    onboarded.say("/pause")
    onboarded.say("will i still get massage reminders?")
    assert onboarded.last_text.startswith("Not while reminders are paused")
    onboarded.say("/resume")
    onboarded.say("will i still get massage reminders?")
    assert onboarded.last_text.startswith("I will")


@pytest.mark.parametrize(
    ("text", "says"),
    [("sunday morning", "found a day (Sun) but no time"), ("every other day 6pm", "no day")],
)
def test_half_a_schedule_says_what_is_missing(
    onboarded: Conversation, text: str, says: str
) -> None:
    onboarded.say(text)
    assert says in onboarded.last_text and "Sorry" not in onboarded.last_text


def test_a_bare_number_is_never_half_a_schedule(onboarded: Conversation) -> None:
    onboarded.say("calves 6/10")
    onboarded.say("8")
    assert question(onboarded) is None and "no day" not in onboarded.last_text


def test_roll_with_a_short_workout_word_plans_for_that_workout(onboarded: Conversation) -> None:
    onboarded.say("/roll 15 upper")
    assert "upper-body" in onboarded.last_text


@pytest.mark.parametrize("text", ["quick routine before yoga", "short routine please"])
def test_a_routine_asked_for_without_a_question_word_gets_one(
    onboarded: Conversation, text: str
) -> None:
    onboarded.say(text)
    assert "1. " in onboarded.last_text and "Sorry" not in onboarded.last_text


def test_a_question_at_a_confirmation_is_not_taken_as_its_answer(onboarded: Conversation) -> None:
    onboarded.say("/forget")
    onboarded.say("wait what gets deleted?")
    assert question(onboarded) == "forget" and "nothing was deleted" not in onboarded.last_text


def test_a_schedule_saved_without_setup_asks_the_time_zone_next(
    conversation: Conversation,
) -> None:
    conversation.say("mon wed sat at 7am")
    conversation.say("yup")
    assert "which time zone" in conversation.last_text
    conversation.say("keep utc")
    assert conversation.user.onboarded and question(conversation) is None


@pytest.mark.parametrize("text", ["bye", "see ya", "goodnight"])
def test_a_goodbye_gets_a_goodbye(onboarded: Conversation, text: str) -> None:
    onboarded.say(text)
    assert "Bye for now" in onboarded.last_text


@pytest.mark.parametrize("text", ["i run 3x a week", "i lift twice a week"])
def test_how_often_without_days_asks_for_the_days(onboarded: Conversation, text: str) -> None:
    onboarded.say(text)
    assert "Which days" in onboarded.last_text and question(onboarded) == "schedule"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("i did 10 min of rolling this morning", 600), ("rolled for 15 minutes after my run", 900)],
)
def test_rolling_done_in_words_is_logged_with_its_length(
    onboarded: Conversation, memory_store: MemoryStore, clock: FakeClock, text: str, seconds: int
) -> None:
    onboarded.say(text)
    (session,) = memory_store.rolling_since(onboarded.user.id, clock.now - timedelta(hours=1))
    assert session.seconds == seconds


@pytest.mark.parametrize(
    "question",
    ["how many times did i roll this week", "how did i do this week", "how was my week?"],
)
def test_asking_how_the_week_went_shows_the_history(onboarded: Conversation, question: str) -> None:
    onboarded.say("rolled for 15 minutes after my run")
    onboarded.say(question)
    assert "Rolling: 1 session (15 min)" in onboarded.last_text


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("change my reminder to 20 minutes", lambda u: u.lead_minutes == 20),
        ("turn off quiet hours", lambda u: u.quiet_start is None),
        ("massage day sunday 9am", lambda u: (u.massage_day, u.massage_time) == ("sun", "09:00")),
        ("my massage check-in should be on the 1st saturday", lambda u: u.massage_day == "sat"),
    ],
)
def test_more_settings_in_words(
    onboarded: Conversation, memory_store: MemoryStore, text: str, check
) -> None:  # type: ignore[no-untyped-def]
    onboarded.say("quiet 22:00-07:00")
    onboarded.say(text)
    assert check(onboarded.user)
    assert memory_store.last_massage(onboarded.user.id) is None  # never a massage logged


def test_remind_me_before_a_session_on_a_day_is_a_session_to_save(
    onboarded: Conversation,
) -> None:
    onboarded.say("remind me to roll before leg day on mondays 6pm")
    assert "Mon 18:00" in onboarded.last_text and onboarded.button("Save")
    onboarded.say("yes")
    assert "Saved" in onboarded.last_text


@pytest.mark.parametrize("text", ["stop reminding me on fridays", "no reminders on weekends"])
def test_reminders_off_for_some_days_points_at_those_sessions_and_pauses_nothing(
    onboarded: Conversation, text: str
) -> None:
    onboarded.say("mon fri 7am")
    onboarded.say("yes")
    onboarded.say(text)
    assert not onboarded.user.paused and "remove friday" in onboarded.last_text


def test_quiet_hours_that_would_swallow_a_sessions_reminder_say_so_and_how_to_keep_it(
    onboarded: Conversation,
) -> None:
    onboarded.say("weekdays 6am")
    onboarded.say("yes")
    onboarded.say("quiet 21:00-07:00")  # the 05:30 reminders fall inside, the 06:00 sessions too
    assert "your 06:00 sessions start before quiet hours end" in onboarded.last_text
    assert '"quiet 21:00-05:00"' in onboarded.last_text
    onboarded.say("quiet 21:00-05:00")
    assert "Heads-up" not in onboarded.last_text


def test_a_schedule_saved_inside_quiet_hours_gets_the_heads_up(onboarded: Conversation) -> None:
    onboarded.say("quiet 22:00-07:00")
    onboarded.say("mon wed 6:30am")
    onboarded.say("yes")
    assert "Saved" in onboarded.last_text and "06:30 sessions" in onboarded.last_text


@pytest.mark.parametrize(
    "text", ["30 min is fine", "ok 30 mins sounds good", "30 minutes is perfect"]
)
def test_agreeing_to_the_lead_time_is_acknowledged(onboarded: Conversation, text: str) -> None:
    assert onboarded.user.lead_minutes == 30
    onboarded.say(text)
    assert "30 minutes before each workout it is" in onboarded.last_text
    assert onboarded.user.lead_minutes == 30


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("i want to get a massage every 2 weeks", 2),
        ("i get a massage every other week", 2),
        ("massage once a week", 4),
        ("I'd like a massage three times a month", 3),
    ],
)
def test_a_massage_rhythm_sets_the_monthly_target(
    onboarded: Conversation, memory_store: MemoryStore, text: str, target: int
) -> None:
    onboarded.say(text)
    assert onboarded.user.massage_target == target
    assert memory_store.massages_since(onboarded.user.id, datetime(2000, 1, 1, tzinfo=UTC)) == []


@pytest.mark.parametrize("text", ["i can't afford massages", "massages are too expensive"])
def test_massages_out_of_budget_get_the_low_end_and_a_button_for_it(
    onboarded: Conversation, text: str
) -> None:
    onboarded.say(text)
    assert "2 massages a month" in onboarded.last_text
    onboarded.tap("Set my target to 2")
    assert onboarded.user.massage_target == 2 and "2 a month" in onboarded.last_text


def test_a_past_massage_rhythm_with_soreness_is_a_report_not_a_setting(
    onboarded: Conversation, memory_store: MemoryStore
) -> None:
    onboarded.say("had a massage every week for a month, calves still sore")
    assert onboarded.user.massage_target == 3
    (report,) = memory_store.soreness_since(onboarded.user.id, datetime(2000, 1, 1, tzinfo=UTC))
    assert report.area == "calves"


def test_a_routine_length_is_not_taken_for_the_lead_time(onboarded: Conversation) -> None:
    onboarded.say("remind me 15 min before")
    onboarded.say("15 min is fine")
    assert "before each workout it is" not in onboarded.last_text


@pytest.mark.parametrize("text", ["quiet off", "no quiet hours", "turn off quiet hours"])
def test_quiet_hours_go_off_in_plain_words(onboarded: Conversation, text: str) -> None:
    onboarded.say("quiet 22:00-07:00")
    onboarded.say(text)
    assert onboarded.user.quiet_start is None and "off" in onboarded.last_text


@pytest.mark.parametrize(
    "text",
    [
        "my knee hurts",
        "can i roll my knees?",
        "sore wrist",
        "runner's knee",
        "i’ve got tennis elbow",
    ],
)
def test_a_sore_joint_is_not_rolled_the_muscles_around_it_are(
    onboarded: Conversation, memory_store: MemoryStore, text: str
) -> None:
    onboarded.say(text)
    assert "Don't roll a joint itself" in onboarded.last_text
    assert memory_store.soreness_since(onboarded.user.id, datetime(2000, 1, 1, tzinfo=UTC)) == []


@pytest.mark.parametrize(
    ("text", "focus"),
    [
        ("i'm a runner", "your run's focus"),
        ("cyclist here", "your ride's focus"),
        ("i lift weights", "your full-body session's focus"),
        ("swimmer", "your swim's focus"),
    ],
)
def test_saying_what_you_train_gets_a_routine_for_it(
    onboarded: Conversation, text: str, focus: str
) -> None:
    onboarded.say(text)
    assert focus in onboarded.last_text


@pytest.mark.parametrize(
    ("text", "closest", "focus"),
    [
        ("i play football", "my run routine", "your run's focus"),
        ("bouldering tonight", "my upper-body strength routine", "upper-body strength session"),
        ("rowing later", "my full-body session routine", "your full-body session's focus"),
        ("what should i roll before tennis? 10 min", "my run routine", "your run's focus"),
        ("/roll 10 football", "my run routine", "your run's focus"),
    ],
)
def test_a_sport_without_a_routine_gets_the_closest_one_said_as_such(
    onboarded: Conversation, text: str, closest: str, focus: str
) -> None:
    onboarded.say(text)
    first, routine_reply = onboarded.replies[-2:]
    assert closest in first.text and focus in routine_reply.text


def test_a_sport_beside_a_soreness_report_keeps_the_report(
    onboarded: Conversation, memory_store: MemoryStore
) -> None:
    onboarded.say("calves 6/10 after football")
    (report,) = memory_store.soreness_since(onboarded.user.id, datetime(2000, 1, 1, tzinfo=UTC))
    assert (report.area, report.severity) == ("calves", 6)


@pytest.fixture
def training_daily(onboarded: Conversation) -> Conversation:
    onboarded.say("every day at 18:00")
    onboarded.tap("✅ Save")
    return onboarded


def reminders_on(chat: Conversation, day: date) -> list[str]:
    """The statuses of the pre-workout nudges of that day's sessions."""
    rows = chat.coach.store.nudges_since(chat.user.id, datetime.min.replace(tzinfo=UTC))
    return [
        n.status
        for n in rows
        if n.kind == "pre_workout" and str(n.payload["session_at"]).startswith(day.isoformat())
    ]


@pytest.mark.parametrize(
    ("text", "days_ahead"),
    [
        ("i'm skipping today", 0),
        ("no training today", 0),
        ("rest day", 0),
        ("leg day skipped", 0),
        ("cancel tomorrow's session", 1),
    ],
)
def test_a_day_off_skips_that_days_reminder_and_says_so(
    training_daily: Conversation, text: str, days_ahead: int
) -> None:
    day = training_daily.coach.clock().date() + timedelta(days=days_ahead)
    training_daily.say(text)
    assert "18:00 session" in training_daily.last_text
    assert reminders_on(training_daily, day) == ["skipped"]
    other = day + timedelta(days=1 - 2 * days_ahead)  # the other of today and tomorrow
    assert reminders_on(training_daily, other) == ["pending"]


@pytest.mark.parametrize("answer", ["yes", "Pause reminders"])
def test_time_away_offers_to_pause_the_reminders(onboarded: Conversation, answer: str) -> None:
    onboarded.say("i'm on holiday next week")
    assert "Enjoy the break" in onboarded.last_text and not onboarded.user.paused
    onboarded.say(answer)
    assert onboarded.user.paused


def todays_reminder(chat: Conversation) -> Nudge:
    today = chat.coach.clock().date().isoformat()
    (nudge,) = [
        n
        for n in chat.coach.store.pending_nudges_of(chat.user.id)
        if n.kind == "pre_workout" and str(n.payload["session_at"]).startswith(today)
    ]
    return nudge


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("sent", "went out at 17:30"),
        ("missed", "I was offline"),
    ],
)
def test_why_no_reminder_says_what_happened_to_the_last_one(
    training_daily: Conversation, clock: FakeClock, status: str, expected: str
) -> None:
    nudge = todays_reminder(training_daily)
    training_daily.coach.store.mark_nudge(nudge.id, status)
    clock.set(nudge.due_at + timedelta(hours=2))
    training_daily.say("why didn't you remind me?")
    assert "today at 18:00" in training_daily.last_text and expected in training_daily.last_text
    assert "Next reminder: " in training_daily.last_text


def test_why_no_reminder_names_the_quiet_hours_that_held_it_back(
    onboarded: Conversation, clock: FakeClock
) -> None:
    onboarded.say("every day at 06:00")
    onboarded.tap("✅ Save")
    onboarded.say("quiet 22:00-07:00")
    clock.set(clock().replace(hour=0) + timedelta(days=1, hours=9))
    onboarded.say("i never got a reminder")
    assert "quiet hours (22:00-07:00)" in onboarded.last_text


@pytest.mark.parametrize(
    ("setup", "expected"), [("/pause", "paused"), (None, "any sessions on your schedule")]
)
def test_why_no_reminder_when_none_could_come(
    onboarded: Conversation, setup: str | None, expected: str
) -> None:
    if setup:
        onboarded.say(setup)
    onboarded.say("did you forget to remind me?")
    assert expected in onboarded.last_text


def test_something_else_cancelled_skips_nothing(training_daily: Conversation) -> None:
    training_daily.say("my flight got cancelled")
    today = training_daily.coach.clock().date()
    assert reminders_on(training_daily, today) == ["pending"]


def test_a_swollen_knee_after_a_fall_is_still_a_warning_sign(onboarded: Conversation) -> None:
    onboarded.say("my knee is swollen after a fall")
    assert "more than normal training soreness" in onboarded.last_text


def test_a_newcomer_saying_yes_to_the_introduction_starts_the_setup(
    conversation: Conversation,
) -> None:
    conversation.say("hi, i'm new")
    conversation.say("yes")
    assert "which time zone are you in" in conversation.last_text


@pytest.mark.parametrize(
    "text", ["just got a foam roller!", "i have a foam roller, now what", "my roller arrived"]
)
def test_a_new_roller_gets_how_to_start_and_a_guided_routine(
    onboarded: Conversation, text: str
) -> None:
    onboarded.say(text)
    assert "10-minute routine" in onboarded.last_text
    assert onboarded.button("Guide me through a routine").data == "r:10:-"


def test_what_is_a_foam_roller_gets_an_answer(onboarded: Conversation) -> None:
    onboarded.say("what's a foam roller")
    assert "Rolling makes you more flexible" in onboarded.last_text

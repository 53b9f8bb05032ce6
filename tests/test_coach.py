"""The coach as a user meets it: conversations in, replies out (MemoryStore, fixed clock)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.core.coach import Coach
from bot.core.content import DEFAULT_DIRECTORY, load_library
from bot.core.memory import MemoryStore
from bot.core.turn import Sender
from tests.conversation import Conversation, FakeClock


def test_first_message_works_without_start(conversation: Conversation) -> None:
    conversation.say("calves 7/10")
    assert "calves 7/10" in conversation.last_text


def test_soreness_report_is_confirmed_with_fix_buttons(conversation: Conversation) -> None:
    conversation.say("my hamstrings are killing me")
    labels = [b.label for b in conversation.last.all_buttons]
    assert "hamstrings 9/10" in conversation.last_text
    assert {"Change severity", "Wrong area", "Undo"} <= set(labels)


def test_change_severity_button_updates_the_report(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    conversation.say("quads are sore")
    conversation.tap("Change severity")
    conversation.tap("3")
    reports = memory_store.soreness_since(conversation.user.id, clock.now.replace(year=2020))
    assert [(r.area, r.severity) for r in reports] == [("quads", 3)]


def test_wrong_area_button_moves_the_report(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    conversation.say("quads are sore")
    conversation.tap("Wrong area")
    conversation.tap("Hamstrings")
    reports = memory_store.soreness_since(conversation.user.id, clock.now.replace(year=2020))
    assert [r.area for r in reports] == ["hamstrings"]


def test_undo_removes_what_was_recorded(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    conversation.say("calves 6/10, quads a bit tight")
    conversation.tap("Undo")
    assert memory_store.soreness_since(conversation.user.id, clock.now.replace(year=2020)) == []


def test_undo_twice_says_the_button_expired(conversation: Conversation) -> None:
    conversation.say("calves 6/10")
    undo = conversation.button("Undo")
    conversation.press(undo.data)
    conversation.press(undo.data)
    assert "expired" in conversation.last_text


def test_unknown_button_data_expires_politely(conversation: Conversation) -> None:
    for data in ["", "zz:1", "sv:notanumber", "sv:999999:3", "g:7", "wa:1:moon", "sc:nope"]:
        conversation.press(data)
        assert "expired" in conversation.last_text, data


def test_red_flag_gets_the_safety_reply_and_no_routine(conversation: Conversation) -> None:
    conversation.say("my calf went numb while rolling, what should I roll?")
    assert "clinician" in conversation.all_text or "doctor" in conversation.all_text
    assert not any("Start guided" in b.label for r in conversation.replies for b in r.all_buttons)


def test_chest_pain_is_urgent(conversation: Conversation) -> None:
    conversation.say("chest pain when I breathe in")
    assert "urgent" in conversation.all_text.lower() or "emergency" in conversation.all_text.lower()


def test_red_flag_area_is_left_out_of_later_routines(conversation: Conversation) -> None:
    conversation.say("felt a pop in my hamstring during sprints")
    conversation.say("what should I roll before my run? 20 minutes")
    routine_text = conversation.last_text
    assert "Hamstrings -" not in routine_text
    assert "Calves" in routine_text


def test_which_area_gives_a_routine_with_cues(conversation: Conversation) -> None:
    conversation.say("I have 10 minutes before leg day, what do I roll?")
    assert "10-minute" in conversation.last_text
    assert "Quads" in conversation.last_text


def test_routine_never_rolls_the_lower_back(conversation: Conversation) -> None:
    conversation.say("my back is killing me, what should I roll?")
    text = conversation.last_text
    assert "Lower back -" not in text
    assert "lumbar" in text.lower() or "lower back" in text.lower()


def test_guided_session_walks_one_area_at_a_time(conversation: Conversation) -> None:
    conversation.say("/roll 5")
    conversation.tap("Start guided")
    assert conversation.last.title is not None and conversation.last.title.startswith("1/")
    for _ in range(10):
        labels = [b.label for b in conversation.last.all_buttons]
        if not labels:
            break
        conversation.tap(labels[0])
    assert "warm up" in conversation.last_text.lower()


def test_roll_command_takes_minutes_and_workout(conversation: Conversation) -> None:
    conversation.say("/roll 15 swim")
    assert "15-minute" in conversation.last_text
    assert "Lats" in conversation.last_text


def test_massage_message_is_logged_with_month_count(conversation: Conversation) -> None:
    conversation.say("had a massage today")
    assert "1 this month" in conversation.last_text


def test_booked_massage_is_not_counted_yet(conversation: Conversation) -> None:
    conversation.say("booked a sports massage for Friday")
    assert "this month" not in conversation.last_text
    conversation.tap("log it")
    assert "1 this month" in conversation.last_text


def test_massage_status_shows_target(conversation: Conversation) -> None:
    conversation.say("/massage")
    assert "0 massages this month; the aim is 3" in conversation.last_text
    conversation.tap("I had one today")
    conversation.say("/massage")
    assert "1 massage this month; the aim is 3" in conversation.last_text
    assert "Your last massage was today" in conversation.last_text
    assert not conversation.last.all_buttons  # a day counts one massage: nothing to log


def test_sore_for_a_week_suggests_a_massage_therapist(
    conversation: Conversation, clock: FakeClock
) -> None:
    for _ in range(8):
        conversation.say("calves 6/10")
        clock.advance(days=1)
    assert "massage therapist" in conversation.last_text.lower()


def test_not_understood_lists_what_the_bot_can_do(conversation: Conversation) -> None:
    conversation.say("what's the capital of Australia")
    assert "roll" in conversation.last_text.lower()
    assert conversation.last.buttons


def test_unknown_command_is_answered(conversation: Conversation) -> None:
    conversation.say("/frobnicate")
    assert "/frobnicate" in conversation.last_text


@pytest.mark.parametrize("text", ["", "   ", "\x00", "🙂" * 5000, "/", "/@", "a" * 20_000])
def test_odd_input_gets_a_reply(conversation: Conversation, text: str) -> None:
    replies = conversation.say(text)
    assert replies and all(reply.text.strip() for reply in replies)
    assert "went wrong" not in conversation.all_text


def test_onboarding_reads_back_time_zone_and_schedule(conversation: Conversation) -> None:
    conversation.say("/start")
    assert "time zone" in conversation.last_text.lower()
    conversation.say("New York")
    assert "America/New_York" in conversation.last_text
    conversation.say("Mon Wed Fri 18:00")
    assert "Mon" in conversation.last_text and "18:00" in conversation.last_text
    conversation.tap("Save")
    assert conversation.user.onboarded
    assert len(conversation.coach.store.schedules(conversation.user.id)) == 3


def test_onboarding_is_resumable(conversation: Conversation) -> None:
    conversation.say("/start")
    conversation.say("Berlin")
    conversation.say("/start")
    assert "where we left off" in conversation.last_text


def test_onboarding_can_be_skipped(conversation: Conversation) -> None:
    conversation.say("/start")
    conversation.tap("Skip")
    assert conversation.user.onboarded


def test_soreness_during_onboarding_is_still_recorded(conversation: Conversation) -> None:
    conversation.say("/start")
    conversation.say("hamstrings 6/10")
    assert "hamstrings 6/10" in conversation.all_text
    assert "time zone" in conversation.last_text.lower()  # the setup question stays open


def test_schedule_add_show_and_remove(conversation: Conversation) -> None:
    conversation.say("/schedule add tue/thu 6:30pm")
    conversation.tap("Save")
    conversation.say("/schedule")
    assert "Tue" in conversation.last_text and "18:30" in conversation.last_text
    conversation.tap("✖ 1")
    assert len(conversation.coach.store.schedules(conversation.user.id)) == 1


def test_settings_change_lead_and_quiet_hours(conversation: Conversation) -> None:
    conversation.say("/settings lead 45")
    conversation.say("/settings quiet 22:00-07:00")
    user = conversation.user
    assert (user.lead_minutes, user.quiet_start, user.quiet_end) == (45, "22:00", "07:00")


def test_settings_rejects_a_bad_lead_time_clearly(conversation: Conversation) -> None:
    conversation.say("/settings lead soon")
    assert "between 5 and 180" in conversation.last_text
    assert conversation.user.lead_minutes == 30


def test_pause_and_resume(conversation: Conversation) -> None:
    conversation.say("/pause")
    assert conversation.user.paused
    conversation.say("/resume")
    assert not conversation.user.paused


def test_history_lists_recent_soreness(conversation: Conversation) -> None:
    conversation.say("calves 7/10")
    conversation.say("/history")
    assert "Calves" in conversation.last_text and "7" in conversation.last_text


def test_export_returns_all_my_data_as_json(conversation: Conversation) -> None:
    conversation.say("calves 7/10")
    conversation.say("had a massage today")
    conversation.say("/export")
    attachment = conversation.last.attachment
    assert attachment is not None and conversation.last.private
    data = json.loads(attachment.data)
    assert data["soreness"][0]["area"] == "calves"
    assert len(data["massages"]) == 1
    assert data["user"]["tz"] == "Europe/Berlin"


def test_export_includes_schedules_red_flags_and_nudges(conversation: Conversation) -> None:
    conversation.say("/schedule add thu 18:00")  # within the 48 h the planner looks ahead
    conversation.tap("Save")
    conversation.say("my knee is swollen")
    conversation.say("/export")
    attachment = conversation.last.attachment
    assert attachment is not None
    data = json.loads(attachment.data)
    assert data["schedules"][0]["time"] == "18:00"
    assert "swollen" in data["red_flags"][0]["text"]
    assert data["nudges"]


def test_forget_asks_first_and_then_deletes_every_row(
    conversation: Conversation, memory_store: MemoryStore
) -> None:
    conversation.say("calves 7/10")
    conversation.say("/schedule add mon 18:00")
    conversation.tap("Save")
    user_id = conversation.user.id
    conversation.say("/forget")
    assert memory_store.count_rows(user_id) > 0
    conversation.tap("Yes")
    assert memory_store.count_rows(user_id) == 0


def test_forget_cancel_keeps_everything(
    conversation: Conversation, memory_store: MemoryStore
) -> None:
    conversation.say("calves 7/10")
    conversation.say("/forget")
    conversation.tap("Cancel")
    assert memory_store.count_rows(conversation.user.id) > 0


def test_state_is_per_user(coach: Coach) -> None:
    alice = Conversation(coach, Sender("test", "1"))
    bob = Conversation(coach, Sender("test", "2"))
    alice.say("calves 7/10")
    bob.say("/history")
    assert "Calves" not in bob.last_text


def test_a_failing_handler_answers_with_an_apology(
    coach: Coach, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(coach.commands, "history", explode)
    replies = coach.handle_message(Sender("test", "9"), "/history")
    assert "went wrong" in replies[-1].text
    assert coach.handle_message(Sender("test", "9"), "/help")


def rows_about(db_path: Path, user_id: int) -> int:
    """Rows about a user in every table of the file, found from the schema itself, so a new
    table that /forget forgets to clear is caught."""
    with closing(sqlite3.connect(db_path)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        total = 0
        for table in tables:
            columns = {c[1] for c in conn.execute(f"PRAGMA table_info({table})")}
            key = "id" if table == "users" else "user_id" if "user_id" in columns else None
            if key:
                sql = f"SELECT COUNT(*) FROM {table} WHERE {key} = ?"
                total += conn.execute(sql, (user_id,)).fetchone()[0]
        return total


def test_forget_on_sqlite_leaves_no_row_of_that_user(
    sqlite_store, db_path, clock: FakeClock
) -> None:  # type: ignore[no-untyped-def]
    coach = Coach(sqlite_store, clock=clock)
    me, other = Conversation(coach, Sender("test", "1")), Conversation(coach, Sender("test", "2"))
    for chat in (me, other):
        chat.say("calves 7/10")
        chat.say("had a massage today")
        chat.say("my knee is swollen")
    me.say("/schedule add mon 18:00")
    me.tap("Save")
    user_id, others_rows = me.user.id, rows_about(db_path, other.user.id)
    assert rows_about(db_path, user_id) >= 5
    me.say("/forget")
    me.tap("Yes")
    assert rows_about(db_path, user_id) == 0
    assert rows_about(db_path, other.user.id) == others_rows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("please stop reminders", "paused"),
        ("delete my data", "Are you sure"),
        ("what's my schedule?", "scheduled"),
        ("help", "/roll"),
        ("hi, i'm new", "/roll"),
        ("ok now what?", "/roll"),
    ],
)
def test_plain_words_reach_commands(conversation: Conversation, text: str, expected: str) -> None:
    conversation.say(text)
    assert expected.lower() in conversation.last_text.lower()


def test_a_failing_turn_leaves_nothing_half_written(
    sqlite_store,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    coach = Coach(sqlite_store, clock=clock)
    chat = Conversation(coach, Sender("test", "7"))
    chat.say("/help")
    before = sqlite_store.count_rows(chat.user.id)

    def fail_after_recording(turn, parsed, text):  # type: ignore[no-untyped-def]
        from bot.core import soreness

        soreness.record_from_message(turn, parsed, text)
        raise RuntimeError("boom")

    monkeypatch.setattr(coach, "_soreness", fail_after_recording)
    chat.say("calves 7/10")
    assert "went wrong" in chat.last_text
    assert sqlite_store.count_rows(chat.user.id) == before


@pytest.mark.parametrize(
    "text", ["/roll 10 my calf went numb", "/sore shooting pain down my leg", "/massage chest pain"]
)
def test_red_flag_inside_a_command_gets_the_safety_reply(
    conversation: Conversation, text: str
) -> None:
    conversation.say(text)
    assert "clinician" in conversation.all_text or "urgent" in conversation.all_text.lower()
    assert not any("Start" in b.label for r in conversation.replies for b in r.all_buttons)


@pytest.mark.parametrize(
    "text", ["I haven't had a massage in ages", "my massage got cancelled", "I need a massage"]
)
def test_massage_not_had_is_not_logged(
    conversation: Conversation, memory_store: MemoryStore, text: str
) -> None:
    conversation.say(text)
    assert memory_store.last_massage(conversation.user.id) is None


def test_undo_of_a_long_report_removes_exactly_that_report(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    for _ in range(40):
        conversation.say("calves 3/10")
    everything = (
        "calves 5, shins 5, feet 5, hamstrings 5, quads 5, glutes 5, lats 5, chest 5, traps 5"
    )
    conversation.say(everything + ", neck 5, triceps 5, biceps 5, forearms 5, shoulders 5")
    conversation.tap("Undo")
    left = memory_store.soreness_since(conversation.user.id, clock.now.replace(year=2020))
    assert len(left) == 40 and all(r.area == "calves" for r in left)


def test_naming_an_area_in_a_question_records_no_soreness(
    conversation: Conversation, memory_store: MemoryStore, clock: FakeClock
) -> None:
    conversation.say("should I roll my calves?")
    conversation.say("what should I roll for my hamstrings?")
    assert memory_store.soreness_since(conversation.user.id, clock.now.replace(year=2020)) == []
    assert "Hamstrings" in conversation.last_text


def test_routine_times_use_a_fixed_offset_zone(conversation: Conversation) -> None:
    conversation.say("/settings tz +5:30")
    conversation.say("/schedule add today 23:50")
    conversation.tap("Save")
    conversation.say("/roll")
    assert "23:50" in conversation.last_text


def test_thanks_during_a_prompt_is_not_taken_as_an_answer(conversation: Conversation) -> None:
    conversation.say("/settings tz")
    conversation.say("thanks!")
    assert "Any time" in conversation.all_text
    assert "don't know the time zone" not in conversation.all_text
    conversation.say("/schedule add mon 18:00")
    conversation.say("hello")
    assert "training days" not in conversation.all_text.lower()


def test_a_wrong_time_zone_in_settings_does_not_trap_the_user(conversation: Conversation) -> None:
    conversation.say("/settings tz")
    conversation.say("Narnia")
    conversation.say("what's the capital of Australia")
    assert "time zone" not in conversation.last_text.lower()


def test_massage_check_in_day_and_time_can_be_chosen(conversation: Conversation) -> None:
    conversation.say("/settings massage_day sunday 9am")
    assert (conversation.user.massage_day, conversation.user.massage_time) == ("sun", "09:00")
    conversation.say("/settings massage_day whenever")
    assert "weekday and a time" in conversation.last_text


def test_a_user_who_unblocks_the_bot_gets_reminders_again(
    conversation: Conversation, memory_store: MemoryStore
) -> None:
    conversation.say("/schedule add thu 18:00")
    conversation.tap("Save")
    user = conversation.user
    user.unreachable = True
    memory_store.save_user(user)
    memory_store.replace_nudges(user.id, conversation.coach.clock(), [])
    conversation.say("hello again")
    assert not conversation.user.unreachable
    assert memory_store.pending_nudges_of(user.id)


def test_history_shows_finished_guided_routines(conversation: Conversation) -> None:
    conversation.say("what should I roll? 5 min")
    conversation.tap("Start guided")
    for _ in range(10):  # typed "next" until the last area, whose button is Done
        if any(b.label == "✅ Done" for b in conversation.last.all_buttons):
            break
        conversation.say("next")
    conversation.say("done")
    conversation.say("done")  # said twice, counted once
    conversation.say("/history")
    assert "Rolling: 1 session (5 min)" in conversation.last_text


def test_done_rolling_said_in_words_is_logged(conversation: Conversation) -> None:
    conversation.say("done rolling!")
    assert "logged that rolling session" in conversation.last_text
    conversation.say("/history")
    assert "Rolling: 1 session" in conversation.last_text


def test_the_coach_reads_messages_with_the_library_it_was_given(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(DEFAULT_DIRECTORY, folder)
    areas = folder / "areas.yaml"
    areas.write_text(areas.read_text().replace("synonyms: [calf,", "synonyms: [wheels, calf,"))
    coach = Coach(MemoryStore(), library=load_library(folder))
    replies = coach.handle_message(Sender("test", "1"), "my wheels are 6/10")
    assert "calves 6/10" in replies[-1].text


def test_a_message_without_words_is_told_that_words_work(conversation: Conversation) -> None:
    (reply,) = conversation.say("   ")
    assert "I can only read words" in reply.text

"""Bad input gets a clear reply and loses nothing: fuzzed text and button data."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.coach import Coach
from bot.core.memory import MemoryStore
from bot.core.turn import Sender
from tests.conversation import FakeClock

SENDER = Sender("fuzz", "42")
fuzz_settings = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def fresh_coach() -> Coach:
    return Coach(MemoryStore(), clock=FakeClock())


@fuzz_settings
@given(st.text(max_size=2_000))
def test_any_message_gets_at_least_one_non_empty_reply(text: str) -> None:
    replies = fresh_coach().handle_message(SENDER, text)
    assert replies and all(reply.text.strip() for reply in replies)
    assert not any("went wrong" in reply.text for reply in replies)


@fuzz_settings
@given(st.from_regex(r"/[a-z]{0,12}( .{0,80})?", fullmatch=True))
def test_any_command_with_any_argument_is_answered(text: str) -> None:
    replies = fresh_coach().handle_message(SENDER, text)
    assert replies and "went wrong" not in replies[-1].text


@fuzz_settings
@given(st.text(max_size=64))
def test_any_button_data_is_answered_without_error(data: str) -> None:
    coach = fresh_coach()
    coach.handle_message(SENDER, "calves 7/10")
    replies = coach.handle_button(SENDER, data)
    assert replies and "went wrong" not in replies[-1].text


def test_reported_soreness_survives_a_storm_of_bad_input() -> None:
    coach = fresh_coach()
    coach.handle_message(SENDER, "calves 7/10")
    for junk in [
        "/sore",
        "\x00\x01",
        "/schedule add 99:99",
        "/settings tz Nowhere/Land",
        "🦶" * 900,
    ]:
        coach.handle_message(SENDER, junk)
    history = coach.handle_message(SENDER, "/history")[-1].text
    assert "Calves" in history


QUESTIONS = {  # how to leave each kind of question open
    "timezone": ["/start"],
    "schedule": ["/start", "Berlin"],
    "confirm_schedule": ["/schedule add mon 18:00"],
    "forget": ["calves 6/10", "/forget"],
    "severity": ["calves 6/10", "__tap__:Change severity"],
    "area": ["calves 6/10", "__tap__:Wrong area"],
    "soreness": ["/sore"],
    "massage_when": ["/massage"],
    "guided": ["/roll 5", "__tap__:Start guided"],
}


def coach_asking(kind: str) -> Coach:
    coach = fresh_coach()
    replies = []
    for step in QUESTIONS[kind]:
        if step.startswith("__tap__:"):
            label = step.partition(":")[2]
            data = next(b.data for r in replies for b in r.all_buttons if label in b.label)
            replies = coach.handle_button(SENDER, data)
        else:
            replies = coach.handle_message(SENDER, step)
    assert coach.user(SENDER).dialog["question"]["kind"] == kind
    return coach


@fuzz_settings
@given(st.sampled_from(sorted(QUESTIONS)), st.text(max_size=300))
def test_any_message_at_any_open_question_is_answered_without_error(kind: str, text: str) -> None:
    coach = coach_asking(kind)
    outcome = coach.respond(SENDER, text)
    assert outcome.replies and all(reply.text.strip() for reply in outcome.replies)
    assert outcome.handled_as != "error"

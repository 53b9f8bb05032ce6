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

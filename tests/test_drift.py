"""Drift guards: every command, area and workout is wired up everywhere it must be."""

from __future__ import annotations

import re
from pathlib import Path

from bot.core.coach import Coach
from bot.core.content import Library
from bot.core.memory import MemoryStore
from bot.core.parsing import parse_message
from tests.contract import AREA_IDS, COMMANDS, WORKOUT_IDS


def test_every_command_is_in_help_and_the_menu_and_the_coach(library: Library) -> None:
    coach = Coach(MemoryStore(), library)
    for command in COMMANDS:
        assert f"/{command}" in library.messages["help"]
        assert command in library.commands
        assert command in coach.commands


def test_the_coach_handles_no_command_that_help_does_not_list(library: Library) -> None:
    assert set(Coach(MemoryStore(), library).commands) == set(COMMANDS)


def test_every_area_has_cues_time_and_a_name_the_parser_knows(library: Library) -> None:
    for area_id in AREA_IDS:
        area = library.areas[area_id]
        assert area.cues and area.seconds > 0
        assert parse_message(f"{area.name} 6/10").soreness == {area_id: 6}, area_id


def test_every_workout_is_understood_by_its_own_name(library: Library) -> None:
    for workout_id in WORKOUT_IDS:
        name = library.workouts[workout_id].phrases[0]
        assert parse_message(f"what should I roll before {name}?").workout == workout_id


def _source() -> str:
    core = Path(__file__).resolve().parents[1] / "bot" / "core"
    return "\n".join(path.read_text() for path in sorted(core.glob("*.py")))


def test_every_message_the_core_says_is_in_messages_yaml(library: Library) -> None:
    said = set(re.findall(r"""\.say\(\s*"(\w+)\"""", _source()))
    assert said, "no turn.say calls found: the pattern is stale"
    assert said <= set(library.messages), sorted(said - set(library.messages))


def test_every_question_the_core_asks_has_its_one_line_prompt(library: Library) -> None:
    kinds = set(re.findall(r"""dialog\.ask\(\s*turn,\s*\w+,\s*"(\w+)\"""", _source()))
    assert {"forget", "confirm_schedule", "severity", "timezone", "schedule"} <= kinds
    assert {f"ask_{kind}" for kind in kinds} <= set(library.messages)


def test_every_faq_button_is_a_button_the_coach_handles(library: Library) -> None:
    coach = Coach(MemoryStore(), library)
    for faq in library.faqs:
        assert faq.button_data.partition(":")[0] in coach.buttons, faq.id


def test_every_command_option_belongs_to_a_command_the_coach_has(library: Library) -> None:
    from bot.core.commands import OPTIONS

    coach = Coach(MemoryStore(), library)
    assert set(OPTIONS) <= set(coach.commands)
    for options in OPTIONS.values():
        for option in options:
            assert option.kind in {"int", "text", "choice"} and option.description
            if option.kind == "choice":
                assert set(option.choices) <= set(library.workouts)

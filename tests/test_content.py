"""The content library: the shipped YAML is complete and sound, and broken files fail loudly."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bot.core.coach import Coach
from bot.core.content import (
    DEFAULT_DIRECTORY,
    Area,
    ContentError,
    Library,
    default_library,
    load_library,
)
from bot.core.memory import MemoryStore
from tests.contract import AREA_IDS, COMMANDS, WORKOUT_IDS


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A private copy of the real content that a test may damage."""
    target = tmp_path / "content"
    shutil.copytree(DEFAULT_DIRECTORY, target)
    return target


def edit(directory: Path, filename: str, change: Callable[[Any], object]) -> None:
    """Load a YAML file, let `change` mutate the data, write it back."""
    path = directory / filename
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def load_error(directory: Path) -> str:
    with pytest.raises(ContentError) as caught:
        load_library(directory)
    return str(caught.value)


# ---- the shipped content -------------------------------------------------------------


def test_shipped_content_loads(library: Library) -> None:
    assert isinstance(library, Library)


def test_every_area_id_has_cues_and_time(library: Library) -> None:
    assert tuple(library.areas) == AREA_IDS
    for area in library.areas.values():
        assert 2 <= len(area.cues) <= 4
        assert 30 <= area.seconds_per_side <= 120
        assert area.name and area.synonyms


def test_area_ids_follow_the_design_order() -> None:
    assert AREA_IDS[0] == "calves" and AREA_IDS[-1] == "forearms" and len(AREA_IDS) == 19


def test_two_sided_area_time_counts_both_sides(library: Library) -> None:
    calves = library.areas["calves"]
    assert calves.two_sided
    assert calves.seconds == 2 * calves.seconds_per_side


def test_one_sided_area_time_is_per_side_time(library: Library) -> None:
    upper_back = library.areas["upper_back"]
    assert not upper_back.two_sided
    assert upper_back.seconds == upper_back.seconds_per_side


def test_lower_back_is_never_rolled_and_names_areas_around_it(library: Library) -> None:
    lower_back = library.areas["lower_back"]
    assert not lower_back.rollable
    assert set(lower_back.instead) == {"upper_back", "glutes", "hip_flexors", "hamstrings", "lats"}
    advice = " ".join(lower_back.cues + lower_back.cautions).lower()
    assert "never roll" in advice and "lumbar" in advice


def test_only_lower_back_is_not_rollable(library: Library) -> None:
    assert [a.id for a in library.areas.values() if not a.rollable] == ["lower_back"]


def test_unqualified_back_means_lower_back(library: Library) -> None:
    assert "back" in library.areas["lower_back"].synonyms


def test_biceps_femoris_belongs_to_hamstrings_only(library: Library) -> None:
    owners = [a.id for a in library.areas.values() if "biceps femoris" in a.synonyms]
    assert owners == ["hamstrings"]


def test_synonyms_are_lowercase_and_unique_across_areas(library: Library) -> None:
    seen: dict[str, str] = {}
    for area in library.areas.values():
        for synonym in area.synonyms:
            assert synonym == synonym.lower()
            assert synonym not in seen, (synonym, seen.get(synonym), area.id)
            seen[synonym] = area.id


def test_group_words_are_not_area_synonyms(library: Library) -> None:
    synonyms = {s for area in library.areas.values() for s in area.synonyms}
    for word in ("legs", "thighs", "hips", "arms"):
        assert word in library.groups
        assert word not in synonyms


def test_groups_expand_as_the_design_says(library: Library) -> None:
    assert set(library.groups["legs"]) == {"quads", "hamstrings", "calves"}
    assert set(library.groups["thighs"]) == {"quads", "hamstrings"}
    assert set(library.groups["hips"]) == {"hip_flexors", "glutes"}
    assert set(library.groups["arms"]) == {"biceps", "triceps", "forearms"}


def test_common_words_name_their_area(library: Library) -> None:
    expected = {
        "calf": "calves",
        "gastrocnemius": "calves",
        "tibialis anterior": "shins",
        "plantar fascia": "feet",
        "hammies": "hamstrings",
        "vmo": "quads",
        "tfl": "it_band",
        "groin": "adductors",
        "psoas": "hip_flexors",
        "butt": "glutes",
        "rhomboids": "upper_back",
        "latissimus dorsi": "lats",
        "pecs": "chest",
        "delts": "shoulders",
        "trapezius": "traps",
        "tricep": "triceps",
        "bis": "biceps",
        "brachioradialis": "forearms",
    }
    owner = {s: a.id for a in library.areas.values() for s in a.synonyms}
    for word, area_id in expected.items():
        assert owner.get(word) == area_id, word


def test_related_areas_exist_and_exclude_self(library: Library) -> None:
    for area in library.areas.values():
        assert area.id not in area.related
        assert set(area.related) <= set(AREA_IDS)


def test_every_workout_has_a_focus_without_lower_back(library: Library) -> None:
    assert tuple(library.workouts) == WORKOUT_IDS
    for workout in library.workouts.values():
        assert 4 <= len(workout.focus) <= 6
        assert "lower_back" not in workout.focus
        assert workout.phrases


def test_workout_phrases_cover_the_design_examples(library: Library) -> None:
    owner = {p: w.id for w in library.workouts.values() for p in w.phrases}
    examples = {
        "leg day": "lower_body",
        "squats": "lower_body",
        "bench": "upper_body",
        "push day": "upper_body",
        "pull-ups": "upper_body",
        "running": "run",
        "spin class": "cycle",
        "pool": "swim",
        "hiit": "full_body",
        "runner": "run",
        "cyclist": "cycle",
        "swimmer": "swim",
    }
    for phrase, workout_id in examples.items():
        assert owner.get(phrase) == workout_id, phrase


def test_massage_cadence_is_two_to_four_a_month(library: Library) -> None:
    massage = library.massage
    assert (massage.min_per_month, massage.target_per_month, massage.max_per_month) == (2, 3, 4)


def test_massage_reminders_cover_every_fact(library: Library) -> None:
    reminders = library.massage.reminders
    assert len(reminders) >= 8
    assert {r.fact for r in reminders} == {
        "relaxation",
        "duration",
        "fascia",
        "specificity",
        "cost",
    }


def test_escalation_fills_area_and_days(library: Library) -> None:
    text = library.massage.escalation.format(area="calves", days=9)
    assert "calves" in text and "9 days" in text


def test_red_flag_kinds_include_urgent_ones(library: Library) -> None:
    urgent = {flag.id for flag in library.safety.flags if flag.urgent}
    assert urgent == {"leg_weakness", "chest_pain", "bladder_bowel"}


def test_red_flag_terms_cover_the_design_symptoms(library: Library) -> None:
    terms = {term for flag in library.safety.flags for term in flag.terms}
    for term in ("numb", "tingling", "pins and needles", "shooting", "stabbing", "swollen"):
        assert term in terms
    for term in ("popped", "fell", "can't put weight", "chest pain", "bladder"):
        assert term in terms


def test_safety_reply_names_the_areas(library: Library) -> None:
    text = library.safety.format_reply(["your left calf", "your shin"])
    assert "your left calf and your shin" in text


def test_safety_reply_reads_well_without_areas(library: Library) -> None:
    assert "that area" in library.safety.format_reply([])


def test_urgent_reply_sends_to_urgent_care(library: Library) -> None:
    assert "urgent" in library.safety.format_reply([], urgent=True).lower()


def test_help_lists_every_command(library: Library) -> None:
    for command in COMMANDS:
        assert f"/{command}" in library.messages["help"]


def test_commands_are_exactly_the_twelve(library: Library) -> None:
    assert tuple(library.commands) == COMMANDS
    assert all(0 < len(text) <= 100 for text in library.commands.values())


def test_required_messages_exist(library: Library) -> None:
    for key in ("help", "not_understood", "welcome"):
        assert library.messages[key].strip()


def test_default_library_is_loaded_once() -> None:
    assert default_library() is default_library()


def test_area_is_immutable(library: Library) -> None:
    area: Area = library.areas["calves"]
    with pytest.raises(ValidationError):
        area.name = "Legs"  # type: ignore[misc]


# ---- broken files --------------------------------------------------------------------


def test_missing_file_is_named(content_dir: Path) -> None:
    (content_dir / "safety.yaml").unlink()
    assert load_error(content_dir).startswith("content/safety.yaml: ")


def test_yaml_syntax_error_names_the_file(content_dir: Path) -> None:
    (content_dir / "workouts.yaml").write_text("workouts: [run, {\n", encoding="utf-8")
    message = load_error(content_dir)
    assert message.startswith("content/workouts.yaml: ") and "YAML syntax error" in message


def test_a_removed_area_still_named_elsewhere_is_an_unknown_id(content_dir: Path) -> None:
    edit(content_dir, "areas.yaml", lambda d: d["areas"].pop("calves"))
    assert (
        load_error(content_dir) == "content/areas.yaml: areas.shins.related[0]: unknown id 'calves'"
    )


def test_area_ids_come_from_the_yaml(content_dir: Path) -> None:
    def add_toes(data: dict[str, Any]) -> None:
        data["areas"]["toes"] = {**data["areas"]["feet"], "synonyms": ["toe", "toes"]}
        data["areas"]["feet"]["synonyms"] = [
            s for s in data["areas"]["feet"]["synonyms"] if "toe" not in s
        ]

    edit(content_dir, "areas.yaml", add_toes)
    assert "toes" in load_library(content_dir).areas


def test_too_few_cues_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "areas.yaml", lambda d: d["areas"]["calves"].update(cues=["Roll."]))
    assert load_error(content_dir) == (
        "content/areas.yaml: areas.calves.cues: expected 2 to 4 items, got 1"
    )


def test_seconds_out_of_range_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "areas.yaml", lambda d: d["areas"]["quads"].update(seconds_per_side=500))
    assert "areas.quads.seconds_per_side: expected 30 to 120, got 500" in load_error(content_dir)


def test_wrong_type_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "areas.yaml", lambda d: d["areas"]["neck"].update(two_sided="no"))
    assert "areas.neck.two_sided: expected true or false, got text" in load_error(content_dir)


def test_empty_string_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "areas.yaml", lambda d: d["areas"]["chest"].update(name="  "))
    assert "areas.chest.name: must not be empty" in load_error(content_dir)


def test_misspelt_key_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "areas.yaml", lambda d: d["areas"]["lats"].update(cautons=[]))
    assert "areas.lats.cautons: unknown key" in load_error(content_dir)


def test_unknown_related_area_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "areas.yaml", lambda d: d["areas"]["calves"].update(related=["ankles"]))
    assert "areas.calves.related[0]: unknown id 'ankles'" in load_error(content_dir)


def test_not_rollable_without_instead_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "areas.yaml", lambda d: d["areas"]["lower_back"].pop("instead"))
    assert "areas.lower_back.instead: required when rollable is false" in load_error(content_dir)


def test_instead_pointing_at_a_non_rollable_area_is_rejected(content_dir: Path) -> None:
    def change(data: dict[str, dict[str, dict[str, object]]]) -> None:
        data["areas"]["upper_back"]["rollable"] = False
        data["areas"]["upper_back"]["instead"] = ["lats"]

    edit(content_dir, "areas.yaml", change)
    assert "'upper_back' is not rollable either" in load_error(content_dir)


def test_synonym_shared_by_two_areas_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "areas.yaml", lambda d: d["areas"]["biceps"]["synonyms"].append("calf"))
    assert "'calf' is already used by 'calves'" in load_error(content_dir)


def test_a_sport_said_like_two_workouts_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "workouts.yaml", lambda d: d["workouts"]["swim"].update(like=["running"]))
    error = load_error(content_dir)
    assert "workouts.yaml" in error and "workouts.swim.like[0]" in error
    assert "'running' is already used by 'run'" in error


def test_uppercase_synonym_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "areas.yaml", lambda d: d["areas"]["quads"]["synonyms"].append("VMO2"))
    assert "areas.quads.synonyms" in load_error(content_dir)


def test_group_with_unknown_area_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "areas.yaml", lambda d: d["groups"].update(legs=["quads", "knees"]))
    assert "groups.legs[1]: unknown id 'knees'" in load_error(content_dir)


def test_a_workout_without_a_name_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "workouts.yaml", lambda d: d["workouts"]["swim"].pop("name"))
    assert load_error(content_dir) == "content/workouts.yaml: workouts.swim.name: missing"


def test_lower_back_in_a_workout_focus_is_rejected(content_dir: Path) -> None:
    def change(data: dict[str, dict[str, dict[str, list[str]]]]) -> None:
        data["workouts"]["run"]["focus"][0] = "lower_back"

    edit(content_dir, "workouts.yaml", change)
    assert "workouts.run.focus: lower_back is never rolled" in load_error(content_dir)


def test_unknown_focus_area_is_rejected(content_dir: Path) -> None:
    fish = ["gills", "fins", "tail", "scales"]
    edit(content_dir, "workouts.yaml", lambda d: d["workouts"]["swim"].update(focus=fish))
    assert "workouts.swim.focus[0]: unknown id 'gills'" in load_error(content_dir)


def test_too_few_massage_reminders_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "massage.yaml", lambda d: d.update(reminders=d["reminders"][:5]))
    assert "reminders: expected at least 8 items, got 5" in load_error(content_dir)


def test_massage_fact_not_covered_is_rejected(content_dir: Path) -> None:
    def change(data: dict[str, list[dict[str, str]]]) -> None:
        for reminder in data["reminders"]:
            if reminder["fact"] == "cost":
                reminder["fact"] = "relaxation"

    edit(content_dir, "massage.yaml", change)
    assert "reminders: no reminder for fact 'cost'" in load_error(content_dir)


def test_escalation_without_days_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "massage.yaml", lambda d: d.update(escalation="Your {area} is sore."))
    assert "escalation: missing placeholder {days}" in load_error(content_dir)


def test_malformed_template_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "messages.yaml", lambda d: d["messages"].update(help="/help {oops"))
    assert "content/messages.yaml: messages.help: bad template" in load_error(content_dir)


def test_help_missing_a_command_is_rejected(content_dir: Path) -> None:
    def change(data: dict[str, dict[str, str]]) -> None:
        data["messages"]["help"] = data["messages"]["help"].replace("/forget", "/wipe")

    edit(content_dir, "messages.yaml", change)
    assert "messages.help: does not mention /forget" in load_error(content_dir)


def test_a_command_the_coach_cannot_answer_stops_it_at_start(content_dir: Path) -> None:
    def add_dance(data: dict[str, Any]) -> None:
        data["commands"]["dance"] = "Dance"
        data["messages"]["help"] += "\n/dance - dance"

    edit(content_dir, "messages.yaml", add_dance)
    with pytest.raises(ContentError, match="commands: no handler for /dance"):
        Coach(MemoryStore(), load_library(content_dir))


def test_safety_reply_without_areas_placeholder_is_rejected(content_dir: Path) -> None:
    edit(content_dir, "safety.yaml", lambda d: d.update(reply="Please stop rolling."))
    assert "content/safety.yaml: reply: missing placeholder {areas}" in load_error(content_dir)


def test_a_schedule_word_for_a_workout_that_does_not_exist_is_rejected(content_dir: Path) -> None:
    edit(
        content_dir, "language.yaml", lambda d: d["schedules"]["workout_words"].update(yoga="yoga")
    )
    assert "schedules.workout_words.yoga: unknown workout 'yoga'" in load_error(content_dir)

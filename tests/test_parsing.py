"""Behaviour of `bot.core.parsing.parse_message`, the free-text message parser.

Each test names one behaviour from the "Message parser" contract in shared/design.md and is
parametrized with a handful of messages written the way people text a coach.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.content import default_library
from bot.core.parsing import BREAK_TOKEN, Lexicon, parse_message, tokenize
from tests.contract import AREA_IDS as CONTRACT_AREA_IDS

CASES_FILES = sorted((Path(__file__).parent / "data").glob("parser_cases*.jsonl"))


def _case_rows() -> list[dict[str, object]]:
    return [
        json.loads(line)
        for path in CASES_FILES
        for line in path.read_text("utf-8").splitlines()
        if line
    ]


INTENTS = {"soreness", "which_area", "massage", "other"}
AREA_IDS = set(CONTRACT_AREA_IDS)


# --- severity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "area", "severity"),
    [
        ("calves 6/10", "calves", 6),
        ("quads 7 out of 10", "quads", 7),
        ("lats are a 6 today", "lats", 6),
        ("traps like 6", "traps", 6),
        ("delts 8 / 10", "shoulders", 8),
        ("shins at 4/10", "shins", 4),
        ("Calves 6 outta 10", "calves", 6),
        ("glutes 10/10", "glutes", 10),
        ("hammys 6ish", "hamstrings", 6),
    ],
)
def test_numbers_are_taken_as_given(text: str, area: str, severity: int) -> None:
    assert parse_message(text).soreness[area] == severity


@pytest.mark.parametrize(
    ("text", "area", "severity"),
    [
        ("pecs seven out of ten", "chest", 7),
        ("six out of ten in my traps", "traps", 6),
        ("hamstrings are a three", "hamstrings", 3),
    ],
)
def test_numbers_written_as_words_are_taken_as_given(text: str, area: str, severity: int) -> None:
    assert parse_message(text).soreness[area] == severity


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("calves a bit tight", "calves"),
        ("shins mildly sore", "shins"),
        ("hamstrings slightly sore", "hamstrings"),
        ("neck stiff", "neck"),
        ("arches a little tight", "feet"),
        ("mild soreness in my biceps", "biceps"),
    ],
)
def test_mild_words_mean_about_three(text: str, area: str) -> None:
    assert abs(parse_message(text).soreness[area] - 3) <= 1


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("calves sore", "calves"),
        ("forearms achy", "forearms"),
        ("shoulders hurt", "shoulders"),
        ("feet are aching after standing all day", "feet"),
        ("sore glutes", "glutes"),
    ],
)
def test_unqualified_soreness_means_about_five(text: str, area: str) -> None:
    assert abs(parse_message(text).soreness[area] - 5) <= 1


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("quads very sore", "quads"),
        ("lats really sore", "lats"),
        ("glutes super sore", "glutes"),
        ("biceps pretty sore", "biceps"),
        ("hip flexors super tight from sitting", "hip_flexors"),
    ],
)
def test_intensified_soreness_means_about_seven(text: str, area: str) -> None:
    assert abs(parse_message(text).soreness[area] - 7) <= 1


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("calves killing me", "calves"),
        ("quads wrecked", "quads"),
        ("lats destroyed from pull ups", "lats"),
        ("calves worst ever", "calves"),
        ("QUADS ARE DESTROYED", "quads"),
        ("I can't walk, quads wrecked", "quads"),
        ("worst DOMS ever in my quads", "quads"),
        ("hamstrings so sore I can't walk", "hamstrings"),
    ],
)
def test_extreme_words_mean_about_nine(text: str, area: str) -> None:
    assert abs(parse_message(text).soreness[area] - 9) <= 1


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("shoulders hurt", "shoulders"),
        ("my calf went numb on the bike", "calves"),
        ("sharp pain in my quad", "quads"),
    ],
)
def test_area_named_without_severity_word_gets_five(text: str, area: str) -> None:
    assert parse_message(text).soreness[area] == 5


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("quads are fine now", "quads"),
        ("hamstrings no longer sore", "hamstrings"),
        ("back not sore anymore", "lower_back"),
        ("quads feel ok today", "quads"),
        ("calves are good now", "calves"),
        ("lats recovered", "lats"),
        ("glutes don't hurt anymore", "glutes"),
        ("hamstring soreness is gone", "hamstrings"),
        ("neck is all better", "neck"),
        ("quads were sore yesterday but feel fine today", "quads"),
    ],
)
def test_negated_area_is_reported_as_zero(text: str, area: str) -> None:
    assert parse_message(text).soreness[area] == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("calves 8/10, hamstrings 4/10, quads fine", {"calves": 8, "hamstrings": 4, "quads": 0}),
        ("glutes a 7 and hip flexors like 3", {"glutes": 7, "hip_flexors": 3}),
        ("left hamstring 5/10 and right calf 3/10", {"hamstrings": 5, "calves": 3}),
        ("quads 8, hamstrings 5, calves 2", {"quads": 8, "hamstrings": 5, "calves": 2}),
        ("traps like 6, neck is fine", {"traps": 6, "neck": 0}),
        ("quads: 8. hamstrings: 5. calves: 2.", {"quads": 8, "hamstrings": 5, "calves": 2}),
    ],
)
def test_each_area_keeps_its_own_severity(text: str, expected: dict[str, int]) -> None:
    assert parse_message(text).soreness == expected


@pytest.mark.parametrize(
    ("text", "area", "severity"),
    [
        ("calves really sore, like 8/10", "calves", 8),
        ("shins hurt 7/10", "shins", 7),
        ("hamstrings tight, maybe a 4", "hamstrings", 4),
    ],
)
def test_a_number_beats_a_severity_word(text: str, area: str, severity: int) -> None:
    assert parse_message(text).soreness[area] == severity


# --- areas ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("left calf sore", "right calf sore"),
        ("left quad 6/10", "right quad 6/10"),
        ("left hamstring a bit tight", "right hamstring a bit tight"),
        ("left and right hamstrings sore", "both hamstrings sore"),
    ],
)
def test_left_and_right_map_to_the_same_area(left: str, right: str) -> None:
    assert parse_message(left).soreness == parse_message(right).soreness != {}


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("my hamstrngs are sore", "hamstrings"),
        ("clafs sore", "calves"),
        ("sholders sore", "shoulders"),
        ("glutse sore", "glutes"),
        ("quadz sore", "quads"),
        ("forarms sore", "forearms"),
        ("tricpes sore", "triceps"),
        ("calfs sore", "calves"),
        ("hip flexers tight", "hip_flexors"),
    ],
)
def test_misspelt_area_is_understood(text: str, area: str) -> None:
    assert set(parse_message(text).soreness) == {area}


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("hammies sore", "hamstrings"),
        ("pecs sore", "chest"),
        ("delts sore", "shoulders"),
        ("my butt is sore", "glutes"),
        ("bum sore", "glutes"),
        ("bis sore", "biceps"),
        ("lats sore", "lats"),
        ("traps sore", "traps"),
        ("tris sore", "triceps"),
    ],
)
def test_slang_area_name_is_understood(text: str, area: str) -> None:
    assert set(parse_message(text).soreness) == {area}


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("lowerback sore", "lower_back"),
        ("upperback sore", "upper_back"),
        ("itband sore", "it_band"),
        ("it-band sore", "it_band"),
    ],
)
def test_area_name_written_as_one_word_is_understood(text: str, area: str) -> None:
    assert set(parse_message(text).soreness) == {area}


@pytest.mark.parametrize(
    "text", ["back sore", "my back is stiff", "back's killing me", "back hurts", "back is sore"]
)
def test_back_alone_means_lower_back(text: str) -> None:
    assert set(parse_message(text).soreness) == {"lower_back"}


@pytest.mark.parametrize(
    "text", ["back of my neck is stiff", "back of my neck sore", "six out of ten in my neck"]
)
def test_back_of_my_neck_is_the_neck(text: str) -> None:
    assert set(parse_message(text).soreness) == {"neck"}


@pytest.mark.parametrize(
    "text", ["back of my thighs are sore", "back of my thigh is tight", "backs of my thighs ache"]
)
def test_back_of_the_thighs_are_the_hamstrings(text: str) -> None:
    assert set(parse_message(text).soreness) == {"hamstrings"}


@pytest.mark.parametrize(
    ("text", "areas"),
    [
        ("legs sore", {"quads", "hamstrings", "calves"}),
        ("legs are sore after the half marathon", {"quads", "hamstrings", "calves"}),
        ("thighs sore", {"quads", "hamstrings"}),
        ("thighs are really sore from squats", {"quads", "hamstrings"}),
        ("hips sore", {"hip_flexors", "glutes"}),
        ("hips are tight from sitting", {"hip_flexors", "glutes"}),
    ],
)
def test_group_words_name_several_areas(text: str, areas: set[str]) -> None:
    assert set(parse_message(text).soreness) == areas


@pytest.mark.parametrize(
    "text",
    [
        "my leg is sore",
        "my arm is sore",
        "my left leg is sore after the run",
        "knee is a bit sore after the run",
        ("back of my leg feels tight"),
    ],
)
def test_leg_arm_and_joints_are_a_report_with_no_area(text: str) -> None:
    parsed = parse_message(text)
    assert (parsed.intent, parsed.soreness) == ("soreness", {})


# --- red flags ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "my calf went numb on the bike",
        "tingling in my forearm",
        "pins and needles in my foot",
        "shooting pain down my hamstring",
        "pain radiates into my glute",
        "sharp pain in my quad",
        "stabbing pain in my shoulder",
        "my knee is swollen",
        "bruised my shin when I fell",
        "heard a pop in my calf",
        "felt something snap in my hamstring",
        "fell off my bike, shoulder sore",
        "crashed my bike, neck hurts",
        "can't bear weight on my ankle",
        "my leg feels weak",
        "chest pain after intervals",
        "bladder problems since my back went",
        "bowel changes and lower back pain",
        ("something popped in my shoulder"),
        ("came off the bike, neck hurts"),
        ("can't put any weight on my foot"),
        ("left leg went weak"),
        ("pins n needles in my hands"),
    ],
)
def test_red_flag_is_detected(text: str) -> None:
    assert parse_message(text).red_flag


@pytest.mark.parametrize(
    "text",
    [
        "sharp pain in my quad",
        "my knee is swollen",
        "chest pain after intervals",
        ("left leg went weak"),
    ],
)
def test_red_flag_report_is_never_other(text: str) -> None:
    parsed = parse_message(text)
    assert parsed.red_flag
    assert parsed.intent == "soreness"


@pytest.mark.parametrize(
    "text",
    [
        "no tingling, calves sore",
        "no numbness in my feet, just achy",
        "not numb, traps stiff",
        "didn't fall, shoulders sore",
        "no pins and needles, lower back tight",
        "no shooting pain, hamstrings tight",
        "no swelling, calves achy",
        "didn't hear a pop, hamstring sore",
        "nothing snapped, adductors tight",
        "the swelling has gone down in my calf",
        ("no chest pain, just sore pecs"),
        ("the swelling went down, calf sore"),
    ],
)
def test_negated_red_flag_is_not_a_red_flag(text: str) -> None:
    assert not parse_message(text).red_flag


@pytest.mark.parametrize(
    "text",
    [
        "fell asleep on the couch, calves sore",
        "went shooting hoops, shoulders sore",
        "chest day wrecked my pecs",
        ("crashed on the sofa, quads achy"),
        ("beautiful fall run, calves tight"),
        ("gonna pop to the gym after work"),
    ],
)
def test_harmless_use_of_a_red_flag_word_is_not_a_red_flag(text: str) -> None:
    assert not parse_message(text).red_flag


@pytest.mark.parametrize(
    "text",
    [
        "my arm goes dead when I roll my lats",
        "hand went dead halfway through the ride",
        "fingers keep going dead on the bars",
        "my arm goes completely dead when i roll my lats",
        "fingers go numb when i roll my traps",
        "hand goes numb on the bike",
        "pins and needles in my calf",
        "getting zaps down my leg when i roll my glutes",
        "zapping feeling in my forearm",
        "electric feeling down my arm",
        "like an electric shock in my hamstring",
        "my foot loses feeling on long rides",
        "can't feel my toes after rolling my calves",
        "can't really feel my fingers",
        "buzzing down my arm",
        "nerve pain in my glute",
        "think i hit a nerve rolling my it band",
        "weird nerve feeling in my shin",
        "my leg goes to sleep when I roll my glutes",
        "my butt fell asleep on the bike",
        "calf went dead when i rolled it",
        "my legs go dead when i sit on the loo",
    ],
)
def test_nerve_symptoms_said_loosely_are_red_flags(text: str) -> None:
    parsed = parse_message(text)
    assert parsed.red_flag
    assert parsed.intent == "soreness"


def test_the_place_rolled_when_a_limb_goes_dead_is_not_rated_by_the_dead_word() -> None:
    parsed = parse_message("my arm goes dead when I roll my lats")
    assert (parsed.red_flag, parsed.soreness) == (True, {"lats": 5})


@pytest.mark.parametrize(
    ("text", "soreness"),
    [
        ("my legs are dead after the race", {"quads": 9, "hamstrings": 9, "calves": 9}),
        ("quads are dead", {"quads": 9}),
        ("legs feel dead", {"quads": 9, "hamstrings": 9, "calves": 9}),
        ("legs went dead at mile 20", {"quads": 9, "hamstrings": 9, "calves": 9}),
        ("quads went completely dead on the last climb", {"quads": 9}),
        ("dead lifts today, hamstrings sore", {"hamstrings": 5}),
        ("deadlifts wrecked my lower back", {"lower_back": 9}),
    ],
)
def test_tired_muscles_said_dead_are_soreness_not_a_red_flag(
    text: str, soreness: dict[str, int]
) -> None:
    parsed = parse_message(text)
    assert (parsed.intent, parsed.soreness, parsed.red_flag) == ("soreness", soreness, False)


@pytest.mark.parametrize(
    "text",
    [
        "buzzing for the race tomorrow, calves tight",
        "pre race nerves, hamstrings tight",
        "nerve wracking week, traps tight",
        "went to sleep early, quads tight",
        "kid goes to sleep at 7 so i roll then, calves tight",
        "phone went dead so no strava, calves sore",
        "electric bike commute, quads achy",
        "can't feel any difference after rolling my calves",
    ],
)
def test_everyday_words_near_nerve_symptoms_are_not_red_flags(text: str) -> None:
    assert not parse_message(text).red_flag


# --- intents --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "soreness"),
    [
        ("quads are sore, what should I roll?", {"quads": 5}),
        ("calves really sore, what do I roll before my run?", {"calves": 7}),
        ("what should I roll? hamstrings are tight", {"hamstrings": 3}),
        ("neck's killing me, what can I roll?", {"neck": 9}),
        ("where should I roll for sore feet", {"feet": 5}),
    ],
)
def test_question_about_rolling_wins_over_soreness(text: str, soreness: dict[str, int]) -> None:
    parsed = parse_message(text)
    assert parsed.intent == "which_area"
    assert parsed.soreness == soreness


@pytest.mark.parametrize(
    ("text", "workout"),
    [
        ("leg day tomorrow, what should I roll", "lower_body"),
        ("leg press later, what to roll", "lower_body"),
        ("back day later, what to roll", "upper_body"),
        ("chest day tonight, what should I roll?", "upper_body"),
        ("arm day tomorrow, what to roll first?", "upper_body"),
    ],
)
def test_leg_day_names_a_workout_not_an_area(text: str, workout: str) -> None:
    parsed = parse_message(text)
    assert parsed.workout == workout
    assert parsed.soreness == {}


@pytest.mark.parametrize(
    ("text", "workout"),
    [
        ("what should I roll before my run", "run"),
        ("what should I roll before a jog", "run"),
        ("what should I roll before my bike ride", "cycle"),
        ("what should I roll before spin class", "cycle"),
        ("what should I roll before swimming", "swim"),
        ("what should I roll before laps in the pool", "swim"),
        ("what should I roll before squats", "lower_body"),
        ("what should I roll before bench", "upper_body"),
        ("what should I roll before pull-ups", "upper_body"),
        ("what should I roll before push day", "upper_body"),
        ("what should I roll before a full body workout", "full_body"),
        ("what should I roll before a total-body session", "full_body"),
    ],
)
def test_workout_is_understood_however_it_is_named(text: str, workout: str) -> None:
    assert parse_message(text).workout == workout


@pytest.mark.parametrize(
    ("text", "workout"),
    [
        ("which areas to roll before my 5k", "run"),
        ("10k tomorrow, what should I roll", "run"),
        ("what should I roll before bench on the 14th", "upper_body"),
        ("3x10 squats later, what should I roll", "lower_body"),
        ("what do I roll, 2.5 hours till my swim", "swim"),
    ],
)
def test_numbers_with_units_are_not_mistaken_for_a_run(text: str, workout: str) -> None:
    assert parse_message(text).workout == workout


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("got 12 mins, what should I roll", 12),
        ("ten minutes, what do I roll", 10),
        ("quarter of an hour before my run, what to roll", 15),
        ("half an hour, what should I roll", 30),
        ("I have 5 min, what to roll", 5),
        ("twenty minutes to roll, which areas", 20),
        ("fifteen mins, what to roll", 15),
    ],
)
def test_minutes_are_read_from_words_and_digits(text: str, minutes: int) -> None:
    assert parse_message(text).minutes == minutes


@pytest.mark.parametrize(
    ("text", "minutes", "workout"),
    [
        ("I have 7 min before leg day", 7, "lower_body"),
        ("10 min before my run", 10, "run"),
        ("half an hour before my run", 30, "run"),
        ("got 15 mins", 15, None),
        ("only 5 minutes today, legs", 5, None),
        ("quarter of an hour before spin", 15, "cycle"),
        ("got an hour before my long run", 60, "run"),
        ("a couple of minutes before squats", 2, "lower_body"),
        ("twenty minutes before my ride", 20, "cycle"),
        ("twenty five mins free before pull day", 25, "upper_body"),
        ("i've only got like 10 mins b4 bench", 10, "upper_body"),
        ("leg day in 20 min", 20, "lower_body"),
        ("got 3 min before my run", 3, "run"),  # as said: the coach clamps to 5-20
    ],
)
def test_a_time_budget_alone_asks_which_area(
    text: str, minutes: int | None, workout: str | None
) -> None:
    parsed = parse_message(text)
    assert (parsed.intent, parsed.minutes, parsed.workout) == ("which_area", minutes, workout)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("ran for 30 min", "other"),
        ("did a 10 min run yesterday", "other"),
        ("my calves hurt 10 min into my run", "soreness"),
        ("booked a 60 min massage", "massage"),
        ("10 min late", "other"),
        ("the massage was 90 minutes", "massage"),
        ("remind me 20 minutes before", "other"),
        ("snooze 15 min", "other"),
        ("tempo run in an hour", "other"),
        ("10 min before my run my calf started hurting", "soreness"),
        ("had 10 min before my run so i rolled my calves", "other"),
        ("got 10 min before my ride but my hand keeps going dead", "soreness"),
    ],
)
def test_minutes_said_in_other_roles_are_not_a_routine_request(text: str, intent: str) -> None:
    parsed = parse_message(text)
    assert (parsed.intent, parsed.minutes) == (intent, None)


@pytest.mark.parametrize(
    ("text", "minutes", "workout"),
    [("/roll", None, None), ("/roll 10", 10, None), ("/roll 15 run", 15, "run")],
)
def test_roll_command_asks_which_area(text: str, minutes: int | None, workout: str | None) -> None:
    parsed = parse_message(text)
    assert (parsed.intent, parsed.minutes, parsed.workout) == ("which_area", minutes, workout)


@pytest.mark.parametrize(
    "text",
    [
        "had a massage yesterday",
        "just had a deep tissue massage",
        "massage booked for tuesday 3pm",
        "booked a sports massage for next week",
        "seeing my massage therapist on friday",
        ("just back from my massage, feel amazing"),
        ("after my massage today I feel loose"),
    ],
)
def test_massage_had_or_booked_is_a_massage_report(text: str) -> None:
    assert parse_message(text).intent == "massage"


@pytest.mark.parametrize(
    "text",
    [
        "how often should I get a massage?",
        "is massage better than foam rolling?",
        "should I book a massage?",
        "do I need a massage this week?",
        "when was my last massage?",
    ],
)
def test_question_about_massage_is_other(text: str) -> None:
    assert parse_message(text).intent == "other"


@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "thanks!",
        "good morning",
        "move my tuesday workout to 7pm",
        "set my timezone to Europe/London",
        "/pause",
        "/export",
        "tell me a joke",
        "",
        "   ",
        ("how much is a foam roller"),
        ("which foam roller should I buy?"),
    ],
)
def test_greetings_settings_and_off_topic_are_other(text: str) -> None:
    assert parse_message(text).intent == "other"


# --- the labeled file and robustness --------------------------------------------------------


@lru_cache(maxsize=1)
def _case_metrics() -> dict[str, float]:
    rows = _case_rows()
    intent_ok = tp = fp = fn = red_tp = red_fn = 0
    for row in rows:
        parsed = parse_message(row["text"])
        intent_ok += parsed.intent == row["intent"]
        gold, got = set(row["soreness"]), set(parsed.soreness)
        tp, fp, fn = tp + len(gold & got), fp + len(got - gold), fn + len(gold - got)
        if row["red_flag"]:
            red_tp += parsed.red_flag
            red_fn += not parsed.red_flag
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "intent_accuracy": intent_ok / len(rows),
        "area_f1": f1,
        "red_flag_recall": red_tp / (red_tp + red_fn) if red_tp + red_fn else 1.0,
    }


def test_parser_cases_files_hold_2156_well_formed_labeled_messages() -> None:
    rows = _case_rows()
    assert len(rows) == 2156
    for row in rows:
        assert set(row) == {"text", "intent", "soreness", "red_flag", "minutes", "workout"}
        assert row["intent"] in INTENTS
        assert set(row["soreness"]) <= AREA_IDS


@pytest.mark.parametrize(
    ("metric", "threshold"),
    [
        ("intent_accuracy", 0.90),
        ("area_f1", 0.92),
        ("red_flag_recall", 1.0),
    ],
)
def test_parser_cases_meet_aggregate_thresholds(metric: str, threshold: float) -> None:
    assert _case_metrics()[metric] >= threshold


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=10_000))
def test_any_text_up_to_10000_chars_parses_without_error(text: str) -> None:
    parsed = parse_message(text)
    assert parsed.intent in INTENTS
    assert set(parsed.soreness) <= AREA_IDS
    assert all(0 <= severity <= 10 for severity in parsed.soreness.values())


def test_every_vocabulary_phrase_is_made_of_words() -> None:
    """A phrase with punctuation or only numbers ("100%") would match any number followed
    by a comma; the content library must not contain one."""
    lexicon = Lexicon.build(default_library())
    phrases = [phrase for entries in lexicon.phrases.values() for phrase, _ in entries]
    phrases += [(word,) for word in lexicon.single]
    for phrase in phrases:
        assert BREAK_TOKEN not in phrase, phrase
        assert any(not word.startswith("#") for word in phrase), phrase


def test_every_red_flag_term_keeps_a_meaningful_word() -> None:
    """Filler words ("my", "the", "right") are dropped before matching, so a term like
    "right down to" would shrink to "down to" and flag "down to a 3"."""
    glue = {"down", "to", "up", "on", "in", "of", "a", "an", "at", "into", "over", "it", "i"}
    lexicon = Lexicon.build(default_library())
    for kind in default_library().safety.flags:
        for term in kind.terms:
            words = [w for w in _canonical(lexicon, term) if w not in glue]
            assert words, f"{kind.id}: {term!r} is only glue once fillers are dropped"


def _canonical(lexicon: Lexicon, text: str) -> list[str]:
    return tokenize(text, lexicon.token, lexicon.canonical).words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my hamstrings were 7 yesterday but today they're 4", {"hamstrings": 4}),
        ("hamstrings were 7 yesterday, today 4", {"hamstrings": 4}),
        ("back feels great now", {"lower_back": 0}),
        ("lower legs are sore", {"calves": 5, "shins": 5}),
    ],
)
def test_the_latest_level_said_and_a_recovered_area_are_read(
    text: str, expected: dict[str, int]
) -> None:
    assert parse_message(text).soreness == expected

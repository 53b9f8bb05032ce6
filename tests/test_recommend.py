"""Which area should I roll? Ranking, time budget, safety and words, on a fixed clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from bot.core.content import Library, default_library
from bot.core.recommend import (
    DEFAULT_MINUTES,
    GO_LIGHT,
    HALF_LIFE,
    MAX_MINUTES,
    MIN_MINUTES,
    RED_FLAG_EXCLUSION,
    Escalation,
    Recommendation,
    current_soreness,
    day_words,
    escalations,
    recommend,
)
from bot.core.records import RedFlagEvent, SorenessReport
from tests.contract import AREA_IDS

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday
_ids = count(1)


@pytest.fixture(scope="module")
def library() -> Library:
    return default_library()


def sore(area: str, severity: int, ago: timedelta = timedelta(0)) -> SorenessReport:
    """A report of `area` at `severity`, `ago` before NOW."""
    return SorenessReport(id=next(_ids), user_id=1, area=area, severity=severity, at=NOW - ago)


def history(*reports: SorenessReport) -> list[SorenessReport]:
    """Reports oldest first, as the store returns them."""
    return sorted(reports, key=lambda r: (r.at, r.id))


def red_flag(*areas: str, ago: timedelta = timedelta(days=1)) -> RedFlagEvent:
    return RedFlagEvent(id=next(_ids), user_id=1, at=NOW - ago, areas=areas, text="it went numb")


def daily(area: str, severities: Sequence[int]) -> list[SorenessReport]:
    """One report a day, the last one today: severities oldest first."""
    last = len(severities) - 1
    return history(*(sore(area, s, timedelta(days=last - i)) for i, s in enumerate(severities)))


def roll(library: Library, reports: Sequence[SorenessReport] = (), **kwargs: Any) -> Recommendation:
    kwargs.setdefault("red_flags", ())
    return recommend(library, reports=reports, now=NOW, **kwargs)


def ids(rec: Recommendation) -> list[str]:
    return [pick.area.id for pick in rec.picks]


# --- current_soreness -------------------------------------------------------------------


def test_soreness_halves_every_half_life() -> None:
    got = current_soreness(history(sore("calves", 8, HALF_LIFE)), NOW)
    assert got == {"calves": pytest.approx(4.0)}


def test_soreness_after_three_days_counts_an_eighth() -> None:
    got = current_soreness(history(sore("quads", 8, 3 * HALF_LIFE)), NOW)
    assert got["quads"] == pytest.approx(1.0)


def test_soreness_faded_below_half_is_dropped() -> None:
    assert current_soreness(history(sore("quads", 3, timedelta(days=3))), NOW) == {}


def test_soreness_older_than_seven_days_is_ignored() -> None:
    reports = history(sore("calves", 10, timedelta(days=7, minutes=1)))
    assert current_soreness(reports, NOW) == {}


def test_latest_report_is_the_truth_and_fine_now_cancels() -> None:
    reports = history(
        sore("hamstrings", 8, timedelta(hours=10)), sore("hamstrings", 0, timedelta(hours=1))
    )
    assert current_soreness(reports, NOW) == {}


def test_latest_report_wins_even_when_lower_than_a_fresher_decay() -> None:
    reports = history(sore("calves", 9, timedelta(hours=30)), sore("calves", 2, timedelta(hours=2)))
    assert current_soreness(reports, NOW)["calves"] == pytest.approx(2 * 0.5 ** (2 / 24))


def test_reports_after_now_beyond_the_clock_slack_are_ignored() -> None:
    future = SorenessReport(id=1, user_id=1, area="calves", severity=6, at=NOW + timedelta(hours=1))
    assert current_soreness([future], NOW) == {}


def test_a_report_a_second_in_the_future_counts_as_now() -> None:
    report = SorenessReport(
        id=1, user_id=1, area="calves", severity=6, at=NOW + timedelta(seconds=1)
    )
    assert current_soreness([report], NOW) == {"calves": 6.0}


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        current_soreness([], NOW.replace(tzinfo=None))


# --- scoring and ranking ----------------------------------------------------------------


def test_sorest_area_comes_first(library: Library) -> None:
    rec = roll(
        library,
        history(sore("forearms", 4, timedelta(hours=3)), sore("neck", 7, timedelta(hours=3))),
    )
    assert ids(rec)[:2] == ["neck", "forearms"]
    assert rec.picks[0].reason == "sore 7/10 today"


def test_workout_focus_bonus_orders_by_focus_position(library: Library) -> None:
    rec = roll(library, workout="run", minutes=MAX_MINUTES)
    assert ids(rec)[:6] == list(library.workouts["run"].focus)
    assert rec.picks[0].reason == "your run's focus"


def test_soreness_adds_to_the_focus_bonus(library: Library) -> None:
    # shins are last in the run focus (1.5) but 5/10 today lifts them to 6.5, above calves (4).
    rec = roll(library, history(sore("shins", 5)), workout="run")
    assert ids(rec)[:2] == ["shins", "calves"]
    assert rec.picks[0].reason == "sore 5/10 today; your run's focus"


def test_asked_areas_get_a_bonus_of_five(library: Library) -> None:
    # biceps asked (5) beat calves at run focus (4) but not quads sore 6/10 today (6).
    rec = roll(library, history(sore("quads", 6)), workout="run", asked_areas=["biceps"])
    assert ids(rec)[:3] == ["quads", "biceps", "calves"]
    assert "you asked about it" in rec.picks[1].reason


def test_ties_go_by_focus_order_then_area_order(library: Library) -> None:
    # run focus: hamstrings (3.5 + 1) tie quads (3 + 1.5), and it_band (2) ties feet (sore 2):
    # focus order wins, and a focus area beats a non-focus one even earlier in AREA_IDS.
    reports = history(sore("hamstrings", 1), sore("quads", 3, timedelta(hours=24)), sore("feet", 2))
    assert current_soreness(reports, NOW)["quads"] == pytest.approx(1.5)
    rec = roll(library, reports, workout="run", minutes=MAX_MINUTES)
    order = ids(rec)
    assert order[:3] == ["hamstrings", "quads", "calves"]
    assert order.index("it_band") + 1 == order.index("feet")
    # Outside any focus, equal soreness goes by AREA_IDS order.
    rec = roll(library, history(sore("forearms", 6), sore("calves", 6), sore("chest", 6)))
    assert ids(rec)[:3] == ["calves", "chest", "forearms"]


def test_nothing_sore_and_no_workout_gives_a_general_warm_up(library: Library) -> None:
    rec = roll(library)
    assert ids(rec)[:5] == list(library.workouts["full_body"].focus)[:5]
    assert rec.explanation == "Nothing is sore, so this is a general full-body warm-up."
    assert rec.workout is None
    assert all(pick.reason == "general warm-up" for pick in rec.picks)


def test_nothing_sore_with_a_workout_warms_up_for_it(library: Library) -> None:
    at = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # Thursday
    rec = roll(library, workout="lower_body", workout_at=at + timedelta(days=1))
    assert ids(rec)[0] == "quads"
    assert rec.explanation.startswith("Nothing is sore, so this is a general warm-up for your ")
    assert rec.explanation.endswith("on Fri at 07:00.")


def test_very_sore_area_is_included_with_a_go_light_reason_and_note(library: Library) -> None:
    rec = roll(library, history(sore("quads", 9, timedelta(hours=2))))
    assert ids(rec)[0] == "quads"
    assert GO_LIGHT in rec.picks[0].reason
    assert any("quads are very sore" in note and GO_LIGHT in note for note in rec.notes)


def test_sore_but_not_very_sore_gets_no_go_light(library: Library) -> None:
    rec = roll(library, history(sore("quads", 9, timedelta(hours=24))))  # decays to 4.5
    assert GO_LIGHT not in rec.picks[0].reason
    assert rec.notes == ()


# --- the lower back ---------------------------------------------------------------------


def test_lower_back_is_never_picked_and_its_score_goes_around_it(library: Library) -> None:
    rec = roll(library, history(sore("lower_back", 8, timedelta(hours=1))), minutes=MAX_MINUTES)
    assert "lower_back" not in ids(rec)
    instead = library.areas["lower_back"].instead
    assert set(ids(rec)[: len(instead)]) == set(instead)
    assert all("eases your lower back" in pick.reason for pick in rec.picks[: len(instead)])
    note = next(n for n in rec.notes if "lumbar spine" in n)
    assert "never rolled directly" in note
    for area_id in instead:
        assert library.areas[area_id].name.lower() in note.lower()
    assert rec.explanation.startswith("Your lower back was 8/10 today")


def test_lower_back_share_is_split_evenly(library: Library) -> None:
    # 10/5 = 2 each: with a run, glutes (2.5 + 2) rise above quads (3) and calves (4) stay on top.
    rec = roll(library, history(sore("lower_back", 10)), workout="run")
    assert ids(rec)[:4] == ["hamstrings", "glutes", "calves", "quads"]
    note = next(n for n in rec.notes if "lumbar spine" in n)
    assert "hamstrings" in note and "glutes" in note and "calves" not in note


def test_asking_about_the_back_works_the_areas_around_it(library: Library) -> None:
    rec = roll(library, asked_areas=["lower_back"])
    assert "lower_back" not in ids(rec)
    assert set(ids(rec)[:5]) == set(library.areas["lower_back"].instead)
    assert rec.explanation == "You asked about your lower back, so this works the areas around it."
    assert any("lumbar spine is never rolled directly" in note for note in rec.notes)


def test_no_lower_back_note_when_the_back_is_not_sore(library: Library) -> None:
    rec = roll(library, history(sore("calves", 6)))
    assert not any("lumbar" in note for note in rec.notes)


# --- red flags --------------------------------------------------------------------------


def test_red_flag_area_is_excluded_and_named(library: Library) -> None:
    reports = history(
        sore("hamstrings", 9, timedelta(hours=2)), sore("calves", 4, timedelta(hours=2))
    )
    rec = roll(library, reports, workout="run", red_flags=[red_flag("hamstrings")])
    assert "hamstrings" not in ids(rec)
    assert rec.excluded == ("hamstrings",)
    assert any("Left out your hamstrings (red flag yesterday)" in note for note in rec.notes)
    assert ids(rec)[0] == "calves"


def test_red_flag_older_than_the_exclusion_window_no_longer_excludes(library: Library) -> None:
    old = red_flag("calves", ago=RED_FLAG_EXCLUSION + timedelta(minutes=1))
    recent = red_flag("calves", ago=RED_FLAG_EXCLUSION - timedelta(minutes=1))
    assert roll(library, workout="run", red_flags=[old]).excluded == ()
    assert roll(library, workout="run", red_flags=[recent]).excluded == ("calves",)


def test_red_flag_without_areas_excludes_nothing(library: Library) -> None:
    rec = roll(library, history(sore("calves", 6)), red_flags=[red_flag()])
    assert rec.excluded == ()
    assert ids(rec)[0] == "calves"
    assert not any("Left out" in note for note in rec.notes)


def test_red_flag_on_the_lower_back_does_not_push_rolling_around_it(library: Library) -> None:
    rec = roll(library, history(sore("lower_back", 9)), red_flags=[red_flag("lower_back")])
    assert rec.excluded == ("lower_back",)
    assert not any("eases your lower back" in pick.reason for pick in rec.picks)
    assert "lower back left out" in rec.explanation


def test_asked_area_with_a_red_flag_stays_out(library: Library) -> None:
    rec = roll(library, asked_areas=["neck"], red_flags=[red_flag("neck", ago=timedelta(days=3))])
    assert "neck" not in ids(rec)
    assert any("neck (red flag 3 days ago)" in note for note in rec.notes)


# --- the time budget --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "budget"),
    [(None, DEFAULT_MINUTES), (1, MIN_MINUTES), (0, 5), (-3, 5), (45, MAX_MINUTES), (12, 12)],
)
def test_minutes_are_clamped_to_five_to_twenty(
    library: Library, minutes: int | None, budget: int
) -> None:
    rec = roll(library, minutes=minutes)
    assert rec.minutes == budget
    assert rec.seconds <= budget * 60


def test_each_area_gets_its_content_time_and_the_last_one_the_rest(library: Library) -> None:
    # run focus: calves 120, hamstrings 120, quads 120 = 360 of 420 s; glutes (120) gets 60.
    rec = roll(library, workout="run", minutes=7)
    assert [(p.area.id, p.seconds) for p in rec.picks] == [
        ("calves", 120),
        ("hamstrings", 120),
        ("quads", 120),
        ("glutes", 60),
    ]


def test_remaining_time_is_rounded_down_to_fifteen_seconds(library: Library) -> None:
    # full-body default: quads, glutes, hamstrings (360) + upper_back, lats (180) = 540 of 600;
    # chest (90) gets the last 60. At 11 min: 540 + chest 90 = 630, 30 s left -> stop.
    rec = roll(library, minutes=10)
    assert rec.picks[-1].area.id == "chest" and rec.picks[-1].seconds == 60
    rec = roll(library, minutes=11)
    assert rec.seconds == 630
    assert all(pick.seconds % 15 == 0 for pick in rec.picks)


def test_walk_stops_when_under_45_seconds_remain(library: Library) -> None:
    # run focus at 10 min: 4 x 120 + it_band 90 = 570; 30 s left is too little for shins.
    rec = roll(library, workout="run", minutes=10)
    assert ids(rec) == ["calves", "hamstrings", "quads", "glutes", "it_band"]
    assert rec.seconds == 570


def test_total_never_exceeds_the_budget_and_more_minutes_never_fewer_areas(
    library: Library,
) -> None:
    scenarios: list[dict[str, Any]] = [
        {},
        {"workout": "swim"},
        {"workout": "run", "reports": history(sore("neck", 9), sore("lower_back", 6))},
        {"asked_areas": ["feet", "traps"], "red_flags": [red_flag("quads", "glutes")]},
    ]
    for scenario in scenarios:
        previous = 0
        for minutes in range(MIN_MINUTES, MAX_MINUTES + 1):
            rec = roll(library, minutes=minutes, **scenario)
            assert len(rec.picks) >= 1
            assert rec.seconds <= minutes * 60
            assert len(rec.picks) >= previous
            previous = len(rec.picks)


def test_at_least_one_area_even_with_most_areas_flagged(library: Library) -> None:
    flagged = [a for a in AREA_IDS if a != "forearms"]
    rec = roll(library, minutes=5, red_flags=[red_flag(*flagged)])
    assert ids(rec) == ["forearms"]
    assert rec.seconds == library.areas["forearms"].seconds


# --- explanation ------------------------------------------------------------------------


def test_explanation_names_top_soreness_and_todays_workout_time(library: Library) -> None:
    reports = history(sore("calves", 7, timedelta(hours=20)), sore("quads", 3, timedelta(hours=2)))
    rec = roll(library, reports, workout="run", workout_at=NOW.replace(hour=18))
    assert rec.explanation == "Your calves were 7/10 yesterday and you run at 18:00."


def test_explanation_uses_the_users_zone_for_days_and_times(library: Library) -> None:
    # 2026-11-25 03:00 UTC is still the 24th (22:00) in New York; NOW is 04:00 there.
    report = SorenessReport(
        id=1, user_id=1, area="neck", severity=6, at=datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    )
    workout_at = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # Thu 07:00 in New York
    rec = roll(
        library, [report], workout="lower_body", workout_at=workout_at, zone="America/New_York"
    )
    assert rec.explanation.startswith("Your neck was 6/10 yesterday and your ")
    assert rec.explanation.endswith(" is tomorrow at 07:00.")


def test_explanation_for_a_workout_later_in_the_week_names_the_day(library: Library) -> None:
    at = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # Friday
    rec = roll(library, history(sore("quads", 6)), workout="lower_body", workout_at=at)
    assert (
        rec.explanation
        == "Your quads were 6/10 today and your lower-body strength session is on Fri at 07:00."
    )


@pytest.mark.parametrize(
    ("ago", "words"),
    [
        (timedelta(hours=1), "today"),
        (timedelta(hours=9, minutes=1), "yesterday"),  # 23:59 on the 24th
        (timedelta(days=2), "2 days ago"),
        (timedelta(days=3), "3 days ago"),
        (timedelta(days=5), "on Friday"),
        (timedelta(days=9), "on 16 Nov"),
    ],
)
def test_day_words_are_relative_to_now(ago: timedelta, words: str) -> None:
    assert day_words(NOW - ago, NOW, UTC) == words


def test_explanation_is_one_short_line_for_any_combination(library: Library) -> None:
    long_names = ["hip_flexors", "adductors", "hamstrings", "upper_back", "shoulders", "forearms"]
    for workout in (None, *library.workouts):
        for workout_at in (
            None,
            NOW + timedelta(hours=2),
            NOW + timedelta(days=3),
            NOW + timedelta(days=30),
        ):
            for reports in (
                [],
                history(sore("hip_flexors", 10, timedelta(days=2))),
                history(sore("lower_back", 6)),
            ):
                for asked in ((), tuple(long_names)):
                    rec = roll(
                        library, reports, workout=workout, workout_at=workout_at, asked_areas=asked
                    )
                    assert "\n" not in rec.explanation
                    assert len(rec.explanation) <= 140, rec.explanation
                    assert rec.explanation.endswith(".")


def test_unknown_zone_falls_back_to_utc(library: Library) -> None:
    rec = roll(library, history(sore("calves", 7, timedelta(hours=20))), zone="Mars/Olympus")
    assert rec.explanation == "Your calves were 7/10 yesterday, so they come first."


def test_unknown_workout_or_area_is_a_bug(library: Library) -> None:
    with pytest.raises(ValueError, match="workout"):
        roll(library, workout="yoga")
    with pytest.raises(ValueError, match="area"):
        roll(library, asked_areas=["elbow"])


# --- escalation -------------------------------------------------------------------------


def test_sore_five_every_day_for_eight_days_escalates(library: Library) -> None:
    got = escalations(library, daily("calves", [5] * 8), NOW)
    assert got == [Escalation(area=library.areas["calves"], days=7, severity=5)]


def test_dipping_to_two_on_day_four_does_not_escalate(library: Library) -> None:
    assert escalations(library, daily("calves", [5, 6, 5, 2, 6, 7, 5, 5]), NOW) == []


def test_only_six_days_does_not_escalate(library: Library) -> None:
    assert escalations(library, daily("calves", [6] * 6), NOW) == []


def test_escalation_needs_a_recent_latest_report(library: Library) -> None:
    reports = history(*(sore("quads", 6, timedelta(days=3 + i)) for i in range(10)))
    assert escalations(library, reports, NOW) == []


def test_escalation_ignores_a_long_gap_between_reports(library: Library) -> None:
    reports = history(sore("quads", 6, timedelta(days=10)), sore("quads", 6, timedelta(hours=1)))
    assert escalations(library, reports, NOW) == []


def test_escalation_is_part_of_the_recommendation(library: Library) -> None:
    reports = history(*daily("traps", [7] * 10), sore("calves", 3))
    rec = roll(library, reports)
    assert [(e.area.id, e.days, e.severity) for e in rec.escalations] == [("traps", 9, 7)]


# --- determinism ------------------------------------------------------------------------


def test_same_inputs_give_the_same_output(library: Library) -> None:
    reports = history(
        sore("calves", 7, timedelta(hours=20)),
        sore("lower_back", 6, timedelta(hours=5)),
        sore("neck", 9, timedelta(hours=1)),
        *daily("traps", [6] * 9),
    )
    kwargs: dict[str, Any] = {
        "workout": "full_body",
        "workout_at": NOW + timedelta(hours=9),
        "zone": "Europe/Berlin",
        "asked_areas": ["shins"],
        "red_flags": [red_flag("quads")],
    }
    first = roll(library, reports, minutes=15, **kwargs)
    assert all(roll(library, list(reports), minutes=15, **kwargs) == first for _ in range(5))

"""The weekly summary: opt-in in /settings, sent on Sunday evening in the user's time zone.

It travels through the nudge outbox like every nudge (kind `weekly`, planned by
`bot.core.nudges`, at most once), and is written at send time from the user's data then:

- the streak of pre-workout rolls (`progress.pre_workout_streak`);
- the change in average soreness, this week against the week before (the mean of the
  severities reported in each);
- where the month's massages stand against the target;
- one suggestion grounded in the content, the first that applies: an area sore for over a
  week (the massage escalation text), an area that stayed sore this week (a massage that
  works on it, with a therapist's-specificity reminder), massages behind target (a massage
  reminder), no pre-workout roll lately (the next routine's first area and its first cue),
  else keep going.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.core import massage, progress, routine
from bot.core.recommend import escalations, mid_sentence
from bot.core.replies import Button, Reply
from bot.core.turn import Turn, buttons

WEEKDAY = 6  # Sunday
TIME = "19:00"  # local
WEEK = timedelta(days=7)
STAYED_SORE = 4
"""An area with two or more reports this week, all at least this sore, stayed sore."""
SAME = 0.5
"""A change in average soreness smaller than this reads as "about the same"."""
TURN_OFF = "st:weekly:off"


def summary_buttons() -> tuple[tuple[Button, ...], ...]:
    return buttons([Button("Turn off weekly summary", TURN_OFF)])


def summary(turn: Turn) -> Reply:
    """This week's summary for the user (see module doc)."""
    records = progress.load(turn)
    lines = [
        _streak(turn, records),
        _soreness(turn, records),
        _massages(turn),
        "",
        suggestion(turn, records),
    ]
    return Reply(title=turn.say("weekly_title"), text="\n".join(lines), buttons=summary_buttons())


def _streak(turn: Turn, records: progress.Records) -> str:
    streak, sessions = progress.pre_workout_streak(turn, records)
    if not sessions:
        return turn.say("weekly_streak_no_sessions")
    if not streak:
        return turn.say("weekly_streak_none")
    return turn.say("weekly_streak", count=streak)


def _soreness(turn: Turn, records: progress.Records) -> str:
    now = turn.now
    this_week = progress.average_severity(records.reports, now - WEEK, now + timedelta(1))
    last_week = progress.average_severity(records.reports, now - 2 * WEEK, now - WEEK)
    if this_week is None and last_week is None:
        return turn.say("weekly_soreness_none")
    if last_week is None:
        return turn.say("weekly_soreness_new", now=f"{this_week:.1f}")
    if this_week is None:
        return turn.say("weekly_soreness_quiet", before=f"{last_week:.1f}")
    change = this_week - last_week
    key = (
        "weekly_soreness_same"
        if abs(change) < SAME
        else "weekly_soreness_down"
        if change < 0
        else "weekly_soreness_up"
    )
    return turn.say(
        key, now=f"{this_week:.1f}", before=f"{last_week:.1f}", change=f"{abs(change):.1f}"
    )


def _massages(turn: Turn) -> str:
    count, target = massage.count_this_month(turn), turn.user.massage_target
    key = "weekly_massage_on_track" if count >= target else "weekly_massage_behind"
    return turn.say(key, count=count, target=target)


def suggestion(turn: Turn, records: progress.Records) -> str:
    """One thing to do next week, from the content (see module doc)."""
    library = turn.library
    long_sore = escalations(library, records.reports, turn.now)
    if long_sore:
        first = long_sore[0]
        return library.massage.escalation.format(
            area=mid_sentence(first.area.name), days=first.days
        )
    stayed = _stayed_sore(turn, records)
    if stayed is not None:
        tip = _reminder(turn, "specificity")
        return turn.say("weekly_suggest_massage_area", area=stayed, tip=tip)
    if massage.count_this_month(turn) < turn.user.massage_target:
        return turn.say("weekly_suggest_massage", tip=_reminder(turn, None))
    streak, sessions = progress.pre_workout_streak(turn, records)
    if sessions and not streak:
        rec = routine.plan(turn)
        if rec.picks:
            pick = rec.picks[0]
            return turn.say(
                "weekly_suggest_roll", area=mid_sentence(pick.area.name), cue=pick.area.cues[0]
            )
    return turn.say("weekly_suggest_keep_going")


def _stayed_sore(turn: Turn, records: progress.Records) -> str | None:
    """The name (mid-sentence) of the sorest area that stayed sore all week, if any."""
    levels = progress.recent_levels(records, turn.now - WEEK)
    stayed = [
        (max(found), area)
        for area, found in levels.items()
        if len(found) >= 2 and min(found) >= STAYED_SORE and area in turn.library.areas
    ]
    if not stayed:
        return None
    _, area = max(stayed)
    return mid_sentence(turn.library.areas[area].name)


def _reminder(turn: Turn, fact: str | None) -> str:
    """A massage reminder from the content (of `fact` when given), rotating by the week."""
    reminders = [r for r in turn.library.massage.reminders if fact is None or r.fact == fact]
    reminders = reminders or list(turn.library.massage.reminders)
    week = turn.now.toordinal() // 7
    return reminders[week % len(reminders)].text


def week_ref(day: date) -> str:
    """ "2026-W48": the ISO week of a local day, what a weekly nudge is about."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"

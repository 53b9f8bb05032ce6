"""Turning a recommendation into a routine the user can follow, all at once or guided.

The routine reply lists each area with its time and how-to cues; the guided session shows
one area at a time with a Next button, for people rolling with their phone on the floor.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.recommend import Recommendation, recommend
from bot.core.records import User
from bot.core.replies import Button, Reply
from bot.core.soreness import area_label
from bot.core.timeplan import next_session
from bot.core.turn import Turn, buttons

SOREST_LOOKBACK_DAYS = 30  # the recommender decays soreness itself; escalation needs weeks
RED_FLAG_LOOKBACK_DAYS = 14
MINUTE_CHOICES = (5, 10, 15, 20)


def plan(
    turn: Turn,
    *,
    minutes: int | None = None,
    workout: str | None = None,
    asked_areas: tuple[str, ...] = (),
    session_at: datetime | None = None,
) -> Recommendation:
    """A recommendation from the user's stored soreness, red flags and next session.

    `session_at` names the session the routine is for (a pre-workout nudge); otherwise,
    when no workout is named, the next scheduled session within 36 h is used.
    """
    reports = turn.store.soreness_since(turn.user.id, turn.now - timedelta(SOREST_LOOKBACK_DAYS))
    flags = turn.store.red_flags_since(turn.user.id, turn.now - timedelta(RED_FLAG_LOOKBACK_DAYS))
    workout_at = session_at
    if workout is None and session_at is None:
        upcoming = next_session(turn.store.schedules(turn.user.id), turn.user.tz, turn.now)
        if upcoming is not None and upcoming[0] - turn.now < timedelta(hours=36):
            workout_at, entry = upcoming
            workout = entry.workout
    return recommend(
        turn.library,
        reports=reports,
        red_flags=flags,
        now=turn.now,
        minutes=minutes,
        workout=workout,
        workout_at=workout_at,
        zone=turn.user.tz,
        asked_areas=asked_areas,
    )


def routine_reply(turn: Turn, rec: Recommendation, title: str | None = None) -> Reply:
    """The whole routine in one phone-sized message, with Start and other-length buttons.

    Each area gets its time, why it is there and its first cue; the guided session (Start)
    shows every cue and caution one area at a time.
    """
    lines = [rec.explanation, ""]
    for number, pick in enumerate(rec.picks, start=1):
        duration = _duration(pick.seconds, pick.area.two_sided)
        lines.append(f"{number}. {pick.area.name} - {duration} · {pick.reason}")
        lines.append(f"   {pick.area.cues[0]}")
    lines += ["", *rec.notes] if rec.notes else []
    lines += ["", turn.say("roll_footer")]
    lines += ["", *escalation_lines(turn, rec)] if rec.escalations else []
    remember_guided(turn.user, rec)
    workout = rec.workout or "-"
    other_lengths = [
        Button(f"{minutes} min", f"r:{minutes}:{workout}")
        for minutes in MINUTE_CHOICES
        if minutes != rec.minutes
    ]
    return Reply(
        title=title or turn.say("roll_title", minutes=rec.minutes),
        text="\n".join(lines).strip(),
        buttons=buttons([Button("▶ Start guided", "g:0")], other_lengths),
    )


def escalation_lines(turn: Turn, rec: Recommendation) -> list[str]:
    return [
        turn.library.massage.escalation.format(area=area_label(turn, e.area.id), days=e.days)
        for e in rec.escalations
    ]


def _duration(seconds: int, two_sided: bool) -> str:
    total = _clock(seconds)
    return f"{total} ({_clock(seconds // 2)} per side)" if two_sided and seconds >= 60 else total


def _clock(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min" if not rest else f"{minutes} min {rest} s"


def remember_guided(user: User, rec: Recommendation) -> None:
    """Keep the routine in the user's dialog state so the Start button can walk through it."""
    user.dialog["guided"] = [[pick.area.id, pick.seconds] for pick in rec.picks]


def guided_step(turn: Turn, step: int) -> Reply:
    steps = turn.user.dialog.get("guided")
    if not isinstance(steps, list) or not 0 <= step <= len(steps):
        return Reply(text=turn.say("button_expired"))
    if step == len(steps):
        turn.user.dialog.pop("guided", None)
        return Reply(text=turn.say("guided_done"))
    area_id, seconds = steps[step]
    area = turn.library.areas.get(str(area_id))
    if area is None:
        return Reply(text=turn.say("button_expired"))
    lines = [f"{_duration(int(seconds), area.two_sided)}", ""]
    lines += [f"• {cue}" for cue in area.cues]
    lines += [f"⚠ {caution}" for caution in area.cautions]
    last = step + 1 == len(steps)
    label = "✅ Done" if last else "Next ▶"
    return Reply(
        title=f"{step + 1}/{len(steps)} {area.name}",
        text="\n".join(lines),
        buttons=buttons([Button(label, f"g:{step + 1}")]),
    )

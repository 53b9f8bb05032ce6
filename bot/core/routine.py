"""Turning a recommendation into a routine the user can follow, all at once or guided.

The routine reply lists each area with its time and how-to cues; the guided session shows
one area at a time with a Next button, for people rolling with their phone on the floor.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.core import dialog, progress
from bot.core.content import Library, Workout
from bot.core.recommend import (
    MAX_MINUTES,
    MIN_MINUTES,
    RED_FLAG_EXCLUSION,
    AreaPick,
    Recommendation,
    recommend,
)
from bot.core.replies import Button, Reply
from bot.core.soreness import area_label
from bot.core.timeplan import next_session
from bot.core.turn import Turn, buttons

SOREST_LOOKBACK_DAYS = 30  # the recommender decays soreness itself; escalation needs weeks
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
    flags = turn.store.red_flags_since(turn.user.id, turn.now - RED_FLAG_EXCLUSION)
    workout_at = session_at
    if workout is None and session_at is None:
        upcoming = next_session(turn.store.schedules(turn.user.id), turn.user.tz, turn.now)
        if upcoming is not None and upcoming[0] - turn.now < timedelta(hours=36):
            workout_at, entry = upcoming
            workout = entry.workout

    def compute() -> Recommendation:
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

    if reports or flags:
        return compute()
    today = turn.now.astimezone(turn.zone).date()
    key = (minutes, workout, workout_at, turn.user.tz, asked_areas, today)
    return _remembered_without_history(turn.library, key, compute)


_WITHOUT_HISTORY: dict[tuple[object, ...], tuple[Library, Recommendation]] = {}
WITHOUT_HISTORY_CACHE_SIZE = 1024


def _remembered_without_history(
    library: Library, key: tuple[object, ...], compute: Callable[[], Recommendation]
) -> Recommendation:
    """The routine for users with no soreness or red flags on record, computed once per key.

    Without history a routine depends only on the session and the user's local day, and at
    a busy minute thousands of users share one (everyone's 18:00 run): the nudge fan-out
    spent a fifth of its time recomputing it (bench/nudge_fanout.py).
    """
    cached = _WITHOUT_HISTORY.get(key)
    if cached is not None and cached[0] is library:
        return cached[1]
    rec = compute()
    if len(_WITHOUT_HISTORY) >= WITHOUT_HISTORY_CACHE_SIZE:
        _WITHOUT_HISTORY.clear()
    _WITHOUT_HISTORY[key] = (library, rec)
    return rec


def routine_reply(
    turn: Turn, rec: Recommendation, title: str | None = None, asked_minutes: int | None = None
) -> Reply:
    """The whole routine in one phone-sized message, with Start and other-length buttons.

    Each area gets its time, why it is there and its first cue; the guided session (Start)
    shows every cue and caution one area at a time. A time outside 5-20 minutes is said to
    have been changed, never silently. A user who turned the body map on gets it with the
    routine, when something is sore or flagged (`progress.body_map`).
    """
    turn.outcome = "routine"
    if asked_minutes is not None and asked_minutes != rec.minutes:
        turn.replies.append(Reply(text=minutes_note(turn, asked_minutes, rec.minutes)))
    workout = rec.workout or "-"
    other_lengths = [
        Button(f"{minutes} min", f"r:{minutes}:{workout}")
        for minutes in MINUTE_CHOICES
        if minutes != rec.minutes
    ]
    return Reply(
        title=title or turn.say("roll_title", minutes=rec.minutes),
        text=routine_text(turn, rec),
        buttons=buttons(
            [Button("▶ Start guided", guided_data(rec.picks), role="yes")], other_lengths
        ),
        picture=progress.body_map(turn) if turn.user.body_map else None,
    )


def minutes_note(turn: Turn, asked: int, used: int) -> str:
    """Why the routine is not as long as asked: routines run 5-20 minutes."""
    key = "minutes_too_long" if asked > MAX_MINUTES else "minutes_too_short"
    return turn.say(key, asked=asked, used=used, low=MIN_MINUTES, high=MAX_MINUTES)


def routine_text(turn: Turn, rec: Recommendation) -> str:
    """The routine's message text: why, each area with its time and first cue, notes."""
    lines = [rec.explanation, ""]
    for number, pick in enumerate(rec.picks, start=1):
        duration = _duration(pick.seconds, pick.area.two_sided)
        lines.append(f"{number}. {pick.area.name} - {duration} · {pick.reason}")
        lines.append(f"   {pick.area.cues[0]}")
    lines += ["", *rec.notes] if rec.notes else []
    lines += ["", turn.say("roll_footer")]
    lines += ["", *escalation_lines(turn, rec)] if rec.escalations else []
    return "\n".join(lines).strip()


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


MAX_GUIDED_SECONDS = 20 * 60


def guided_data(picks: Sequence[AreaPick], step: int = 0) -> str:
    """Button data for step `step` of a guided session over `picks`, self-contained, so the
    button needs no state stored on our side: "g:0:calves.120,hamstrings.90".

    It can be longer than a platform allows (Telegram: 64 bytes); such adapters map long
    data to a short token of their own (bot/adapters/buttons.py).
    """
    return f"g:{step}:" + ",".join(f"{pick.area.id}.{pick.seconds}" for pick in picks)


def guided_step(turn: Turn, argument: str) -> Reply:
    """One area of a guided session, with a Next (or Done) button carrying the rest."""
    steps = _guided_steps(turn.library, argument)
    if steps is None:
        return Reply(text=turn.say("button_expired"))
    step, picks = steps
    turn.outcome = "guided"
    if step == len(picks):
        record_finished(turn, picks)
        return Reply(text=turn.say("guided_done"))
    area_id, seconds = picks[step]
    area = turn.library.areas[area_id]
    lines = [f"{_duration(seconds, area.two_sided)}", ""]
    lines += [f"• {cue}" for cue in area.cues]
    lines += [f"⚠ {caution}" for caution in area.cautions]
    last = step + 1 == len(picks)
    codes = argument.partition(":")[2]
    row = [Button("✅ Done" if last else "Next ▶", f"g:{step + 1}:{codes}", role="yes skip")]
    if not last:
        row.append(Button("■ Done for now", f"ge:{step}:{codes}", role="no"))
    reply = Reply(
        title=f"{step + 1}/{len(picks)} {area.name}",
        text="\n".join(lines),
        buttons=buttons(row),
    )
    return dialog.ask(turn, reply, "guided", expects="choice", reask=False)


def guided_end(turn: Turn, argument: str) -> Reply:
    """`ge:<step>:...`: the routine stopped early; the areas rolled so far still count."""
    steps = _guided_steps(turn.library, argument)
    if steps is None:
        return Reply(text=turn.say("button_expired"))
    step, picks = steps
    turn.outcome = "guided"
    done = picks[: step + 1]
    record_finished(turn, done)
    return Reply(text=turn.say("guided_stopped", done=len(done), total=len(picks)))


_MINUTES_ROLLED = re.compile(r"\b(\d{1,2})\s*(?:min|mins|minute|minutes|m)\b")


def similar_sport(turn: Turn, text: str) -> tuple[str, Workout] | None:
    """A sport named in `text` that has no routine of its own ("football tonight"), and the
    workout whose routine suits it (the content's `like` lists)."""
    padded = " " + " ".join(re.findall(r"[a-z]+", text.lower())) + " "
    for workout in turn.library.workouts.values():
        for sport in workout.like:
            if f" {sport} " in padded:
                return sport, workout
    return None


def say_closest_workout(turn: Turn, text: str) -> str | None:
    """When `text` names a sport with no routine of its own, the id of the workout whose
    routine suits it, with a reply ahead of the routine saying that this is the closest."""
    sport = similar_sport(turn, text)
    if sport is None:
        return None
    name, workout = sport
    line = turn.say("sport_like_workout", sport=name.capitalize(), workout=workout.name.lower())
    turn.replies.append(Reply(text=line))
    return workout.id


def rolled_said(turn: Turn, text: str, minutes: int | None, areas: tuple[str, ...]) -> Reply | None:
    """ "done rolling!": a session rolled on one's own, logged for /history."""
    lowered = " ".join(text.lower().replace("!", " ").replace(".", " ").split())
    if not any(phrase in lowered for phrase in turn.library.language.rolled):
        return None
    if minutes is None:  # "did 10 min of rolling": a duration, not a time budget
        said = _MINUTES_ROLLED.search(lowered)
        minutes = int(said[1]) if said else None
    seconds = 60 * minutes if minutes and 1 <= minutes <= 60 else 0
    turn.store.record_rolling(turn.user.id, turn.now, seconds, areas)
    turn.outcome = "rolling_logged"
    return Reply(text=turn.say("rolling_logged"))


def record_finished(turn: Turn, picks: list[tuple[str, int]]) -> None:
    """Log a finished guided routine for /history; Done said twice counts once."""
    areas = tuple(area for area, _ in picks)
    recent = turn.store.rolling_since(turn.user.id, turn.now - timedelta(minutes=30))
    if any(session.areas == areas for session in recent):
        return
    turn.store.record_rolling(turn.user.id, turn.now, sum(s for _, s in picks), areas)


def _guided_steps(library: Library, argument: str) -> tuple[int, list[tuple[str, int]]] | None:
    """ "2:calves.120,quads.90" -> (2, [("calves", 120), ("quads", 90)]); None for anything
    malformed or naming an area the library does not have."""
    step_text, _, listed = argument.partition(":")
    if not step_text.isdigit() or not listed:
        return None
    picks: list[tuple[str, int]] = []
    for item in listed.split(","):
        area_id, _, seconds = item.partition(".")
        if area_id not in library.areas or not seconds.isdigit():
            return None
        if not 0 < int(seconds) <= MAX_GUIDED_SECONDS:
            return None
        picks.append((area_id, int(seconds)))
    step = int(step_text)
    return (step, picks) if step <= len(picks) else None

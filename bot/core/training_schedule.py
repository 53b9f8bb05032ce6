"""The user's training schedule in chat: read back what was understood, save on a tap.

Schedules arrive in plain words ("Mon Wed Fri 18:00", "leg day tomorrow 7:30"). Whatever
the parser understood is always read back with Save / Try again buttons before anything
is stored, because a wrong reminder time is worse than none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from bot.core import dialog, onboarding
from bot.core.records import WEEKDAYS, ScheduleEntry
from bot.core.replies import Button, Reply
from bot.core.timeplan import (
    PlannedSession,
    ScheduleReading,
    describe_session,
    next_session,
    parse_schedule,
)
from bot.core.turn import Turn, buttons

_CLOCK_TIME = re.compile(r"\d\s*(?:am|pm)\b|\b\d{1,2}:\d{2}\b")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_WORDS = {
    **{name: n for n, name in enumerate(_FULL_DAYS)},
    **{f"{name}s": n for n, name in enumerate(_FULL_DAYS)},
    **{short: n for n, short in enumerate(WEEKDAYS)},
    **{"tues": 1, "weds": 2, "thur": 3, "thurs": 3},
}
"""Words that name a weekday (0 = Monday), so "monster" or "sunny" never does."""
MAX_SESSIONS = 50  # a week of twice-daily training with room to spare; more is a mistake


def workout_names(turn: Turn) -> dict[str, str]:
    return {wid: workout.name for wid, workout in turn.library.workouts.items()}


def propose(turn: Turn, text: str, reading: ScheduleReading | None = None) -> Reply | None:
    """Read a schedule from text and ask to confirm it; None when nothing looked like one.

    A message while a schedule is read back amends it when it says so ("no wait, friday is
    8am", "also sat 9am") or names only some of its days; once saved, "move my wednesday
    session to 7:30" replaces that day's session. What could not be read is said, and the
    question (the read-back, or when they train) stays open.
    """
    reading = reading or _read(turn, text)
    on_offer = _proposal_on_offer(turn)
    if not reading.sessions:
        if reading.found_nothing:
            return None
        if on_offer:
            return _read_back(turn, on_offer, [*reading.problems, *_replaced(turn)], lead=True)
        text = "\n".join([*reading.problems, "", turn.say("schedule_examples")])
        return onboarding.ask_schedule(turn, text)
    sessions, replaced = _amended(turn, text, reading.sessions, on_offer)
    turn.user.dialog["proposal"] = [_session_dict(s) for s in sessions]
    turn.user.dialog["replaces"] = [entry.id for entry in replaced]
    notes = [*reading.notes, *reading.problems, *_already_passed(turn, reading.sessions)]
    return _read_back(turn, sessions, [*notes, *_replaced(turn)])


def _read_back(
    turn: Turn, sessions: Sequence[PlannedSession], notes: Sequence[str], lead: bool = False
) -> Reply:
    """The sessions understood, with Save / Try again; `lead`: the notes come first (the
    message could not be read, the read-back stands)."""
    names = workout_names(turn)
    lines = [turn.say("schedule_understood")]
    lines += [f"• {describe_session(s, names, turn.library)}" for s in sessions]
    noted = [f"(Note: {note})" for note in notes]
    reply = Reply(
        text="\n".join([*noted, "", *lines] if lead else [*lines, *noted]),
        buttons=buttons(
            [Button("✅ Save", "sc:save", role="yes"), Button("✏ Try again", "sc:retry", role="no")]
        ),
    )
    turn.outcome = "schedule_readback"
    return dialog.ask(turn, reply, "confirm_schedule", expects="schedule")


def _proposal_on_offer(turn: Turn) -> list[PlannedSession]:
    """The schedule read back and not yet saved, while its question is open."""
    question = dialog.pending(turn)
    stored = turn.user.dialog.get("proposal")
    if question is None or question.kind != "confirm_schedule" or not isinstance(stored, list):
        return []
    try:
        return [_session_from(item) for item in stored]
    except (KeyError, TypeError, ValueError):
        return []


def _amended(
    turn: Turn, text: str, new: Sequence[PlannedSession], on_offer: list[PlannedSession]
) -> tuple[list[PlannedSession], list[ScheduleEntry]]:
    """The sessions to read back, and the saved ones they replace (see `propose`)."""
    words = turn.library.language.schedules
    said = " " + " ".join(re.findall(r"[a-z']+", text.lower())) + " "
    changing = any(f" {word} " in said for word in words.changes)
    adding = any(f" {word} " in said for word in words.additions)
    days = {s.weekday for s in new if s.weekday is not None}
    if on_offer:
        offered_days = {s.weekday for s in on_offer if s.weekday is not None}
        if adding:
            return _in_week_order([*on_offer, *new]), []
        if changing or (days and days < offered_days):
            kept = [s for s in on_offer if s.weekday is None or s.weekday not in days]
            dropped = [s for s in on_offer if s.weekday in days]
            return _in_week_order([*kept, *_same_workouts(new, dropped)]), []
        return list(new), []
    if changing and not adding and days:
        saved = [entry for entry in turn.store.schedules(turn.user.id) if entry.weekday in days]
        return _same_workouts(new, saved), saved
    return list(new), []


def _same_workouts(
    new: Sequence[PlannedSession], old: Sequence[PlannedSession | ScheduleEntry]
) -> list[PlannedSession]:
    """A moved session keeps the workout of the one it replaces on its day ("friday is
    8am" is still Friday's run)."""
    workouts = {s.weekday: s.workout for s in old if s.workout is not None}
    return [
        s if s.workout or s.weekday not in workouts else replace(s, workout=workouts[s.weekday])
        for s in new
    ]


def _in_week_order(sessions: list[PlannedSession]) -> list[PlannedSession]:
    """Weekly sessions Monday first by time, then the one-off ones by date."""
    return sorted(
        sessions,
        key=lambda s: (s.weekday is None, s.weekday or 0, s.on_date or date.min, s.time),
    )


def _replaced(turn: Turn) -> list[str]:
    """ "This replaces Wed 07:00" for the saved sessions the read-back would replace."""
    ids = turn.user.dialog.get("replaces") or []
    entries = [e for e in turn.store.schedules(turn.user.id) if e.id in ids]
    if not entries:
        return []
    names = workout_names(turn)
    listed = ", ".join(describe_session(e, names, turn.library) for e in entries)
    return [turn.say("schedule_replaces", sessions=listed)]


def looks_like_schedule(turn: Turn, text: str) -> bool:
    """Days and times that read as whole sessions ("Mon Wed Fri 18:00")."""
    return bool(_read(turn, text).sessions)


def _read(turn: Turn, text: str) -> ScheduleReading:
    return parse_schedule(text, turn.local_now.date(), library=turn.library)


_HOW_OFTEN = re.compile(
    r"\b(\d|one|two|three|four|five|six|seven|once|twice)\s*(?:x|times)?\s*(?:a|per|each|every)"
    r" week\b"
)


def schedule_talk(turn: Turn, text: str) -> Reply | None:
    """A message about when the user trains, outside any question; None when it is not one:
    - whole sessions ("Mon Wed Fri 18:00") are read back to save;
    - how often without the days ("I run 3x a week") asks for the days and time;
    - a weekday without a time ("sunday morning") or a clock time without a day ("every
      other day 6pm") says what is missing, not "Sorry". A bare number ("8") is neither:
      it may be a severity or anything else."""
    reading = _read(turn, text)
    if reading.sessions:
        return propose(turn, text, reading)
    lowered = text.lower()
    if _HOW_OFTEN.search(lowered) is not None:
        return onboarding.ask_schedule(turn, turn.say("schedule_which_days"))
    if not _days_said(text) and _CLOCK_TIME.search(lowered) is None:
        return None
    if reading.found_nothing or not reading.problems:
        return None
    return propose(turn, text, reading)


def _already_passed(turn: Turn, sessions: tuple[PlannedSession, ...]) -> list[str]:
    """A one-off session today at a time already gone gets no reminder: say so."""
    today, now = turn.local_now.date(), turn.local_now.strftime("%H:%M")
    return [
        turn.say("schedule_time_passed", time=s.time)
        for s in sessions
        if s.on_date == today and s.time <= now
    ]


def _session_from(item: dict[str, Any]) -> PlannedSession:
    on_date = item.get("on_date")
    weekday = item.get("weekday")
    return PlannedSession(
        time=str(item["time"]),
        weekday=int(weekday) if weekday is not None else None,
        on_date=date.fromisoformat(str(on_date)) if on_date else None,
        workout=str(item["workout"]) if item.get("workout") else None,
    )


def _session_dict(session: PlannedSession) -> dict[str, Any]:
    return {
        "time": session.time,
        "weekday": session.weekday,
        "on_date": session.on_date.isoformat() if session.on_date else None,
        "workout": session.workout,
    }


def save_proposal(turn: Turn) -> Reply:
    """Save the sessions read back: the saved ones they replace go, one already saved is
    not added twice."""
    proposal = turn.user.dialog.pop("proposal", None)
    replaces = turn.user.dialog.pop("replaces", None) or []
    try:
        sessions = [_session_from(item) for item in proposal or []]
    except (KeyError, TypeError, ValueError, AttributeError):
        sessions = []
    if not sessions:
        return Reply(text=turn.say("button_expired"))
    saved = [e for e in turn.store.schedules(turn.user.id) if e.id not in replaces]
    have = {(e.weekday, e.on_date, e.time) for e in saved}
    adding = [s for s in sessions if (s.weekday, s.on_date, s.time) not in have]
    if len(saved) + len(adding) > MAX_SESSIONS:
        return Reply(
            text=turn.say("schedule_too_many", most=MAX_SESSIONS, existing=len(saved)),
            buttons=buttons([Button("My schedule", "sc:show")]),
        )
    if not adding and not replaces:
        return Reply(
            text=turn.say("schedule_already_saved"),
            buttons=buttons([Button("My schedule", "sc:show")]),
        )
    for entry_id in replaces:
        turn.store.remove_schedule(turn.user.id, int(entry_id))
    for session in adding:
        turn.store.add_schedule(
            turn.user.id,
            session.time,
            weekday=session.weekday,
            on_date=session.on_date,
            workout=session.workout,
        )
    # The schedule came before the zone: at the setup's zone step, or with no setup at all.
    zone_unsaid = onboarding.step(turn) == "timezone" or (
        not turn.user.onboarded and onboarding.step(turn) is None
    )
    if zone_unsaid:
        turn.user.dialog["onboarding"] = "timezone"
    closing = onboarding.finish(turn) if onboarding.step(turn) and not zone_unsaid else ""
    turn.schedule_changed = True
    turn.outcome = "schedule_saved"
    text = turn.say("schedule_saved", lead=turn.user.lead_minutes)
    upcoming = next_session(turn.store.schedules(turn.user.id), turn.user.tz, turn.now)
    if upcoming is not None:
        local = upcoming[0].astimezone(turn.zone)
        text += "\n" + turn.say("schedule_next", when=local.strftime("%a %d %b %H:%M"))
    if zone_unsaid:
        zone_question = turn.say("schedule_zone_still", tz=turn.user.tz)
        return onboarding.ask_zone(turn, text + "\n\n" + zone_question)
    if closing:
        text += "\n\n" + closing
    return Reply(text=text)


def retry(turn: Turn) -> Reply:
    turn.user.dialog.pop("proposal", None)
    turn.user.dialog.pop("replaces", None)
    return onboarding.ask_schedule(turn, turn.say("schedule_prompt"))


def listed(turn: Turn) -> list[ScheduleEntry]:
    """The saved sessions as /schedule numbers them: the week from Monday, then one-offs."""
    entries = turn.store.schedules(turn.user.id)
    return sorted(
        entries,
        key=lambda e: (e.weekday is None, e.weekday or 0, e.on_date or date.min, e.time, e.id),
    )


def show(turn: Turn) -> Reply:
    """The schedule with remove buttons; with none yet, the question of when they train."""
    entries = listed(turn)
    if not entries:
        return onboarding.ask_schedule(turn, turn.say("no_schedule"))
    names = workout_names(turn)
    lines = [turn.say("schedule_header", tz=turn.user.tz)]
    lines += [
        f"{n}. {describe_session(e, names, turn.library)}" for n, e in enumerate(entries, start=1)
    ]
    footer = "schedule_paused" if turn.user.paused else "schedule_reminders"
    lines += ["", turn.say(footer, lead=turn.user.lead_minutes)]
    remove = [Button(f"✖ {n}", f"sc:x:{e.id}") for n, e in enumerate(entries, start=1)]
    rows = [remove[i : i + 5] for i in range(0, min(len(remove), 20), 5)]
    return Reply(
        text="\n".join(lines),
        buttons=buttons(*rows, [Button("➕ Add", "sc:add"), Button("Clear all", "sc:clear")]),
        private=True,
    )


def ask_to_add(turn: Turn) -> Reply:
    return onboarding.ask_schedule(turn, turn.say("schedule_prompt"))


def remove(turn: Turn, entry_id: int) -> Reply:
    entries = {e.id: e for e in turn.store.schedules(turn.user.id)}
    entry = entries.get(entry_id)
    if entry is None or not turn.store.remove_schedule(turn.user.id, entry_id):
        return Reply(text=turn.say("button_expired"))
    turn.schedule_changed = True
    return Reply(
        text=turn.say(
            "schedule_removed", session=describe_session(entry, workout_names(turn), turn.library)
        )
    )


def remove_by_number(turn: Turn, argument: str) -> Reply:
    """/schedule remove 2, /schedule remove all, /schedule remove sat."""
    entries = listed(turn)
    if not entries:
        return Reply(text=turn.say("schedule_nothing_to_remove"))
    if argument.strip().lower() in {"all", "everything"}:
        return clear(turn)
    by_day = _on_days_said(entries, argument)
    if len(by_day) == 1:
        return remove(turn, by_day[0].id)
    try:
        entry: ScheduleEntry = entries[int(argument) - 1]
    except (ValueError, IndexError):
        return Reply(text=turn.say("schedule_remove_help", count=len(entries)))
    return remove(turn, entry.id)


_REMOVE = re.compile(r"\b(?:remove|delete|drop|cancel|scrap|get rid of|take off|no more)\b")


def removal_said(turn: Turn, text: str) -> Reply | None:
    """ "remove the saturday one": that session goes; when several match, the list with
    its remove buttons. None when the message does not remove a session by its day."""
    if _REMOVE.search(text.lower()) is None:
        return None
    entries = listed(turn)
    matching = _on_days_said(entries, text)
    if not matching:
        days = _days_said(text)
        if not days or not entries:
            return None
        named = " or ".join(_FULL_DAYS[day].capitalize() for day in sorted(days))
        listing = show(turn)
        return replace(
            listing, text=turn.say("schedule_no_such_day", days=named) + "\n\n" + listing.text
        )
    if len(matching) == 1:
        return remove(turn, matching[0].id)
    return show(turn)


def _on_days_said(entries: list[ScheduleEntry], text: str) -> list[ScheduleEntry]:
    """The weekly sessions on the weekdays named in `text` ("sat", "Saturdays", "tues")."""
    days = _days_said(text)
    return [entry for entry in entries if entry.weekday in days]


def days_or_weekends_said(text: str) -> bool:
    """Whether the message names weekdays or weekends ("no reminders on fridays")."""
    lowered = text.lower()
    return bool(_days_said(text)) or any(w in lowered for w in ("weekend", "weekday"))


def reminders_follow_sessions(turn: Turn) -> Reply:
    """Reminders for some days only: they follow the sessions, so remove those days'
    sessions instead of pausing everything."""
    listing = show(turn)
    return replace(listing, text=turn.say("reminders_follow_sessions") + "\n\n" + listing.text)


def _days_said(text: str) -> set[int]:
    return {DAY_WORDS[word] for word in re.findall(r"[a-z]+", text.lower()) if word in DAY_WORDS}


def clear(turn: Turn) -> Reply:
    removed = turn.store.clear_schedules(turn.user.id)
    turn.schedule_changed = True
    return Reply(text=turn.say("schedule_cleared", count=removed))


def command(turn: Turn, argument: str) -> Reply:
    """/schedule, /schedule add <when>, /schedule remove <n|all>, /schedule <when>."""
    verb, _, rest = argument.strip().partition(" ")
    verb = verb.lower()
    if not verb:
        return show(turn)
    if verb in {"remove", "delete", "rm", "del"}:
        return remove_by_number(turn, rest)
    if verb in {"clear", "reset"}:
        return clear(turn)
    text = rest if verb == "add" else argument
    if not text.strip():
        return ask_to_add(turn)
    return propose(turn, text) or onboarding.ask_schedule(turn, turn.say("schedule_examples"))

"""The user's training schedule in chat: read back what was understood, save on a tap.

Schedules arrive in plain words ("Mon Wed Fri 18:00", "leg day tomorrow 7:30"). Whatever
the parser understood is always read back with Save / Try again buttons before anything
is stored, because a wrong reminder time is worse than none.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.core import dialog, onboarding
from bot.core.records import WEEKDAYS, ScheduleEntry
from bot.core.replies import Button, Reply
from bot.core.timeplan import PlannedSession, describe_session, next_session, parse_schedule
from bot.core.turn import Turn, buttons

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


def propose(turn: Turn, text: str) -> Reply | None:
    """Read a schedule from text and ask to confirm it; None when nothing looked like one.

    What could not be read is said, and the question of when they train stays open.
    """
    reading = parse_schedule(text, turn.local_now.date(), library=turn.library)
    if not reading.sessions:
        if reading.found_nothing:
            return None
        text = "\n".join([*reading.problems, "", turn.say("schedule_examples")])
        return onboarding.ask_schedule(turn, text)
    turn.user.dialog["proposal"] = [_session_dict(s) for s in reading.sessions]
    names = workout_names(turn)
    lines = [turn.say("schedule_understood")]
    lines += [f"• {describe_session(s, names, turn.library)}" for s in reading.sessions]
    lines += [f"(Note: {note})" for note in (*reading.notes, *reading.problems)]
    lines += [f"(Note: {note})" for note in _already_passed(turn, reading.sessions)]
    reply = Reply(
        text="\n".join(lines),
        buttons=buttons(
            [Button("✅ Save", "sc:save", role="yes"), Button("✏ Try again", "sc:retry", role="no")]
        ),
    )
    turn.outcome = "schedule_readback"
    return dialog.ask(turn, reply, "confirm_schedule", expects="schedule")


def looks_like_schedule(turn: Turn, text: str) -> bool:
    """Days and times that read as whole sessions ("Mon Wed Fri 18:00")."""
    return bool(parse_schedule(text, turn.local_now.date(), library=turn.library).sessions)


def _already_passed(turn: Turn, sessions: tuple[PlannedSession, ...]) -> list[str]:
    """A one-off session today at a time already gone gets no reminder: say so."""
    today, now = turn.local_now.date(), turn.local_now.strftime("%H:%M")
    return [
        turn.say("schedule_time_passed", time=s.time)
        for s in sessions
        if s.on_date == today and s.time <= now
    ]


def _session_dict(session: PlannedSession) -> dict[str, Any]:
    return {
        "time": session.time,
        "weekday": session.weekday,
        "on_date": session.on_date.isoformat() if session.on_date else None,
        "workout": session.workout,
    }


def save_proposal(turn: Turn) -> Reply:
    proposal = turn.user.dialog.pop("proposal", None)
    if not isinstance(proposal, list) or not proposal:
        return Reply(text=turn.say("button_expired"))
    existing = len(turn.store.schedules(turn.user.id))
    if existing + len(proposal) > MAX_SESSIONS:
        return Reply(
            text=turn.say("schedule_too_many", most=MAX_SESSIONS, existing=existing),
            buttons=buttons([Button("My schedule", "sc:show")]),
        )
    for item in proposal:
        on_date = date.fromisoformat(item["on_date"]) if item.get("on_date") else None
        turn.store.add_schedule(
            turn.user.id,
            str(item["time"]),
            weekday=item.get("weekday"),
            on_date=on_date,
            workout=item.get("workout"),
        )
    closing = onboarding.finish(turn) if onboarding.step(turn) else ""
    turn.schedule_changed = True
    turn.outcome = "schedule_saved"
    text = turn.say("schedule_saved", lead=turn.user.lead_minutes)
    upcoming = next_session(turn.store.schedules(turn.user.id), turn.user.tz, turn.now)
    if upcoming is not None:
        local = upcoming[0].astimezone(turn.zone)
        text += "\n" + turn.say("schedule_next", when=local.strftime("%a %d %b %H:%M"))
    if closing:
        text += "\n\n" + closing
    return Reply(text=text)


def retry(turn: Turn) -> Reply:
    turn.user.dialog.pop("proposal", None)
    return onboarding.ask_schedule(turn, turn.say("schedule_prompt"))


def show(turn: Turn) -> Reply:
    """The schedule with remove buttons; with none yet, the question of when they train."""
    entries = turn.store.schedules(turn.user.id)
    if not entries:
        return onboarding.ask_schedule(turn, turn.say("no_schedule"))
    names = workout_names(turn)
    lines = [turn.say("schedule_header", tz=turn.user.tz)]
    lines += [
        f"{n}. {describe_session(e, names, turn.library)}" for n, e in enumerate(entries, start=1)
    ]
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
    entries = turn.store.schedules(turn.user.id)
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
    entries = turn.store.schedules(turn.user.id)
    matching = _on_days_said(entries, text)
    if not matching:
        return None
    if len(matching) == 1:
        return remove(turn, matching[0].id)
    return show(turn)


def _on_days_said(entries: list[ScheduleEntry], text: str) -> list[ScheduleEntry]:
    """The weekly sessions on the weekdays named in `text` ("sat", "Saturdays", "tues")."""
    days = {DAY_WORDS[word] for word in re.findall(r"[a-z]+", text.lower()) if word in DAY_WORDS}
    return [entry for entry in entries if entry.weekday in days]


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

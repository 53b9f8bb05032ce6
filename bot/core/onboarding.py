"""First contact: time zone, then training days, each read back and skippable.

`user.dialog["onboarding"]` holds the step ("timezone", then "schedule") and each step is
a pending question (`bot.core.dialog`), so onboarding survives restarts, `/start` picks up
where the user left off, and a side remark ("my calves are killing me") is answered
without losing the step. Nothing here is required: every feature works with the defaults,
and "Skip" is always one tap (or one word) away.
"""

from __future__ import annotations

from bot.core import dialog
from bot.core.replies import Button, Reply
from bot.core.timeplan import parse_timezone
from bot.core.turn import Turn, buttons

SUGGESTED_ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles")
KEEP_ZONE = "-"  # "tz:-": keep the zone as it is


def step(turn: Turn) -> str | None:
    """The onboarding step in progress, or None."""
    current = turn.user.dialog.get("onboarding")
    return current if isinstance(current, str) and not turn.user.onboarded else None


def start(turn: Turn) -> Reply:
    if turn.user.onboarded:
        return Reply(
            text=turn.say("welcome_back", tz=turn.user.tz),
            buttons=buttons(
                [Button("Change time zone", "st:tz"), Button("My schedule", "sc:show")],
                [Button("What should I roll?", "r:10:-")],
            ),
        )
    if step(turn) is not None:
        return resume(turn)
    turn.user.dialog["onboarding"] = "timezone"
    return ask_zone(turn, turn.say("welcome", tz=turn.user.tz))


def resume(turn: Turn) -> Reply:
    """The step in progress, asked again: the read-back of a schedule keeps its Save."""
    lead = turn.say("onboarding_resume")
    question = dialog.pending(turn)
    if question is not None and question.kind == "confirm_schedule":
        return dialog.reask(turn, question, lead=lead)
    if step(turn) == "timezone":
        return ask_zone(turn, lead + "\n" + turn.say("timezone_prompt"))
    return ask_schedule(turn, lead + "\n" + turn.say("schedule_prompt"))


def ask_zone(turn: Turn, text: str) -> Reply:
    """Which time zone? A typed zone, a city button, Keep, or (during setup) Skip."""
    reply = Reply(text=text, buttons=zone_buttons(turn))
    return dialog.ask(turn, reply, "timezone", expects="timezone", answer="tz:{}")


def zone_buttons(turn: Turn) -> tuple[tuple[Button, ...], ...]:
    keep = Button(f"Keep {turn.user.tz}", f"tz:{turn.user.tz}", role="yes")
    others = [Button(z.split("/")[-1].replace("_", " "), f"tz:{z}") for z in SUGGESTED_ZONES]
    if step(turn) is not None:
        last = Button("Skip setup", "o:skip", role="skip")
    else:
        last = Button("Cancel", f"tz:{KEEP_ZONE}", role="no")
    return buttons([keep], others[:2], others[2:], [last])


def ask_schedule(turn: Turn, text: str) -> Reply:
    """When do you train? Read back before anything is saved."""
    skip = [Button("Skip for now", "o:skip", role="skip")] if step(turn) else []
    reply = Reply(text=text, buttons=buttons(skip))
    return dialog.ask(turn, reply, "schedule", expects="schedule")


def set_zone(turn: Turn, zone: str) -> Reply:
    """Store a zone chosen by button or text; during onboarding, move on to the schedule."""
    if zone == KEEP_ZONE:
        return Reply(text=turn.say("timezone_kept", tz=turn.user.tz))
    checked = parse_timezone(zone)
    if checked is None:
        return Reply(text=turn.say("timezone_unknown", text=zone[:60]))
    turn.user.tz = checked
    turn.outcome = "timezone_set"
    local = turn.local_now.strftime("%H:%M")
    text = turn.say("timezone_set", tz=checked) + " " + turn.say("local_time_now", time=local)
    if step(turn) != "timezone":
        return Reply(text=text)
    if turn.store.schedules(turn.user.id):  # the training times came first: setup is done
        return Reply(text=text + "\n\n" + finish(turn))
    turn.user.dialog["onboarding"] = "schedule"
    return ask_schedule(turn, text + "\n\n" + turn.say("schedule_prompt"))


def skip(turn: Turn) -> Reply:
    """Setup skipped: at its schedule step (the zone is set), no reminders until a session
    is added; at the zone step, nothing set at all."""
    at_schedule = step(turn) == "schedule"
    dialog.close(turn)
    turn.user.dialog.pop("proposal", None)
    turn.user.dialog.pop("onboarding", None)
    turn.user.onboarded = True
    return Reply(
        text=turn.say("onboarding_no_schedule" if at_schedule else "onboarding_skipped"),
        buttons=buttons([Button("What should I roll?", "r:10:-"), Button("Help", "h")]),
    )


def finish(turn: Turn) -> str:
    """End onboarding after a saved schedule; returns the closing line."""
    turn.user.dialog.pop("onboarding", None)
    turn.user.onboarded = True
    return turn.say("onboarding_done")

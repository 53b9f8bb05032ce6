"""First contact: time zone, then training days, each read back and skippable.

The state lives in `user.dialog["step"]`, so onboarding survives restarts and `/start`
picks up where the user left off. Nothing here is required: every feature works with
the defaults, and "Skip" is always one tap away.
"""

from __future__ import annotations

from bot.core import nudges, training_schedule
from bot.core.replies import Button, Reply
from bot.core.timeplan import parse_timezone
from bot.core.turn import Turn, buttons

SUGGESTED_ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles")


def start(turn: Turn) -> Reply:
    step = turn.user.dialog.get("step")
    if step in {"tz", "schedule", "confirm_schedule"} and not turn.user.onboarded:
        return resume(turn, str(step))
    if turn.user.onboarded:
        return Reply(
            text=turn.say("welcome_back", tz=turn.user.tz),
            buttons=buttons(
                [Button("Change time zone", "st:tz"), Button("My schedule", "sc:show")],
                [Button("What should I roll?", "r:10:-")],
            ),
        )
    turn.user.dialog["step"] = "tz"
    return Reply(text=turn.say("welcome", tz=turn.user.tz), buttons=zone_buttons(turn))


def zone_buttons(turn: Turn) -> tuple[tuple[Button, ...], ...]:
    keep = Button(f"Keep {turn.user.tz}", f"tz:{turn.user.tz}"[:64])
    others = [Button(z.split("/")[-1].replace("_", " "), f"tz:{z}") for z in SUGGESTED_ZONES]
    return buttons([keep], others[:2], others[2:], [Button("Skip setup", "o:skip")])


def resume(turn: Turn, step: str) -> Reply:
    if step == "tz":
        return Reply(
            text=turn.say("onboarding_resume") + "\n" + turn.say("timezone_prompt"),
            buttons=zone_buttons(turn),
        )
    turn.user.dialog["step"] = "schedule"
    turn.user.dialog["onboarding"] = True
    return Reply(
        text=turn.say("onboarding_resume") + "\n" + turn.say("schedule_prompt"),
        buttons=buttons([Button("Skip for now", "o:skip")]),
    )


def set_zone(turn: Turn, zone: str) -> Reply:
    """Store a zone chosen by button or text; during onboarding, move on to the schedule."""
    checked = parse_timezone(zone)
    if checked is None:
        return Reply(text=turn.say("timezone_unknown", text=zone[:60]))
    turn.user.tz = checked
    nudges.replan(turn)  # every future nudge moves to the new zone
    local = turn.local_now.strftime("%H:%M")
    text = turn.say("timezone_set", tz=checked) + " " + turn.say("local_time_now", time=local)
    if turn.user.dialog.get("step") != "tz":
        return Reply(text=text)
    turn.user.dialog["step"] = "schedule"
    turn.user.dialog["onboarding"] = True
    return Reply(
        text=text + "\n\n" + turn.say("schedule_prompt"),
        buttons=buttons([Button("Skip for now", "o:skip")]),
    )


def on_text(turn: Turn, text: str, looks_like_something_else: bool) -> Reply | None:
    """Text while a step waits for an answer; None lets the message be handled normally."""
    step = turn.user.dialog.get("step")
    if step in {"tz", "settings_tz"}:
        zone = parse_timezone(text)
        if zone is not None:
            if step == "settings_tz":
                turn.user.dialog.pop("step", None)
            return set_zone(turn, zone)
        if looks_like_something_else:
            return None
        unknown = turn.say("timezone_unknown", text=text[:60])
        if step == "settings_tz":  # one miss ends a settings prompt: no trap, no setup buttons
            turn.user.dialog.pop("step", None)
            return Reply(text=unknown)
        return Reply(text=unknown, buttons=zone_buttons(turn))
    if step in {"schedule", "confirm_schedule"}:
        onboarding = bool(turn.user.dialog.get("onboarding"))
        proposal = training_schedule.propose(turn, text, onboarding=onboarding)
        if proposal is not None and (proposal.buttons or not looks_like_something_else):
            return proposal
        if looks_like_something_else or step == "confirm_schedule":
            return None  # they moved on; the Save button of the proposal still works
        return Reply(text=turn.say("schedule_examples"), buttons=_skip_if_onboarding(onboarding))
    return None


def _skip_if_onboarding(onboarding: bool) -> tuple[tuple[Button, ...], ...]:
    return buttons([Button("Skip for now", "o:skip")]) if onboarding else ()


def skip(turn: Turn) -> Reply:
    turn.user.dialog.pop("step", None)
    turn.user.dialog.pop("proposal", None)
    turn.user.dialog.pop("onboarding", None)
    turn.user.onboarded = True
    nudges.replan(turn)
    return Reply(
        text=turn.say("onboarding_skipped"),
        buttons=buttons([Button("What should I roll?", "r:10:-"), Button("Help", "h")]),
    )

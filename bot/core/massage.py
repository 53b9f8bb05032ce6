"""Massages: logging one in a tap or a sentence, and where the month stands against the target.

The coaching rests on pairing both tools: foam roll before every workout, and a massage
2-4 times a month for what a roller cannot do (relaxation, directional work on fascia,
a therapist's specificity).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.core.parsing import Parsed
from bot.core.replies import Button, Reply
from bot.core.turn import Turn, buttons

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def month_start(turn: Turn) -> datetime:
    """Midnight on the first of the user's current month, as an aware instant."""
    local = turn.local_now
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def count_this_month(turn: Turn) -> int:
    return len(turn.store.massages_since(turn.user.id, month_start(turn)))


def when_had(turn: Turn, text: str) -> datetime:
    """When a reported massage happened: "yesterday", "on Saturday" (today if it is
    Saturday, else the last one), else now."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    if "yesterday" in words:
        return turn.now - timedelta(days=1)
    today = turn.local_now.weekday()
    for index, name in enumerate(WEEKDAY_NAMES):
        if name in words or f"{name}s" in words or name[:3] in words - {"sat", "sun", "wed"}:
            return turn.now - timedelta(days=(today - index) % 7)
    return turn.now


def log_massage(turn: Turn, at: datetime | None = None, note: str = "") -> Reply:
    record = turn.store.record_massage(turn.user.id, at or turn.now, note=note[:500])
    count = count_this_month(turn)
    target = turn.user.massage_target
    text = turn.say("massage_logged", count=count, target=target)
    return Reply(text=text, buttons=buttons([Button("Undo", f"mu:{record.id}")]))


def from_message(turn: Turn, parsed: Parsed, text: str) -> Reply:
    if parsed.massage_planned:
        return Reply(
            text=turn.say("massage_booked"),
            buttons=buttons([Button("I had it - log it", "m:log")]),
        )
    return log_massage(turn, when_had(turn, text), note=text)


def status(turn: Turn) -> Reply:
    """This month against the target, days since the last one, one tap to log."""
    count = count_this_month(turn)
    target = turn.user.massage_target
    last = turn.store.last_massage(turn.user.id)
    key = "massage_on_track" if count >= target else "massage_behind"
    lines = [turn.say(key, count=count, target=target)]
    if last is not None:
        days = (turn.now - last.at).days
        lines.append(turn.say("massage_days_since", days=days))
    else:
        lines.append(turn.say("massage_none_yet"))
    if count < target:
        reminders = turn.library.massage.reminders
        lines.append(reminders[turn.now.toordinal() % len(reminders)].text)
    return Reply(
        text="\n".join(lines),
        buttons=buttons([Button("I had one today", "m:log")]),
        private=True,
    )


def undo(turn: Turn, massage_id: int) -> Reply:
    if not turn.store.delete_massage(turn.user.id, massage_id):
        return Reply(text=turn.say("button_expired"))
    return Reply(text=turn.say("massage_undone"))

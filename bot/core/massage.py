"""Massages: logging one in a tap or a sentence, and where the month stands against the target.

The coaching rests on pairing both tools: foam roll before every workout, and a massage
2-4 times a month for what a roller cannot do (relaxation, directional work on fascia,
a therapist's specificity).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.core import dialog
from bot.core.parsing import Parsed
from bot.core.records import MassageRecord
from bot.core.replies import Button, Reply
from bot.core.turn import Turn, buttons

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CALLED_OFF = frozenset({"cancelled", "canceled", "cancel", "postponed", "moved", "rescheduled"})
SAME_MASSAGE = timedelta(hours=2)  # two logs this close together are one massage
LOG_WORDS = frozenset({"log", "had", "today", "yesterday", "done", "got"})
_UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "wk": 7, "wks": 7}
_AGO = re.compile(
    r"\b(\d{1,2}|an?|one|two|three|four|five|six|a couple of|couple of|a few|few)\s+"
    r"(days?|weeks?|wks?|months?)\s+ago\b"
)
_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_COUNTS |= {"a couple of": 2, "couple of": 2, "a few": 3, "few": 3}


def month_start(turn: Turn) -> datetime:
    """Midnight on the first of the user's current month, as an aware instant."""
    local = turn.local_now
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def count_this_month(turn: Turn) -> int:
    return len(turn.store.massages_since(turn.user.id, month_start(turn)))


def when_had(turn: Turn, text: str) -> datetime:
    """When a reported massage happened (see `date_said`), else now."""
    return date_said(turn, text) or turn.now


def date_said(turn: Turn, text: str) -> datetime | None:
    """A past day named in the text: "yesterday", "on Saturday" (today if it is Saturday,
    else the last one), "last Saturday", "3 days ago", "2 weeks ago", "last week", "last
    month" (the same day a month back), "today"; None when no day is named."""
    lowered = text.lower()
    words = set(re.findall(r"[a-z]+", lowered))
    if "day before yesterday" in lowered:
        return turn.now - timedelta(days=2)
    if "yesterday" in words:
        return turn.now - timedelta(days=1)
    ago = _AGO.search(lowered)
    if ago is not None:
        count = int(ago[1]) if ago[1].isdigit() else _COUNTS[ago[1]]
        if ago[2].startswith("month"):
            return _months_back(turn, count)
        return turn.now - timedelta(days=count * _UNITS[ago[2]])
    if re.search(r"\blast (?:month|mo)\b", lowered):
        return _months_back(turn, 1)
    if re.search(r"\b(?:last|past|previous) week\b", lowered):
        return turn.now - timedelta(days=7)
    today = turn.local_now.weekday()
    for index, name in enumerate(WEEKDAY_NAMES):
        if name in words or f"{name}s" in words or name[:3] in words - {"sat", "sun", "wed"}:
            back = (today - index) % 7
            if back == 0 and re.search(rf"\blast {name[:3]}", lowered):
                back = 7
            return turn.now - timedelta(days=back)
    if words & {"today", "tonight"} or re.search(r"\bthis (?:morning|afternoon|evening)", lowered):
        return turn.now
    return None


def _months_back(turn: Turn, months: int) -> datetime:
    """The same local day `months` back (the 31st becomes the month's last day)."""
    local = turn.local_now
    year, month = divmod(local.year * 12 + local.month - 1 - months, 12)
    day = min(local.day, _days_in(year, month + 1))
    return local.replace(year=year, month=month + 1, day=day)


def _days_in(year: int, month: int) -> int:
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def log_massage(turn: Turn, at: datetime | None = None, note: str = "") -> Reply:
    """Log one; a massage from an earlier month counts there, and the reply says so. The
    same massage logged again (a button tapped three times) is logged once."""
    when = at or turn.now
    twin = _same_massage(turn, when)
    if twin is not None:
        return Reply(
            text=turn.say("massage_already_logged"),
            buttons=buttons([Button("Undo", f"mu:{twin.id}", role="undo")]),
        )
    record = turn.store.record_massage(turn.user.id, when, note=note[:500])
    count = count_this_month(turn)
    target = turn.user.massage_target
    turn.outcome = "massage_logged"
    day = f"{when.astimezone(turn.zone):%a %d %b}"
    if when < month_start(turn):
        text = turn.say("massage_logged_earlier", day=day, count=count, target=target)
    elif when.astimezone(turn.zone).date() != turn.local_now.date():
        text = turn.say("massage_logged_on", day=day, count=count, target=target)
    else:
        text = turn.say("massage_logged", count=count, target=target)
    return Reply(text=text, buttons=buttons([Button("Undo", f"mu:{record.id}", role="undo")]))


def _same_massage(turn: Turn, when: datetime) -> MassageRecord | None:
    """A massage already logged for the same moment (within `SAME_MASSAGE`)."""
    nearby = turn.store.massages_since(turn.user.id, when - SAME_MASSAGE)
    return next((m for m in nearby if abs(m.at - when) < SAME_MASSAGE), None)


def from_message(turn: Turn, parsed: Parsed, text: str) -> Reply:
    if parsed.massage_planned:
        turn.outcome = "massage_planned"
        reply = Reply(
            text=turn.say("massage_booked"),
            buttons=buttons([Button("I had it - log it", "m:log", role="yes")]),
        )
        return dialog.ask(turn, reply, "massage_when", expects="massage_date", reask=False)
    return log_massage(turn, when_had(turn, text), note=text)


def talked_about(turn: Turn, text: str) -> bool:
    """A massage mentioned without reporting one ("I haven't had a massage in ages", "my
    massage got cancelled"): the month's count is the useful answer."""
    words = set(re.findall(r"[a-z']+", text.lower()))
    return bool(words & set(turn.library.language.massage_words))


def called_off_line(turn: Turn, text: str) -> str:
    """ "Okay, nothing logged" before the status when a massage was called off."""
    words = set(re.findall(r"[a-z']+", text.lower()))
    return turn.say("massage_called_off") if words & CALLED_OFF else ""


def status(turn: Turn, lead: str = "") -> Reply:
    """This month against the target, days since the last one, one tap to log."""
    count = count_this_month(turn)
    target = turn.user.massage_target
    last = turn.store.last_massage(turn.user.id)
    key = "massage_on_track" if count >= target else "massage_behind"
    lines = [lead] if lead else []
    lines.append(turn.say(key, count=count, target=target))
    days: int | None = None
    if last is not None:
        days = (turn.local_now.date() - last.at.astimezone(turn.zone).date()).days
        key = "massage_today" if days <= 0 else "massage_days_since"
        lines.append(turn.say(key, days=days))
    else:
        lines.append(turn.say("massage_none_yet"))
    if count < target:
        reminders = turn.library.massage.reminders
        lines.append(reminders[turn.now.toordinal() % len(reminders)].text)
    if days is not None and days <= 0:  # logged today already: a day counts one massage
        return Reply(text="\n".join(lines), private=True)
    reply = Reply(
        text="\n".join(lines),
        buttons=buttons([Button("I had one today", "m:log", role="yes")]),
        private=True,
    )
    return dialog.ask(turn, reply, "massage_when", expects="massage_date", reask=False)


def undo(turn: Turn, massage_id: int) -> Reply:
    if not turn.store.delete_massage(turn.user.id, massage_id):
        return Reply(text=turn.say("button_expired"))
    return Reply(text=turn.say("massage_undone"))

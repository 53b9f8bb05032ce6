"""The user's own data and preferences: settings, pause, history, export and forget.

A user's data is theirs: `/export` hands over every stored row as JSON, and `/forget`
deletes every row after a confirmation tap. `/history` is the last 14 days in words with a
chart of four weeks, and a body map of the soreness now (`bot.core.progress`); two settings
are off until turned on: the body map with "what should I roll?" answers, and the weekly
summary (`bot.core.weekly`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from bot.core import dialog, massage, progress
from bot.core.onboarding import ask_zone, set_zone
from bot.core.recommend import MAX_MINUTES, day_words
from bot.core.records import WEEKDAYS, SorenessReport
from bot.core.replies import Attachment, Button, Reply
from bot.core.timeplan import parse_clock_time
from bot.core.turn import Turn, buttons

LEAD_CHOICES = (15, 30, 45, 60)
HISTORY_DAYS = progress.HISTORY_DAYS
TOP_AREAS = 5
TOGGLES = {"weekly": "weekly_summary", "map": "body_map"}
"""The on/off settings: their key in button data and `/settings <key> on|off`, and the
`User` field each one sets."""
_TOGGLE_WORDS = {
    "weekly": "weekly",
    "weekly_summary": "weekly",
    "summary": "weekly",
    "map": "map",
    "bodymap": "map",
    "body_map": "map",
    "body": "map",
}
_ON, _OFF = (
    frozenset({"on", "yes", "true", "1", "enable"}),
    frozenset({"off", "no", "false", "0", "disable"}),
)

# --- settings ---------------------------------------------------------------------------


def settings(turn: Turn, argument: str = "") -> Reply:
    """Show settings with buttons, or change one: `tz <zone>`, `lead <min>`, `quiet <a-b|off>`."""
    key, _, value = argument.strip().partition(" ")
    key = key.lower()
    if key in {"tz", "timezone", "zone"}:
        return _change_zone(turn, value)
    if key in {"lead", "reminder", "before"}:
        return set_lead(turn, value)
    if key in {"quiet", "quiet_hours"}:
        return set_quiet(turn, value)
    if key in {"massage", "massages", "target"}:
        return set_massage_target(turn, value)
    if key in {"massage_day", "massageday", "massage-day"}:
        return set_massage_day(turn, value)
    if key in _TOGGLE_WORDS:
        return set_toggle(turn, _TOGGLE_WORDS[key], value.split(" ")[-1] if value else "")
    return _show_settings(turn)


def _show_settings(turn: Turn) -> Reply:
    user = turn.user
    quiet = f"{user.quiet_start}-{user.quiet_end}" if user.quiet_start else "off"
    text = turn.say(
        "settings",
        tz=user.tz,
        lead=user.lead_minutes,
        quiet=quiet,
        target=user.massage_target,
        massage_day=user.massage_day.capitalize(),
        massage_time=user.massage_time,
        state="paused" if user.paused else "on",
        weekly="on" if user.weekly_summary else "off",
        body_map="on" if user.body_map else "off",
    )
    leads = [Button(f"{n} min", f"st:lead:{n}") for n in LEAD_CHOICES if n != user.lead_minutes]
    quiet_row = [
        Button("Quiet 22:00-07:00", "st:quiet:22:00-07:00"),
        Button("Quiet off", "st:quiet:off"),
    ]
    toggles = [
        Button(
            "Weekly summary - turn off" if user.weekly_summary else "Weekly summary - turn on",
            "st:weekly:off" if user.weekly_summary else "st:weekly:on",
        ),
        Button(
            "Body map - turn off" if user.body_map else "Body map - turn on",
            "st:map:off" if user.body_map else "st:map:on",
        ),
    ]
    return Reply(
        text=text,
        buttons=buttons(leads, quiet_row, toggles, [Button("Change time zone", "st:tz")]),
        private=True,
    )


def set_toggle(turn: Turn, key: str, value: str) -> Reply:
    """`weekly` or `map` on or off (`/settings weekly on`, the buttons, plain words)."""
    field = TOGGLES.get(key)
    said = value.strip().lower()
    if field is None or said not in _ON | _OFF:
        return Reply(text=turn.say("toggle_help"))
    on = said in _ON
    setattr(turn.user, field, on)
    turn.outcome = "control"
    return Reply(text=turn.say(f"{key}_{'on' if on else 'off'}"))


def _change_zone(turn: Turn, value: str) -> Reply:
    if value.strip():
        return set_zone(turn, value.strip())
    return ask_zone(turn, turn.say("timezone_prompt"))


def set_lead(turn: Turn, value: str) -> Reply:
    """Minutes before each workout, 5-180; anything else is refused and nothing changes."""
    found = re.fullmatch(r"\s*(\d{1,4})\s*(?:m|min|mins|minutes?)?\s*", value.lower())
    if found is None or not 5 <= int(found[1]) <= 180:
        return Reply(text=turn.say("lead_help", text=value.strip()[:20] or "nothing"))
    turn.user.lead_minutes = int(found[1])
    turn.outcome = "control"
    return Reply(text=turn.say("lead_set", lead=turn.user.lead_minutes))


def set_quiet(turn: Turn, value: str) -> Reply:
    value = value.strip().lower()
    if value in {"off", "none", "no", ""}:
        turn.user.quiet_start = turn.user.quiet_end = None
        turn.outcome = "control"
        return Reply(text=turn.say("quiet_off"))
    start_text, _, end_text = value.replace(" to ", "-").partition("-")
    start, end = (
        parse_clock_time(start_text.strip(), turn.library),
        parse_clock_time(end_text.strip(), turn.library),
    )
    if start is None or end is None or start == end:
        return Reply(text=turn.say("quiet_help"))
    turn.user.quiet_start, turn.user.quiet_end = start, end
    turn.outcome = "control"
    return Reply(text=turn.say("quiet_set", start=start, end=end))


def set_massage_day(turn: Turn, value: str) -> Reply:
    """ "sun 09:00": the monthly massage check-in on the first such day at that time."""
    words = value.lower().split()
    day = next((w[:3] for w in words if w[:3] in WEEKDAYS), None)
    said = re.findall(r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm)?(?!\w)", value.lower())  # not "1st"
    time = next((t for t in (parse_clock_time(w, turn.library) for w in said) if t), None)
    time = time or turn.user.massage_time or "10:00"  # a day alone keeps the time
    if day is None:
        return Reply(text=turn.say("massage_day_help"))
    turn.user.massage_day, turn.user.massage_time = day, time
    return Reply(text=turn.say("massage_day_set", day=day.capitalize(), time=time))


def set_massage_target(turn: Turn, value: str) -> Reply:
    digits = "".join(ch for ch in value if ch in "0123456789")
    if not digits or not 1 <= int(digits) <= 8:
        return Reply(text=turn.say("massage_target_help"))
    turn.user.massage_target = int(digits)
    return Reply(text=turn.say("massage_target_set", target=turn.user.massage_target))


def pause(turn: Turn) -> Reply:
    turn.user.paused = True
    turn.outcome = "control"
    return Reply(text=turn.say("paused"), buttons=buttons([Button("Resume", "p:resume")]))


def resume(turn: Turn) -> Reply:
    turn.user.paused = False
    turn.outcome = "control"
    return Reply(text=turn.say("resumed"))


# --- settings said in plain words ---------------------------------------------------------

_CLOCK = r"(\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm)?|midnight|noon)"
_LEAD = re.compile(
    r"\b(?:remind(?:er|ers)?|nudge|nudges|ping|message|tell|notify|lead time)\b"
    r"(?: me)?(?: about)?(?: (?:to|at|for|is))?(?: be)? (\d{1,3}|an?|half an?|one)\s*"
    r"(min|mins|minutes?|m|hours?|hrs?|h)?\s*(?:before|ahead|earlier|beforehand|prior)"
)
_QUIET = re.compile(
    r"\b(?:quiet|silence|silent|no (?:reminders|nudges|messages|notifications)|"
    r"(?:do not|don't|dont) (?:remind|nudge|message|ping|bother) me)"
    r"(?: hours?)?:? (?:(?:after|from|past|between|at) )?"
    + _CLOCK
    + r"(?:\s*(?:to|until|till|and|-)\s*"
    + _CLOCK
    + r")?"
)

_LEAD_TO = re.compile(
    r"\b(?:change|set|move|make|switch|put)\s+(?:my\s+|the\s+)?(?:reminders?|nudges?|lead time)"
    r"\s+(?:to|at|for)\s+(\d{1,3})\s*(min|mins|minutes?|m|hours?|hrs?|h)\b"
)
_LEAD_OK = re.compile(  # a reply to "I'll remind you 30 minutes before": "30 min is fine"
    r"^(?:(?:yes|yeah|yep|ok|okay|sure)[,.!]? )?(\d{1,3})\s*(min|mins|minutes?|m|hours?|hrs?|h)"
    r"(?: before)?(?: is| are| sounds| works| would be| will be| should be)?"
    r" (?:fine|good|great|ok|okay|perfect|better|plenty|enough|works)\b(?: for me| thanks)?[.!]*$"
)
_QUIET_OFF = re.compile(
    r"\b(?:turn off|switch off|disable|no more|remove|clear|cancel|end|drop)\s+(?:the\s+|my\s+)?"
    r"quiet hours?\b|\bquiet(?: hours?)? off\b|^no quiet hours?$"
)
_MASSAGE_DAY = re.compile(
    r"\bmassage (?:day|check ?-?in|reminder)s?\b.*?\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b"
)
_COUNT = r"(\d{1,2}|one|two|three|four|five|six|seven|eight)"
_MASSAGE_TARGET = re.compile(
    r"\bmassages?\b.*\b(?:target|goal|aim)\b\D*?" + _COUNT + r"\b"
    r"|\b(?:target|goal|aim)\b\D*?" + _COUNT + r" massages?\b"
    r"|\b" + _COUNT + r" massages? (?:a|per|each|every) month\b"
)
_MASSAGE_CADENCE = re.compile(  # "a massage every 2 weeks": a monthly target, said as a rhythm
    # not a report of the past or of soreness: "had a massage every week, calves still sore"
    r"^(?!.*\b(?:had|got|went|was|were|did|sore|tight|hurts?|aching|stiff)\b).*?(?:"
    r"\bmassages?\b.*\b(?:every (?P<weeks>\d|two|three|four|other) weeks?|(?P<weekly>every week|"
    r"once a week|weekly)|(?P<times>twice|\d|two|three|four) (?:times )?(?:a|per) month)\b"
    r"|\b(?:every (?P<weeks2>\d|two|three|four|other) weeks?|(?P<weekly2>every week|once a week|"
    r"weekly)|(?P<times2>twice|\d|two|three|four) (?:times )?(?:a|per) month)\b.*\bmassages?\b)"
)
_COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_COUNT_WORDS |= {"eight": 8}


_TOGGLED = re.compile(
    r"\b(?:(?P<off>turn off|switch off|disable|stop|no more|(?:do not|don't|dont) "
    r"(?:send|show)(?: me)?|without)|(?P<on>turn on|switch on|enable|send me|"
    r"i(?: want| would like|'d like)|give me))\b(?: (?:the|a|my|your|me))*"
    r" (?P<what>weekly (?:summary|summaries|report|reports|recap)|body ?maps?)\b"
)
_TOGGLED_AFTER = re.compile(
    r"(?:^|\bturn |\bswitch )(?:the |my )?"
    r"(?P<what>weekly (?:summary|summaries|report|recap)|body ?maps?)(?: please)?:? "
    r"(?P<state>on|off)\b"
)

_SETTINGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("toggle", _TOGGLED),
    ("toggle", _TOGGLED_AFTER),
    ("lead", _LEAD),
    ("lead", _LEAD_TO),
    ("massage_day", _MASSAGE_DAY),
    ("quiet_off", _QUIET_OFF),
    ("massage_target", _MASSAGE_TARGET),
    ("massage_cadence", _MASSAGE_CADENCE),
    ("quiet", _QUIET),
)
"""Settings said in words, tried in this order ("turn off quiet hours" before "quiet ...")."""


def said_a_setting(text: str) -> bool:
    """Whether `control_from_text` would change a setting, without changing it: such a
    message is never read as the answer to an open question ("quiet after 10pm" is not
    a training time)."""
    return _setting_said(" ".join(text.lower().split())) is not None


def _per_month(found: re.Match[str]) -> int:
    """Massages a month for a rhythm: every week 4, every other week or twice a month 2,
    every 3 weeks 1 (about 4.3 weeks to a month)."""
    said = {key.rstrip("2"): value for key, value in found.groupdict().items() if value}
    if "weekly" in said:
        return 4
    if "weeks" in said:
        every = said["weeks"]
        weeks = 2 if every == "other" else int(_COUNT_WORDS.get(every, every))
        return max(1, round(4.3 / max(1, weeks)))
    times = said["times"]
    return 2 if times == "twice" else int(_COUNT_WORDS.get(times, times))


def _lead_kept(turn: Turn, lowered: str) -> bool:
    """ "30 min is fine" in reply to "I'll remind you 30 minutes before": the lead time the
    user has, and longer than any routine (so not "10 min is fine" for a routine's length)."""
    found = _LEAD_OK.search(lowered)
    if found is None:
        return False
    minutes = int(found[1]) * (60 if found[2].startswith("h") else 1)
    return minutes == turn.user.lead_minutes and minutes > MAX_MINUTES


def _setting_said(lowered: str) -> tuple[str, re.Match[str]] | None:
    """The first setting the message changes, in `_SETTINGS` order, with its match."""
    for name, pattern in _SETTINGS:
        found = pattern.search(lowered)
        if found is not None:
            return name, found
    return None


def control_from_text(turn: Turn, text: str) -> Reply | None:
    """A setting changed in plain words: "remind me 45 min before", "quiet after 10pm",
    "send me a weekly summary", "body map off", "set my massage target to 2"."""
    lowered = " ".join(text.lower().split())
    if _lead_kept(turn, lowered):
        return Reply(text=turn.say("lead_kept", lead=turn.user.lead_minutes))
    said = _setting_said(lowered)
    if said is None:
        return None
    name, found = said
    if name == "toggle":
        key = "weekly" if found["what"].startswith("weekly") else "map"
        groups = found.groupdict()
        on = groups.get("state") == "on" if groups.get("state") else bool(groups.get("on"))
        return set_toggle(turn, key, "on" if on else "off")
    if name == "lead":
        amount, unit = found[1], found[2] or "min"
        minutes = (
            30 if amount.startswith("half") else 1 if amount in {"a", "an", "one"} else int(amount)
        )
        if unit.startswith("h"):
            minutes *= 60
        return set_lead(turn, str(minutes))
    if name == "massage_day":
        return set_massage_day(turn, lowered)
    if name == "quiet_off":
        return set_quiet(turn, "off")
    if name == "massage_target":
        count = next(group for group in found.groups() if group)
        return set_massage_target(turn, str(_COUNT_WORDS.get(count, count)))
    if name == "massage_cadence":
        return set_massage_target(turn, str(_per_month(found)))
    start = parse_clock_time(_evening(found[1]), turn.library)
    end = parse_clock_time(found[2], turn.library) if found[2] else "07:00"
    if start is None or end is None:
        return Reply(text=turn.say("quiet_help"))
    return set_quiet(turn, f"{start}-{end}")


def _evening(clock: str) -> str:
    """ "quiet after 10" means 10 pm: a bare hour before noon starts quiet hours at night."""
    bare = re.fullmatch(r"(\d{1,2})", clock.strip())
    return f"{bare[1]}pm" if bare and 1 <= int(bare[1]) <= 11 else clock


# --- history, export, forget ------------------------------------------------------------


def history(turn: Turn) -> Reply:
    """The last 14 days in words with a chart of four weeks, then the body map now; a
    friendly line instead when there is nothing to show yet."""
    records = progress.load(turn)
    if records.empty:
        return Reply(text=turn.say("history_empty", days=progress.CHART_DAYS), private=True)
    since = turn.now - timedelta(days=HISTORY_DAYS)
    lines = [turn.say("history_header", days=HISTORY_DAYS)]
    lines += _sore_area_lines(turn, records, since) or [turn.say("history_no_soreness")]
    rolled = [session for session in records.rolled if session.at >= since]
    if rolled:
        minutes = round(sum(session.seconds for session in rolled) / 60)
        last = f"{rolled[-1].at.astimezone(turn.zone):%a %d %b}"
        lines.append(turn.say("history_rolling", count=len(rolled), minutes=minutes, last=last))
    else:
        lines.append(turn.say("history_no_rolling"))
    tally = progress.nudge_tally(records, since)
    if tally.sent:
        lines.append(
            turn.say(
                "history_nudges",
                count=tally.sent,
                followed=tally.followed,
                skipped=tally.skipped,
            )
        )
    count, target = massage.count_this_month(turn), turn.user.massage_target
    lines.append(turn.say("history_massages", count=count, target=target))
    flags = turn.store.red_flags_since(turn.user.id, turn.now - timedelta(days=30))
    if flags:
        lines.append(turn.say("history_red_flags", count=len(flags)))
    summary = Reply(
        text="\n".join(lines), picture=progress.history_chart(turn, records), private=True
    )
    body = progress.body_map(turn, records.reports)
    if body is None:
        return summary
    turn.replies.append(summary)  # the summary first, the body map after it
    return Reply(text=progress.body_map_caption(turn, body), picture=body, private=True)


def _sore_area_lines(turn: Turn, records: progress.Records, since: datetime) -> list[str]:
    """The most recently sorest areas, each with what was said since `since` and when the
    latest was: "• Calves: 7 → 5 → 3/10 (latest yesterday)"."""
    latest: dict[str, SorenessReport] = {}
    said: dict[str, list[int]] = {}
    for report in records.reports:  # oldest first
        if report.at >= since:
            latest[report.area] = report
            said.setdefault(report.area, []).append(report.severity)
    top = sorted(said, key=lambda area: (-latest[area].severity, -max(said[area])))
    lines = []
    for area in top[:TOP_AREAS]:
        name = turn.library.areas[area].name if area in turn.library.areas else area
        when = day_words(latest[area].at, turn.now, turn.zone)
        levels = said[area][-6:]
        key = "history_area" if len(levels) == 1 else "history_area_trail"
        trail = " → ".join(str(level) for level in levels)
        lines.append(turn.say(key, area=name, levels=trail, when=when))
    return lines


def export(turn: Turn) -> Reply:
    data = turn.store.export_user(turn.user.id)
    payload = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode("utf-8")
    return Reply(
        text=turn.say("export_ready"),
        attachment=Attachment(f"recovery-coach-export-{turn.user.id}.json", payload),
        private=True,
    )


def ask_to_forget(turn: Turn) -> Reply:
    """Delete everything? Asked first, answered with a tap or a typed yes/no."""
    reply = Reply(
        text=turn.say("forget_confirm"),
        buttons=buttons(
            [
                Button("Yes, delete everything", "f:yes", role="yes"),
                Button("Cancel", "f:no", role="no"),
            ]
        ),
        private=True,
    )
    return dialog.ask(turn, reply, "forget")


def forget(turn: Turn) -> Reply:
    turn.store.forget_user(turn.user.id)
    turn.forgotten = True
    turn.outcome = "forgotten"
    return Reply(text=turn.say("forgotten"), private=True)


def keep_data(turn: Turn) -> Reply:
    turn.outcome = "cancelled"
    return Reply(text=turn.say("forget_cancelled"), private=True)

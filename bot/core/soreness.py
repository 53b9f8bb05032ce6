"""Recording soreness from a message, confirming it, and fixing it with buttons.

A report is confirmed with exactly what was recorded ("calves 7/10") and buttons to
change the severity, pick the right area or undo — because a parser that is right 95% of
the time still needs a one-tap way to be corrected.
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot.core import dialog
from bot.core.parsing import Parsed
from bot.core.recommend import escalations, mid_sentence
from bot.core.records import SorenessReport
from bot.core.replies import Button, Reply
from bot.core.turn import Turn, buttons

SEVERITY_CHOICES = (0, 2, 3, 5, 7, 9, 10)
ESCALATION_LOOKBACK = timedelta(days=30)
CORRECTION_WINDOW = timedelta(minutes=15)
"""How long after a report "no I meant quads" changes it instead of adding one."""
ADDING = re.compile(r"\b(?:too|also|as well|another|plus|and my)\b")
_BARE_SEVERITY = re.compile(
    r"^(?:(?:no |nah |actually |more |its |it's |prob |probably |maybe |about |like |"
    r"more like |closer to |a |an )*)(\d{1,2})(?:\s*(?:/|out of)\s*10)?(?: actually)?$"
)


def area_label(turn: Turn, area_id: str) -> str:
    """The area's name as it reads mid-sentence ("calves", "IT band")."""
    return mid_sentence(turn.library.areas[area_id].name)


def describe(turn: Turn, report: SorenessReport) -> str:
    if report.severity == 0:
        return f"{area_label(turn, report.area)} recovered"
    return f"{area_label(turn, report.area)} {report.severity}/10"


def record_from_message(turn: Turn, parsed: Parsed, text: str) -> list[SorenessReport]:
    return [
        turn.store.record_soreness(turn.user.id, area, severity, turn.now, note=text[:500])
        for area, severity in parsed.soreness.items()
    ]


def confirm(turn: Turn, reports: list[SorenessReport]) -> Reply:
    """What was recorded, with buttons to fix it and a nudge towards a routine."""
    summary = ", ".join(describe(turn, report) for report in reports)
    text = turn.say("soreness_recorded", summary=summary)
    turn.outcome = "soreness"
    notes = escalation_notes(turn, {report.area for report in reports if report.severity >= 5})
    if notes:
        text += "\n\n" + "\n".join(notes)
    return Reply(text=text, buttons=fix_buttons(reports))


def fix_buttons(reports: list[SorenessReport]) -> tuple[tuple[Button, ...], ...]:
    undo = Button("Undo", f"u:{_id_span(reports)}", role="undo")
    roll = Button("What should I roll?", "r:10:-")
    if len(reports) == 1:
        only = reports[0].id
        return buttons(
            [Button("Change severity", f"sv:{only}"), Button("Wrong area", f"wa:{only}")],
            [undo, roll],
        )
    return buttons([undo, roll])


def _id_span(reports: list[SorenessReport]) -> str:
    """The reports' ids for a button: "12,13" or, when that would not fit, "12-30".

    One message's reports are written in one transaction, so their ids are consecutive;
    undo only ever deletes the user's own reports in that range.
    """
    ids = [report.id for report in reports]
    listed = ",".join(str(i) for i in ids)
    return listed if len(listed) <= 60 else f"{min(ids)}-{max(ids)}"


def report_ids(argument: str) -> list[int]:
    """Parse "12,13" or "12-30" back into ids; ValueError for anything else."""
    if "-" in argument:
        first, _, last = argument.partition("-")
        low, high = int(first), int(last)
        if not 0 < low <= high or high - low > 100:
            raise ValueError(argument)
        return list(range(low, high + 1))
    return [int(part) for part in argument.split(",") if part]


def escalation_notes(turn: Turn, areas: set[str]) -> list[str]:
    """The massage-therapist suggestion for areas sore for a week or more."""
    if not areas:
        return []
    reports = turn.store.soreness_since(turn.user.id, turn.now - ESCALATION_LOOKBACK)
    return [
        turn.library.massage.escalation.format(area=area_label(turn, item.area.id), days=item.days)
        for item in escalations(turn.library, reports, turn.now)
        if item.area.id in areas
    ]


def ask_for_soreness(turn: Turn, key: str) -> Reply:
    """Which area, how sore? The next message that names an area answers it."""
    reply = Reply(text=turn.say(key))
    return dialog.ask(turn, reply, "soreness", expects="soreness", reask=False)


def sore_everywhere(turn: Turn) -> Reply:
    """ "Sore everywhere": a full-body routine a tap away, or the worst areas to put first."""
    reply = Reply(
        text=turn.say("soreness_everywhere"),
        buttons=buttons([Button("Full-body routine", "r:10:full_body", role="yes")]),
    )
    return dialog.ask(turn, reply, "soreness", expects="soreness", reask=False)


def choose_severity(turn: Turn, report_id: int) -> Reply:
    """The severity picker: a tap, or any number 0-10 typed."""
    report = turn.store.get_soreness(turn.user.id, report_id)
    if report is None:
        return expired(turn)
    row = [Button(str(level), f"sv:{report.id}:{level}") for level in SEVERITY_CHOICES]
    area = area_label(turn, report.area)
    reply = Reply(text=turn.say("severity_prompt", area=area), buttons=buttons(row[:4], row[4:]))
    prompt = turn.say("ask_severity", area=area)
    return dialog.ask(
        turn, reply, "severity", expects="number", answer=f"sv:{report.id}:{{}}", prompt=prompt
    )


def set_severity(turn: Turn, report_id: int, severity: int) -> Reply:
    report = turn.store.update_soreness(turn.user.id, report_id, severity=max(0, min(10, severity)))
    if report is None:
        return expired(turn)
    return Reply(
        text=turn.say("soreness_updated", summary=describe(turn, report)),
        buttons=fix_buttons([report]),
    )


def choose_area(turn: Turn, report_id: int) -> Reply:
    report = turn.store.get_soreness(turn.user.id, report_id)
    if report is None:
        return expired(turn)
    choices = [
        Button(area.name, f"wa:{report.id}:{area.id}")
        for area in turn.library.areas.values()
        if area.id != report.area
    ]
    rows = [choices[i : i + 3] for i in range(0, len(choices), 3)]
    reply = Reply(text=turn.say("which_area_prompt"), buttons=buttons(*rows))
    return dialog.ask(turn, reply, "area", expects="area", answer=f"wa:{report.id}:{{}}")


def set_area(turn: Turn, report_id: int, area_id: str) -> Reply:
    if area_id not in turn.library.areas:
        return expired(turn)
    report = turn.store.update_soreness(turn.user.id, report_id, area=area_id)
    if report is None:
        return expired(turn)
    return Reply(
        text=turn.say("soreness_fixed", summary=describe(turn, report)),
        buttons=fix_buttons([report]),
    )


def undo(turn: Turn, report_ids: list[int]) -> Reply:
    removed = [rid for rid in report_ids if turn.store.delete_soreness(turn.user.id, rid)]
    if not removed:
        return expired(turn)
    return Reply(text=turn.say("soreness_undone"))


def expired(turn: Turn) -> Reply:
    return Reply(text=turn.say("button_expired"))


def severity_follow_up(turn: Turn, text: str) -> tuple[SorenessReport, int] | None:
    """(report, severity) when a message is only a number ("7", "more like a 7",
    "8/10") and the latest reply on screen is a report whose severity was guessed from
    words ("hamstrings r sore" is 5/10), with its Change severity button: the number is
    that report's severity, not a time or a list position. After "calves 7/10" a bare
    number is not taken to change what was said."""
    found = _BARE_SEVERITY.match(" ".join(text.lower().strip(" .!").split()))
    if found is None or int(found.group(1)) > 10:
        return None
    shown = dialog.offer(turn)
    choices = shown.choices if shown is not None else ()
    changeable = [b.data for b in choices if b.data.startswith("sv:") and b.data.count(":") == 1]
    if len(changeable) != 1:
        return None
    report_id = changeable[0].partition(":")[2]
    report = turn.store.get_soreness(turn.user.id, int(report_id)) if report_id.isdigit() else None
    if report is None or any(ch.isdigit() for ch in report.note):
        return None
    return report, int(found.group(1))


def correct(turn: Turn, parsed: Parsed, text: str) -> Reply | None:
    """A correction of the report just made ("no I meant quads", "actually it was my quads
    not hamstrings", "make that 4/10", or only "7" under it): that report changes; None
    when it is not one."""
    follow_up = severity_follow_up(turn, text)
    if follow_up is not None:
        return _offer_severity(turn, *follow_up)
    cue = _correction_cue(turn, text)
    if cue is None:
        return None
    recent = turn.store.soreness_since(turn.user.id, turn.now - CORRECTION_WINDOW)
    if not recent:
        return None
    last_at = max(report.at for report in recent)
    batch = [report for report in recent if report.at == last_at]
    target = _corrected_report(batch, parsed)
    if cue == "weak" and not _denied(parsed, text, target.area):
        return None  # "actually my quads are sore": a new report, unless hamstrings are denied
    named = [a for a, level in parsed.soreness.items() if level > 0 and a != target.area]
    area = named[0] if len(named) == 1 else None
    severity = _corrected_severity(turn, parsed, text, area)
    if area is None and severity is None:
        return None
    old = describe(turn, target)
    updated = turn.store.update_soreness(turn.user.id, target.id, area=area, severity=severity)
    if updated is None:
        return None
    turn.outcome = "correction"
    return Reply(
        text=turn.say("soreness_corrected", summary=describe(turn, updated), old=old),
        buttons=fix_buttons([updated]),
    )


def _offer_severity(turn: Turn, report: SorenessReport, severity: int) -> Reply | None:
    """A lone number is asked about, not applied: it may answer something else."""
    if turn.now - report.at > CORRECTION_WINDOW:
        return None
    turn.outcome = "correction"
    change = Button(f"Yes, {severity}/10", f"sv:{report.id}:{severity}", role="yes")
    keep = Button(f"No, keep {report.severity}/10", f"sv:{report.id}:{report.severity}", role="no")
    area = area_label(turn, report.area)
    return Reply(
        text=turn.say("soreness_number_offer", area=area, level=severity, old=report.severity),
        buttons=buttons([change, keep]),
    )


def _correction_cue(turn: Turn, text: str) -> str | None:
    """ "strong" or "weak" (see language.yaml `corrections`), or None."""
    words = re.findall(r"[a-z0-9/']+", text.lower())
    lowered = " " + " ".join(words) + " "
    if ADDING.search(lowered):
        return None
    language = turn.library.language
    if any(f" {cue} " in lowered for cue in language.corrections):
        return "strong"
    if any(f" {cue} " in lowered for cue in language.weak_corrections):
        return "weak"
    return None


def _denied(parsed: Parsed, text: str, area: str) -> bool:
    """Whether the message says the reported area was wrong ("quads, not hamstrings")."""
    if parsed.soreness.get(area) == 0:
        return True
    denial = re.search(r"\b(?:not|n't|instead of|rather than|wasn't|isn't)\b", text.lower())
    return area in parsed.soreness and len(parsed.soreness) > 1 and denial is not None


def _corrected_report(batch: list[SorenessReport], parsed: Parsed) -> SorenessReport:
    """The report being corrected: the one named as wrong ("not hamstrings"), else the
    latest of the last message's reports."""
    for report in batch:
        if parsed.soreness.get(report.area) == 0:
            return report
    return max(batch, key=lambda report: report.id)


def _corrected_severity(turn: Turn, parsed: Parsed, text: str, area: str | None) -> int | None:
    if area is not None and area not in parsed.unrated:
        return parsed.soreness[area]
    return dialog.number_in(turn, text, 0, 10)

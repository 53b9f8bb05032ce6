"""Clock times: "18:00", "6pm", "6:30 pm", "7.30", "1830", "18h30", "noon", "6 in the evening".

A time with minutes and no am/pm is a 24-hour time as written ("7:30" is 07:30). A *bare
hour* with no am/pm and no morning/evening word is read the way people talk about training:
1–6 → afternoon/evening (13:00–18:00; few train at 3am), 7–11 → morning, 12 → noon, 0 and
13–23 → as written, and a leading zero ("06") means 24-hour. The reading comes with a note
("I read '6' as 18:00 — …") so the reply can show it and the user can correct it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.content import Library
from bot.core.timeplan.tokens import schedule_tokens
from bot.core.timeplan.words import time_words


@dataclass(slots=True)
class ClockTime:
    """A time of day as said, before it is resolved to "HH:MM"."""

    hour: int
    minute: int
    meridiem: str | None
    padded: bool
    bare: bool
    strong: bool  # said as a time for sure (am/pm, minutes, "at 6"); weak: a lone number
    raw: str
    context: str | None = None  # "am"/"pm" from "in the morning"/"in the evening"


def valid_time(time_: ClockTime) -> bool:
    if time_.minute > 59:
        return False
    if time_.meridiem is not None:
        return 1 <= time_.hour <= 12
    return 0 <= time_.hour <= 23


def resolve(time_: ClockTime, context: str | None) -> tuple[str, str | None]:
    """'HH:MM' for a valid time, and a note when a bare hour was read by the default rule."""
    hour, note = time_.hour, None
    if time_.meridiem is not None:
        hour = hour % 12 + (12 if time_.meridiem == "pm" else 0)
    elif context is not None and not time_.padded and 1 <= hour <= 11:
        hour += 12 if context == "pm" else 0
    elif time_.bare and not time_.padded and 1 <= hour <= 11:
        other = "am" if hour <= 6 else "pm"
        meant = "the morning" if hour <= 6 else "the evening"
        hour += 12 if hour <= 6 else 0
        note = f"I read '{time_.raw}' as {hour:02d}:00 — write {time_.raw}{other} if you meant"
        note += f" {meant}."
    return f"{hour:02d}:{time_.minute:02d}", note


def parse_clock_time(text: str, library: Library | None = None) -> str | None:
    """'HH:MM' (24h) for a message that is just a time of day, else None.

    "18:00", "6pm", "6:30 pm", "7am", "noon", "7.30", "1830", "at 6 in the evening".
    Out-of-range times ("25:00", "13pm") are None. Bare hours follow the module's rule
    (1–6 → pm, 7–11 → am). Words come from `library` (the shipped content when None).
    """
    words = time_words(library)
    tokens = schedule_tokens(text, 100)
    while tokens and tokens[0].text in words.at_words:
        tokens = tokens[1:]
    if not tokens:
        return None
    times: list[ClockTime] = []
    context: str | None = None
    for index, token in enumerate(tokens):
        text_ = token.text
        if token.kind in ("clock", "num"):
            times.append(
                ClockTime(
                    token.hour, token.minute, token.meridiem, token.padded, token.bare, True, ""
                )
            )
        elif text_ in words.noon or text_ in words.midnight:
            if not (times and times[-1].hour == 12 and text_ == "noon"):  # "12 noon"
                midnight = text_ in words.midnight
                times.append(ClockTime(0 if midnight else 12, 0, None, True, False, True, ""))
        elif text_ in words.morning or text_ in words.evening:
            context = "am" if text_ in words.morning else "pm"
        elif text_ in words.hours and index == 0:
            times.append(ClockTime(words.hours[text_], 0, None, False, True, True, ""))
        elif text_ not in words.time_fillers:
            return None
    if len(times) != 1 or not valid_time(times[0]):
        return None
    return resolve(times[0], context)[0]

"""Schedule tokens: the shared tokenizer's tokens, read as clock times, dates and words.

Messages are split by the one tokenizer (`bot.core.parsing.tokens`), with two differences
in normalising that schedules need: hyphens stay ("mon-fri", "6-7pm", "2026-03-14" are ranges
and dates, not hyphenated words) and "p.m." is "pm". A line break separates groups, as a
comma does. Words and numbers written together stay together ("f1" is not Friday at 1).
Each token is then read as what it says about time: an ISO date, a clock time ("18:00",
"7.30", "18h30", "6:30pm"), an hour or HHMM ("6pm", "1830"), a day of the month ("14th"),
a word, or the punctuation that structures a schedule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.parsing.tokens import normalise, split_runs

_MERIDIEM_RE = re.compile(r"(?<![^\W\d_])([ap])(?:\.\s?m\b\.?|m\b)")
# "6 pm", "6:30 pm": am/pm belong to a number or clock time, not to a word ending in a digit
# ("f1 pm" is the evening and a word).
_MERIDIEM_GLUE_RE = re.compile(r"(?<![^\W_])(\d{1,2}[:.h]\d{2}|\d{1,4})\s+(?=(?:am|pm)\b)")
# What a run of words and numbers says about time; the parts of "6/10" are read in turn.
_RUN_PARTS = re.compile(
    r"(?P<iso>\d{4}-\d{1,2}-\d{1,2})(?!\d)"
    r"|(?P<clock>(?P<ch>\d{1,2})[:.h](?P<cm>\d{2}))(?!\d)(?:\s*(?P<cmer>am|pm)\b)?"
    r"|(?P<num>\d{1,4})(?:\s*(?P<nmer>am|pm)\b|(?P<ord>st|nd|rd|th)\b|\b)"
    r"|(?P<word>[^\W_][\w']*)"
    r"|(?P<punct>[,;.!?/&+@|\n-])"
)
PUNCTUATION = frozenset(",;.!?/&+@|-")  # marks that structure a schedule; others are ignored
SEPARATORS = frozenset({",", ";", ".", "!", "?", "|"})  # a line break is read as "|"


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a schedule message."""

    kind: str  # iso, clock, num, ord, word, punct
    text: str
    hour: int = 0
    minute: int = 0
    meridiem: str | None = None
    padded: bool = False  # hour written with a leading zero or as HHMM: a 24-hour time
    bare: bool = False  # an hour alone, no minutes


def fold(text: str, limit: int) -> str:
    """Lower-cased text cut at `limit`, with plain dashes and quotes and "am"/"pm" for
    "a.m."/"p.m." (time zones are read from this too)."""
    text = text[:limit].lower()
    if not text.isascii():
        for fancy, plain in (("’", "'"), ("‘", "'"), ("–", "-"), ("—", "-"), ("−", "-")):
            text = text.replace(fancy, plain)
    return _MERIDIEM_RE.sub(r"\1m", text)


def schedule_tokens(text: str, limit: int) -> list[Token]:
    """The tokens of a schedule message (see the module docstring)."""
    normalised = normalise(fold(text, limit), limit, keep_hyphens=True, glue=False)
    if "m" in normalised:
        normalised = _MERIDIEM_GLUE_RE.sub(r"\1", normalised)
    tokens: list[Token] = []
    for raw in split_runs(normalised.replace("\n", " | ")):
        first = raw[0]
        if first.isalnum():
            tokens += _run_tokens(raw)
        elif first == "/" and len(raw) > 1:  # "tue/thu"
            tokens.append(Token("punct", "/"))
            tokens += _run_tokens(raw[1:])
        elif raw in PUNCTUATION:
            tokens.append(Token("punct", raw))
    return tokens


def _run_tokens(raw: str) -> list[Token]:
    """The tokens of one run of words and numbers ("6:30pm", "6/10", "mon", "3x10")."""
    tokens: list[Token] = []
    for match in _RUN_PARTS.finditer(raw):
        kind = match.lastgroup or ""
        part = match.group(0)
        if match.group("clock") is not None:
            hour_text = match.group("ch")
            tokens.append(
                Token(
                    "clock",
                    part.replace(" ", ""),
                    hour=int(hour_text),
                    minute=int(match.group("cm")),
                    meridiem=match.group("cmer"),
                    padded=len(hour_text) == 2 and hour_text[0] == "0",
                )
            )
        elif match.group("num") is not None:
            digits = match.group("num")
            if match.group("ord") is not None:
                tokens.append(Token("ord", part, hour=int(digits)))
            elif len(digits) >= 3:
                tokens.append(
                    Token(
                        "num",
                        part.replace(" ", ""),
                        hour=int(digits[:-2]),
                        minute=int(digits[-2:]),
                        meridiem=match.group("nmer"),
                        padded=len(digits) == 4,
                    )
                )
            else:
                tokens.append(
                    Token(
                        "num",
                        part.replace(" ", ""),
                        hour=int(digits),
                        meridiem=match.group("nmer"),
                        padded=len(digits) == 2 and digits[0] == "0",
                        bare=True,
                    )
                )
        elif kind == "iso":
            tokens.append(Token("iso", part))
        elif kind == "word":
            tokens.append(Token("word", part.strip("'")))
        else:
            tokens.append(Token("punct", part))
    return tokens

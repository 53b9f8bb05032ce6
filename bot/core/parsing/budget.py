"""A time budget: whether an amount of minutes is time someone has to roll.

"I have 7 min before leg day", "got 15 mins", "only 5 minutes today", "10 mins free": the
time someone has is a request for a routine. "ran for 30 min", "10 min late", "a 60 min
massage" and "hurt 10 min into my run" say how long something took, not time to roll. The
words around the amount decide, and how clearly: STRONG ("have", "got", "only", "free"),
WEAK (an amount opening a clause before a workout, or a message that is only the amount) or
none.
"""

from __future__ import annotations

from bot.core.parsing.lexicon import Lexicon
from bot.core.parsing.spans import Span
from bot.core.parsing.tokens import BREAK_TOKEN

NO_BUDGET, WEAK_BUDGET, STRONG_BUDGET = 0, 1, 2


def budget(words: list[str], start: int, end: int, lexicon: Lexicon) -> int:
    """How clearly the amount at words[start:end] is time someone has: STRONG said with
    "have", "got", "only" or "free", "max"; WEAK when it opens a clause before a workout
    ("10 min before my run"); otherwise NO_BUDGET."""
    after_at = end + 1 if words[end : end + 1] == ["left"] else end  # "10 min left before"
    after = words[after_at] if after_at < len(words) else ""
    if after in lexicon.duration_after:
        return NO_BUDGET  # "10 min late", "10 min into my run", "10 min left in the race"
    before = index_before(words, start, lexicon)
    limited = not lexicon.budget_only.isdisjoint(words[before + 1 : start])
    said_before = words[before] if before >= 0 else BREAK_TOKEN
    if said_before in lexicon.openers:
        said_before = BREAK_TOKEN  # "ok so 12 mins b4 my run"
    if said_before in lexicon.past_words or said_before in lexicon.not_budget_before:
        return NO_BUDGET  # "ran for 30 min", "move it to 20 minutes before"
    if said_before in lexicon.budget_have:
        denied = before > 0 and (
            words[before - 1] in {"no", "not"} or words[before - 1][-3:] == "n't"
        )
        return NO_BUDGET if denied else STRONG_BUDGET  # "don't have 20 min today"
    if (
        limited
        or after in lexicon.budget_after
        or words[after_at : after_at + 2] in lexicon.budget_to
    ):
        return STRONG_BUDGET
    if said_before == BREAK_TOKEN and after in lexicon.budget_until:
        return WEAK_BUDGET
    return NO_BUDGET


def index_before(words: list[str], start: int, lexicon: Lexicon) -> int:
    """Where the word before an amount is, past "about", "like", "only" and the like."""
    skip = lexicon.amount_skip
    before = start - 1
    while before >= 0 and words[before] in skip:
        before -= 1
    return before


def time_budget(
    spans: list[Span],
    words: list[str],
    clause_of: list[int],
    amount: tuple[int, int],
    workout: str | None,
    *,
    lexicon: Lexicon,
) -> int:
    """A time budget said in this message, and how clearly (see `budget`). Also WEAK: a
    workout due "in 20 min", or a message that is only the amount ("15 mins", "leg day,
    15 min"). Never one in a clause that talks of the past, or next to reminder settings."""
    start, end = amount
    if not lexicon.not_a_budget.isdisjoint(words):
        return NO_BUDGET
    clause = clause_of[start]
    past_words = lexicon.past_words
    if any(clause_of[i] == clause and words[i] in past_words for i in range(len(words))):
        return NO_BUDGET  # "had 10 min before my run so I rolled my calves"
    if any(s.start == end and ({"workout", "massage"} & s.tags.keys()) for s in spans):
        return NO_BUDGET  # "a 10 min run", "a 60 min massage"
    clarity = budget(words, start, end, lexicon)
    if not clarity:
        before = index_before(words, start, lexicon)
        if workout is not None and before >= 0 and words[before] == "in":
            clarity = WEAK_BUDGET  # "leg day in 20 min", "spin in like 20 mins"
        else:
            clarity = _amount_alone(spans, words, start, end, lexicon)
    if clarity == WEAK_BUDGET and any(
        s.clause == clause and not s.negated and ("flag" in s.tags or _sore_word(s)) for s in spans
    ):
        return NO_BUDGET  # "10 min before my run my calf started hurting"
    return clarity


def _sore_word(span: Span) -> bool:
    level = span.tags.get("sev")
    return isinstance(level, int) and level >= 3  # "ok so 10 min before my run" reports none


def _amount_alone(
    spans: list[Span], words: list[str], start: int, end: int, lexicon: Lexicon
) -> int:
    """WEAK when the message says nothing but the amount, a workout ahead and areas
    ("15 mins", "leg day, 15 min", "10 min, calves pls")."""
    covered = set(range(start, end))
    for span in spans:
        if "workout" in span.tags:
            if span.end == start:
                return NO_BUDGET  # "easy run 30 min" reports a workout
            covered.update(range(span.start, span.end))
        elif "area" in span.tags:
            covered.update(range(span.start, span.end))
    skip, fillers = lexicon.amount_skip, lexicon.budget_fillers
    rest = (w for i, w in enumerate(words) if i not in covered and w not in skip)
    return WEAK_BUDGET if all(w in fillers for w in rest) else NO_BUDGET

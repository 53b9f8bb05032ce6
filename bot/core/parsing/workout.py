"""The workout a message is about: one ahead, not one done or called off.

"what should I roll before my run?" names the run ahead; "calves sore from yesterday's run",
"run cancelled" and "swollen after running" name one that is past, off or the cause of a
symptom. A workout said with "before", "for" or "ahead" wins over the others.
"""

from __future__ import annotations

from bot.core.parsing.lexicon import Lexicon
from bot.core.parsing.negation import negated_before
from bot.core.parsing.spans import Span, tag_value


def read_workout(spans: list[Span], words: list[str], lexicon: Lexicon) -> str | None:
    """The workout the message is about: one ahead, not one already done ("after my run")."""
    mentions = [s for s in spans if "workout" in s.tags]
    if not mentions:
        return None
    if "rest" in words and any(words[i : i + 2] == ["rest", "day"] for i in range(len(words) - 1)):
        return None  # "it's a rest day"
    past_before, past_after = lexicon.workout_past_before, lexicon.workout_past_after
    called_off = lexicon.workout_called_off
    upcoming = [
        s
        for s in mentions
        if not past_before & set(words[max(0, s.start - 3) : s.start])
        and not past_after & set(words[s.end : s.end + 2])
        and not called_off & set(words[s.end : s.end + 3])
        and not any(
            o.start in (s.end, s.end + 1) and "sev" in o.tags and o.clause == s.clause
            for o in spans
        )
        and not negated_before(words, s.start, reach=2)
    ]
    ahead = [
        s
        for s in upcoming
        if {"before", "for", "ahead"} & set(words[max(0, s.start - 2) : s.start])
    ]
    if ahead:
        return str(ahead[0].tags["workout"])  # "... what should I roll before a recovery ride?"
    # "swollen after running" names the cause of a symptom; "roll after a bike ride" a plan
    chosen = [s for s in upcoming if not _cause_of_symptom(spans, words, s)]
    value = tag_value(chosen[0], "workout") if chosen else None
    return value if isinstance(value, str) else None


def _cause_of_symptom(spans: list[Span], words: list[str], mention: Span) -> bool:
    if "after" not in words[max(0, mention.start - 2) : mention.start]:
        return False
    return any(
        ("sev" in s.tags or "flag" in s.tags) and s.clause == mention.clause
        for s in spans
        if s.end <= mention.start
    )

"""Negation: which symptoms and severity words a message denies.

Negators reach a few words forward ("no tingling or numbness", "not sore"), after-negators a
few back ("the swelling is gone", "numb feeling ... went away"), and an answer on its own
denies the symptom asked about in the clause before ("numb? no."). A denial stops at an area
("not numb, just sore calves" affirms the soreness) and at words that turn it onto something
else ("my shoe doesn't fit over the swelling"). Denied spans are marked, not removed: a later
stage may still read "isn't sore exactly, more like stiff".
"""

from __future__ import annotations

from bot.core.parsing.lexicon import Lexicon
from bot.core.parsing.spans import Span

NEGATION_REACH = 4  # words a negator reaches forward ("no shooting pains")
AFTER_NEGATION_REACH = 10  # words an after-negator reaches back ("numb feeling ... went away")


def apply_negation(spans: list[Span], words: list[str], lexicon: Lexicon) -> None:
    """Mark every denied span of the message as `negated`."""
    answers, denial_ends = lexicon.answer_words, lexicon.denial_ends
    for index, span in enumerate(spans):
        if "neg" in span.tags:
            _negate_forward(spans, index, words, denial_ends)
        if _opens_clause(spans, index, words, answers):  # "numb? no."
            for earlier in spans[:index]:
                if earlier.clause == span.clause - 1 and "flag" in earlier.tags:
                    earlier.negated = True
        if "after_neg" in span.tags:
            _negate_backward(spans, index, words)


def negated_before(words: list[str], start: int, reach: int = 4) -> bool:
    """A negator in the few words before `start` ("haven't had a massage in ages")."""
    before = words[max(0, start - reach) : start]
    return any(w in {"no", "not", "never", "without"} or w.endswith("n't") for w in before)


def _opens_clause(spans: list[Span], index: int, words: list[str], answers: frozenset[str]) -> bool:
    """An answer on its own ("nope", "none") right after a question about a symptom."""
    negator = spans[index]
    first = index == 0 or spans[index - 1].clause != negator.clause
    return first and negator.end - negator.start == 1 and words[negator.start] in answers


def _bridged(words: list[str], start: int, end: int, denial_ends: frozenset[str]) -> bool:
    """Nothing between a negator and a symptom turns the denial onto something else."""
    return not denial_ends & set(words[start:end])


def _negate_forward(
    spans: list[Span], index: int, words: list[str], denial_ends: frozenset[str]
) -> None:
    """Negate what follows, up to an area. A negator that denied a symptom stops at the next
    severity word: in "not numb, just sore calves" the soreness is affirmed."""
    negator = spans[index]
    denied_symptom = False
    reach_end = negator.end
    for target in spans[index + 1 :]:
        if target.clause != negator.clause or target.start - reach_end >= NEGATION_REACH:
            return
        if "area" in target.tags and "flag" not in target.tags:
            return
        if "flag" in target.tags:
            if not _bridged(words, reach_end, target.start, denial_ends):
                return  # "my shoe doesn't fit over the swelling": the denial is of 'fit'
            target.negated = denied_symptom = True
            reach_end = target.end  # "any pop or snap": the denial runs on along the list
        elif "sev" in target.tags:
            if denied_symptom:
                reach_end = target.end  # "no shooting pains down the leg"
            else:
                target.negated = True


def _negate_backward(spans: list[Span], index: int, words: list[str]) -> None:
    negator = spans[index]
    if "since" in words[negator.start : negator.end]:
        for span in spans[:index]:  # "toes went numb once, totally fine since"
            if span.clause == negator.clause - 1 and "flag" in span.tags:
                span.negated = True
    earlier = [
        s
        for s in spans[:index]
        if s.clause == negator.clause and negator.start - s.end < AFTER_NEGATION_REACH
    ]
    flags = [s for s in earlier if ("flag" in s.tags)]
    for span in flags:
        span.negated = True
    if flags or ("sev" in negator.tags):
        return
    for span in earlier:
        if "sev" in span.tags:
            span.negated = True

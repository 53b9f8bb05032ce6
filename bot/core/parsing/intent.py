"""Intent: what kind of message it is, once everything else has been read.

In order: a command says it outright; a question about what or where to roll is
`which_area` (it wins over soreness); a massage had or booked is `massage`; time to roll or
a routine asked for is `which_area`; a report of soreness or a warning sign is `soreness`;
everything else (advice questions, talk about massage, chat) is `other`. A red flag is never
swallowed: with one, a time budget does not make the message a routine request.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.parsing.lexicon import Lexicon
from bot.core.parsing.negation import negated_before
from bot.core.parsing.spans import Span, tag_value
from bot.core.parsing.tokens import BREAK_TOKEN

INTENTS = ("soreness", "which_area", "massage", "other")


def read_intent(
    command: str | None,
    spans: list[Span],
    *,
    words: list[str],
    said: set[str],
    soreness: dict[str, int],
    red_flag: bool,
    has_slots: bool,
    lexicon: Lexicon,
    budget: int = 0,
) -> str:
    """One of INTENTS for the message read into `spans` and `words`."""
    if command is not None:
        return {"roll": "which_area", "sore": "soreness", "massage": "massage"}.get(
            command, "other"
        )
    if (
        _asks_what_to_roll(spans, words, lexicon)
        and lexicon.meta_questions.isdisjoint(said)
        and not _asks_how_much(words)
    ):
        return "which_area"
    if _reports_massage(spans, words, bool(soreness), lexicon):
        return "massage"
    first_word = words[0] if words else ""
    if budget and not red_flag and first_word not in lexicon.yes_no_starts:
        return "which_area"  # "I have 7 min before leg day", "got 15 mins"
    if _wants_a_routine(spans, said, has_slots, lexicon, first_word) and not soreness:
        return "which_area"  # "quick routine before spin, 5 min", "rolling before my run"
    if soreness or red_flag:
        return "soreness"
    if any("massage" in s.tags for s in spans):
        return "other"  # about massage, but neither one had nor one booked
    if words and words[0] in lexicon.question_starts:
        return "other"  # "is it ok to roll a sore muscle?" asks for advice, reports nothing
    if any(("sev" in s.tags) and not s.negated for s in spans) and not lexicon.review_words & said:
        return "soreness" if _mentions_soreness(spans) else "other"
    return "other"


def _asks_how_much(words: list[str]) -> bool:
    """ "how long should I roll?", "how often": questions about rolling, not what to roll."""
    return any(
        words[i] == "how" and words[i + 1] in {"long", "often", "much", "many"}
        for i in range(len(words) - 1)
    )


def _wants_a_routine(
    spans: list[Span], words: set[str], has_slots: bool, lexicon: Lexicon, first: str = ""
) -> bool:
    """Rolling or a routine for a time or workout ahead, asked without a question word."""
    if first in lexicon.yes_no_starts or not lexicon.rolling_done.isdisjoint(words):
        return False
    if not lexicon.settings_words.isdisjoint(words):
        return False
    rolling = any(("roll" in s.tags) for s in spans)
    routine = any(("routine" in s.tags) for s in spans)
    starting = "where" in words and bool(lexicon.start_words & words)  # "where should I begin?"
    return (has_slots and (rolling or routine or starting)) or (
        routine and bool(lexicon.asking & words)
    )


def _mentions_soreness(spans: Iterable[Span]) -> bool:
    for span in spans:
        value = tag_value(span, "sev")
        if isinstance(value, int) and value >= 3 and not span.negated:
            return True
    return False


def _asks_what_to_roll(spans: list[Span], words: list[str], lexicon: Lexicon) -> bool:
    """A question (what/which/where/how/any...) about rolling, or about which areas.

    "roller" alone is equipment talk ("which foam roller should I buy?") unless the message
    also asks about areas or says what to do on it ("where do I begin with the roller?").
    """
    kinds = {kind for span in spans for kind in span.tags}
    if "cue" not in kinds:
        # "should I roll my calves?", "quick q: is it ok to roll my quads?"
        starts = lexicon.roll_question_starts
        return "area" in kinds and any(
            "roll" in s.tags
            and words[s.end - 1] != "roller"
            and _yes_no_before(words, s.start, starts)
            for s in spans
        )
    targets = "target" in kinds and _wh_before_target(spans)
    rolls = [s for s in spans if ("roll" in s.tags)]
    if any(words[s.end - 1] != "roller" for s in rolls):
        return True
    if rolls and (
        targets
        or any(
            words[s.start - 1 : s.start] in (["with"], ["on"], ["get"], ["apply"], ["use"])
            for s in rolls
        )
    ):
        return True
    return targets


def _yes_no_before(words: list[str], start: int, question_starts: frozenset[str]) -> bool:
    """A yes/no question word opening the clause shortly before `start`."""
    for index in range(max(0, start - 5), start):
        opens = index == 0 or words[index - 1] == BREAK_TOKEN
        asks = words[index + 1 : index + 2] in (["it"], ["i"])  # "is it ok to", "should I"
        if (opens or asks) and words[index] in question_starts:
            return True
    return False


def _wh_before_target(spans: list[Span]) -> bool:
    cue_seen = False
    for span in spans:
        if "cue" in span.tags:
            cue_seen = True
        elif ("target" in span.tags) and cue_seen:
            return True
    return False


def _reports_massage(spans: list[Span], words: list[str], sore: bool, lexicon: Lexicon) -> bool:
    """A massage had or booked. "Still sore after my massage" is a soreness report instead,
    and "I need a massage" is a wish, not a report."""
    mentions = [s for s in spans if ("massage" in s.tags)]
    if not mentions:
        return False
    if words and words[0] in lexicon.question_starts:
        return False
    if any(lexicon.massage_wishes & set(words[max(0, s.start - 6) : s.start]) for s in mentions):
        return False
    asking = lexicon.massage_asking
    if any(asking & set(words[max(0, s.start - 4) : s.start]) for s in mentions):
        return False  # "is a $120 massage normal?"
    forgot = any(words[i : i + 3] == ["forgot", "to", "book"] for i in range(len(words)))
    called_off = bool(lexicon.massage_called_off & set(words))
    if called_off or any(negated_before(words, s.start) for s in mentions):
        return False  # "I haven't had a massage in ages", "my massage got cancelled"
    if forgot:
        return False  # "forgot to book my massage again"
    if not sore:
        return True
    context: set[str] = set()
    for span in mentions:
        context |= set(words[max(0, span.start - 3) : span.start])
    return not lexicon.massage_context & context

"""Warning signs said loosely: red flags the phrase table alone would miss or misread.

The red-flag terms in safety.yaml are matched as phrases. People also say them with a word
inside ("my foot goes completely dead"), about a body part that "fell asleep" (numbness, not
sleep), with "dead" meaning tired ("my legs went dead on the last climb"), or with chest and
pain apart ("in the chest I have pain"). Each pass here fixes one of these readings; a missed
warning sign costs far more than a wrong routine, so they lean towards the flag.
"""

from __future__ import annotations

from bot.core.parsing.lexicon import Lexicon
from bot.core.parsing.spans import Span, area_ids

CHEST_PAIN = Span(0, 0, {"flag": "chest_pain"})


def flags_across_modifiers(spans: list[Span], words: list[str], lexicon: Lexicon) -> list[Span]:
    """A red-flag phrase with a modifier inside it: "goes completely dead", "went a bit
    dead" are "goes dead" and "went dead"; "can't really feel" is "can't feel"."""
    index = 0
    while index < len(spans):
        span = spans[index]
        index += 1
        tags = span.tags
        if ("int" not in tags and "soft" not in tags) or "sev" in tags or span.start == 0:
            continue
        first = words[span.start - 1]
        if first not in lexicon.flag_starts or span.end >= len(words):
            continue
        for phrase, phrase_tags in lexicon.phrases.get((first, words[span.end]), ()):
            end = span.end + len(phrase) - 1
            if "flag" not in phrase_tags or tuple(words[span.end + 1 : end]) != phrase[2:]:
                continue
            merged = Span(span.start - 1, end, phrase_tags, span.clause)
            before = [s for s in spans if s.end <= merged.start]
            spans = [*before, merged, *(s for s in spans if s.start >= end)]
            index = len(before) + 1
            break
    return spans


def _subject_area(spans: list[Span], index: int, words: list[str], lexicon: Lexicon) -> Span | None:
    """The area said right before spans[index] in its clause ("calves just went dead")."""
    span = spans[index]
    gap = lexicon.subject_gap
    for earlier in reversed(spans[:index]):
        if earlier.clause != span.clause:
            return None
        if "area" in earlier.tags:
            between = words[earlier.end : span.start]
            return earlier if len(between) <= 3 and gap.issuperset(between) else None
        if earlier.end < span.start and not gap.issuperset(words[earlier.end : span.start]):
            return None
    return None


def areas_asleep(spans: list[Span], words: list[str], lexicon: Lexicon) -> None:
    """ "my butt fell asleep on the bike": the person falling asleep is harmless, but an area
    that goes to sleep has lost feeling."""
    if lexicon.asleep_kind is None:
        return
    for index, span in enumerate(spans):
        if "not_flag" not in span.tags or not lexicon.asleep_words & set(
            words[span.start : span.end]
        ):
            continue
        subject = _subject_area(spans, index, words, lexicon)
        if subject is not None:
            spans[index] = Span(span.start, span.end, {"flag": lexicon.asleep_kind}, span.clause)


def dead_tired(spans: list[Span], words: list[str], clause_of: list[int], lexicon: Lexicon) -> None:
    """ "my legs went dead on the last climb" is tiredness, said of muscles in the plural;
    "my arm goes dead", "calf went dead when I rolled it" are numbness."""
    for index, span in enumerate(spans):
        if "flag" not in span.tags or "dead" not in words[span.start : span.end]:
            continue
        subject = _subject_area(spans, index, words, lexicon)
        if subject is None or area_ids(subject) == ("feet",):
            continue
        if not words[subject.end - 1].endswith("s"):
            continue  # one calf, one quad: a nerve
        clause = {words[i] for i, c in enumerate(clause_of) if c == span.clause}
        rolling = any("roll" in s.tags and s.clause == span.clause for s in spans)
        if lexicon.numb_triggers & clause or rolling:
            continue  # "my legs go dead when I sit on the loo"
        level = lexicon.single.get("dead", {}).get("sev")
        spans[index] = Span(span.start, span.end, {"sev": level} if level else {}, span.clause)


def chest_pain_said_apart(spans: list[Span], words: list[str], lexicon: Lexicon) -> list[Span]:
    """ "In the chest I have pain": chest and pain in one clause, with no workout to explain
    it (pecs sore after bench are DOMS), is chest pain."""
    for span in spans:
        if area_ids(span) != ("chest",):
            continue
        denied = any("neg" in s.tags for s in spans)
        if (
            lexicon.breathing & set(words)
            and not denied
            and not {"fine", "ok", "okay"} & set(words)
        ):
            return [CHEST_PAIN]  # "chest hurts when I breathe deeply"
        if any(s.tags.get("workout") == "upper_body" for s in spans):
            continue  # pecs sore after bench are DOMS
        if any(
            s.clause == span.clause and words[s.start] == "pain" and not s.negated for s in spans
        ):
            return [CHEST_PAIN]
    return []

"""Phrases: one greedy pass that tags the spans of a message with what they mean.

The longest phrase of the lexicon that starts at a word wins ("pins and needles" over
"needles"), so a span is read once, whole. The same pass numbers the clauses: a clause ends
at punctuation and at words such as "but", and severity or negation never reach across one.
Later stages only read and re-tag spans.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.parsing.lexicon import Lexicon
from bot.core.parsing.tokens import BREAK_TOKEN


@dataclass(slots=True)
class Span:
    """A tagged phrase: words[start:end] in clause `clause`, and whether it is denied."""

    start: int
    end: int  # exclusive
    tags: dict[str, object]
    clause: int = 0
    negated: bool = False


def tag_spans(words: list[str], lexicon: Lexicon) -> tuple[list[Span], list[int]]:
    """Tag phrases greedily, longest first; also return the clause number of every token."""
    spans: list[Span] = []
    clause_of: list[int] = []
    phrases, single, starts = lexicon.phrases, lexicon.single, lexicon.phrase_starts
    clause = 0
    i = 0
    count = len(words)
    while i < count:
        word = words[i]
        if word == BREAK_TOKEN:
            clause_of.append(clause)
            clause += 1
            i += 1
            continue
        length, tags = 1, single.get(word)
        if word in starts and i + 1 < count:
            for phrase, phrase_tags in phrases.get((word, words[i + 1]), ()):
                if len(phrase) == 2 or tuple(words[i : i + len(phrase)]) == phrase:
                    length, tags = len(phrase), phrase_tags
                    break
        if length == 1:
            clause_of.append(clause)
        else:
            clause_of.extend([clause] * length)
        if tags is not None:
            spans.append(Span(i, i + length, tags, clause))
            if "break" in tags:
                clause += 1
        i += length
    return spans, clause_of


def tag_value(span: Span, kind: str) -> object:
    return span.tags.get(kind)


def area_ids(span: Span) -> tuple[str, ...]:
    """The area ids a span names: one for "calves", several for a group ("legs")."""
    value = span.tags.get("area")
    return value if isinstance(value, tuple) else ()

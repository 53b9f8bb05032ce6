"""The parser's pipeline: one message in, one `Parsed` out.

`parse_message(text)` is the contract other parts (and evaluations) rely on. It works as a
small pipeline rather than a lookup of sentences, one module per stage:

1. **Tokens** (`tokens`, `lexicon`). Lower-case words, numbers ("6/10", "six"), times
   ("6:30pm") and punctuation. Filler words ("my", "the", "left", "right") are dropped;
   possessives and plurals are folded; misspelt area names ("hamstirngs", "qauds") are
   corrected by the shared fuzzy matcher (`fuzzy`) against the library's vocabulary.
2. **Phrases** (`spans`). One greedy longest-match pass tags spans: areas and groups
   ("legs"), workouts, red-flag terms, severity words, intensifiers, negators, clause breaks,
   and phrases that contain an area word without meaning it ("leg day", "hip thrusts").
   Area words that name a workout or an adverb are re-read (`areas`), and so are warning
   signs said loosely (`flags`).
3. **Meaning.** Negators reach a few words forward ("no tingling or numbness"),
   after-negators a few back ("swelling is gone") (`negation`). Each area takes the severity
   said about it in its clause, or from a neighbouring clause that names no area
   (`severity`). Then the minutes someone has (`minutes`, `budget`), the workout ahead
   (`workout`) and the intent (`intent`).

All vocabulary comes from `bot/content/*.yaml` through the `Library` the caller gives (the
shipped content by default); these modules hold only the grammar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from bot.core.content import Library, default_library
from bot.core.parsing.areas import area_days, areas_only_named, drop_verbal_back, trained_areas
from bot.core.parsing.budget import NO_BUDGET, time_budget
from bot.core.parsing.flags import (
    areas_asleep,
    chest_pain_said_apart,
    dead_tired,
    flags_across_modifiers,
)
from bot.core.parsing.intent import read_intent
from bot.core.parsing.lexicon import Lexicon, lexicon_for
from bot.core.parsing.minutes import read_minutes
from bot.core.parsing.negation import apply_negation
from bot.core.parsing.severity import read_soreness
from bot.core.parsing.spans import tag_spans
from bot.core.parsing.tokens import tokenize
from bot.core.parsing.workout import read_workout


@dataclass(slots=True)
class Parsed:
    """What one message says. Fields beyond the contract help the coach reply well.

    Read-only by convention: not `frozen`, because a frozen dataclass costs 4 µs to build,
    a tenth of a whole parse.
    """

    intent: str
    soreness: dict[str, int] = field(default_factory=dict)
    red_flag: bool = False
    minutes: int | None = None
    workout: str | None = None
    red_flag_kinds: tuple[str, ...] = ()
    urgent: bool = False
    massage_planned: bool = False
    unrated: tuple[str, ...] = ()  # areas named with no severity said (given the default)


def parse_message(text: str, library: Library | None = None) -> Parsed:
    """Parse one chat message with `library`'s words (the shipped content when None).
    Never raises on text."""
    lexicon = _default_lexicon() if library is None else lexicon_for(library)
    return parse_with(lexicon, text)


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    return lexicon_for(default_library())


def parse_with(lexicon: Lexicon, text: str) -> Parsed:
    """Parse `text` with a given lexicon (`lexicon_for(library)`)."""
    if not isinstance(text, str) or not text.strip():
        return Parsed("other")
    stripped = text.strip()
    command = _command(stripped)
    tokens = tokenize(stripped, lexicon.token, lexicon.canonical)
    words = tokens.words
    spans, clause_of = tag_spans(words, lexicon)
    said = set(words)  # each pass below only runs when its trigger word is there
    if "back" in said:
        drop_verbal_back(spans, words)
    if "day" in said:
        area_days(spans, words, lexicon)
    if not lexicon.training_verbs.isdisjoint(said):
        trained_areas(spans, words, lexicon)
    if not lexicon.modifier_gaps.isdisjoint(said):
        spans = flags_across_modifiers(spans, words, lexicon)
        if "dead" in said:
            dead_tired(spans, words, clause_of, lexicon)
    if not lexicon.asleep_words.isdisjoint(said):
        areas_asleep(spans, words, lexicon)
    apply_negation(spans, words, lexicon)
    flags = [s for s in spans if "flag" in s.tags and not s.negated]
    if not flags and "chest" in said and ("pain" in said or lexicon.breathing & said):
        flags = chest_pain_said_apart(spans, words, lexicon)
    kinds = tuple(dict.fromkeys(str(s.tags.get("flag")) for s in flags)) if flags else ()
    unrated: set[str] = set()
    soreness = read_soreness(spans, tokens, clause_of, lexicon, unrated)
    if unrated and areas_only_named(spans, words, unrated, soreness, lexicon):
        soreness = {area: level for area, level in soreness.items() if area not in unrated}
        unrated.clear()
    minutes, amount_start, amount_end = read_minutes(tokens, command, lexicon, said)
    workout = read_workout(spans, words, lexicon)
    budget = NO_BUDGET
    if amount_start >= 0 and command is None:
        amount = (amount_start, amount_end)
        budget = time_budget(spans, words, clause_of, amount, workout, lexicon=lexicon)
    intent = read_intent(
        command,
        spans,
        words=words,
        said=said,
        soreness=soreness,
        red_flag=bool(flags),
        has_slots=bool(minutes or workout),
        lexicon=lexicon,
        budget=budget,
    )
    if intent != "which_area":
        minutes = None  # "ran for 30 min", "10 min late": not time to roll
    return Parsed(
        intent=intent,
        soreness=soreness,
        red_flag=bool(flags),
        minutes=minutes,
        workout=workout,
        red_flag_kinds=kinds,
        urgent=bool(kinds) and not lexicon.urgent_kinds.isdisjoint(kinds),
        massage_planned=intent == "massage" and bool(lexicon.massage_planned & said),
        unrated=tuple(sorted(unrated)) if unrated else (),
    )


def _command(text: str) -> str | None:
    if not text.startswith("/"):
        return None
    name = text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""
    return name.split("@", 1)[0].lower() or None

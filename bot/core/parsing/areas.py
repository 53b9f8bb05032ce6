"""Area words that report no soreness: "back from the gym", "chest day", "doing legs".

An area word is a soreness report unless the words around it make it something else: an
adverb ("back of my neck"), the name of a workout ("chest & tris day", "training legs"), or
the object of rolling or of an advice question ("will roll my calves now", "how do I get
bigger calves?"). These passes run after phrase tagging and only when their trigger word is
in the message, so most messages never pay for them.
"""

from __future__ import annotations

from bot.core.parsing.lexicon import Lexicon
from bot.core.parsing.spans import Span, area_ids


def drop_verbal_back(spans: list[Span], words: list[str]) -> None:
    """Bare "back" is the lower back, except in "back of my neck" or "back from the gym"."""
    for span in list(spans):
        if span.end - span.start != 1 or words[span.start] != "back":
            continue
        following = words[span.end] if span.end < len(words) else ""
        if following in {"of", "to", "from", "at", "home", "in", "into", "on", "up", "off"}:
            spans.remove(span)


def area_days(spans: list[Span], words: list[str], lexicon: Lexicon) -> None:
    """ "chest & tris day", "back and bis day": areas before "day" name a workout, not soreness."""
    for index, span in enumerate(spans):
        if "area" not in span.tags or span.end >= len(words) or words[span.end] != "day":
            continue
        first = index
        while (
            first > 0
            and ("area" in spans[first - 1].tags)
            and (spans[first - 1].end == spans[first].start or words[spans[first - 1].end] == "and")
        ):
            first -= 1
        named = [area for s in spans[first : index + 1] for area in area_ids(s)]
        upper = sum(area in lexicon.upper_body_areas for area in named) * 2 >= len(named)
        workout = "upper_body" if upper else "lower_body"
        spans[first : index + 1] = [
            Span(spans[first].start, span.end + 1, {"workout": workout}, span.clause)
        ]
        return


def trained_areas(spans: list[Span], words: list[str], lexicon: Lexicon) -> None:
    """ "doing legs", "training chest tonight": an area after a training verb is the workout."""
    training_verbs, upper_body = lexicon.training_verbs, lexicon.upper_body_areas
    for index, span in enumerate(spans):
        if (
            "area" not in span.tags
            or span.start == 0
            or words[span.start - 1] not in training_verbs
        ):
            continue
        named = area_ids(span)
        upper = sum(area in upper_body for area in named) * 2 >= len(named)
        spans[index] = Span(
            span.start, span.end, {"workout": "upper_body" if upper else "lower_body"}, span.clause
        )


def areas_only_named(
    spans: list[Span],
    words: list[str],
    unrated: set[str],
    soreness: dict[str, int],
    lexicon: Lexicon,
) -> bool:
    """Areas named with no severity where nothing says they are sore: the object of rolling
    ("will roll my calves now") or of an advice question ("how do I get bigger calves?")."""
    kinds = {kind for span in spans for kind in span.tags}
    if "flag" in kinds or "sev" in kinds or set(soreness) != unrated:
        return False
    roll_verbs = lexicon.roll_verbs
    rolled = any(
        roll_verbs & set(words[max(0, s.start - 2) : s.start]) for s in spans if "area" in s.tags
    )
    asking = bool(words) and words[0] in lexicon.question_starts and "roll" not in kinds
    return (rolled and "cue" not in kinds) or asking

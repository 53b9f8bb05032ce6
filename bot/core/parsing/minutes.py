"""Minutes: how much time a message says someone has ("I have 10 minutes", "5 min").

Numbers before a minutes unit ("10 mins", "twenty five minutes"), "#min" tokens ("10min"),
"got 12 before zwift", a bare number after `/roll`, and amounts said in words ("half an
hour", "a couple of minutes"; an hour only when it is a time budget). The first amount
found wins; `budget` then decides whether it is time to roll.
"""

from __future__ import annotations

from bot.core.parsing.budget import NO_BUDGET, budget
from bot.core.parsing.lexicon import Lexicon
from bot.core.parsing.tokens import MIN_TOKEN, NUM_TOKEN, Tokens

TENS = frozenset({20, 30, 40, 50, 60, 70, 80, 90})
# Amounts said in words. "#unit" is any minutes unit, "#num" a number ("1 hour", "one hour").
SPOKEN_MINUTES: tuple[tuple[tuple[str, ...], int], ...] = (
    (("half", "an", "hour"), 30),
    (("half", "hour"), 30),
    (("quarter", "of", "an", "hour"), 15),
    (("quarter", "hour"), 15),
    (("couple", "of", "#unit"), 2),
    (("couple", "#unit"), 2),
)
# Hours are read only as a budget ("got an hour before my run"), never as a delay
# ("tempo run in an hour") or a duration ("an hour long massage").
SPOKEN_HOURS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("an", "hour"), 60),
    (("#num", "hour"), 60),
    (("#num", "hr"), 60),
)
SPOKEN_STARTS = frozenset({"half", "quarter", "couple", "an", NUM_TOKEN})
SPOKEN_WORDS = frozenset({"hour", "hr", "couple"})  # one of these is in every spoken amount


def read_minutes(
    tokens: Tokens, command: str | None, lexicon: Lexicon, said: set[str]
) -> tuple[int | None, int, int]:
    """The minutes said, and where: (value, first token, token after the unit)."""
    words = tokens.words
    units = lexicon.minute_words
    for index, value in tokens.numbers.items():
        word = words[index]
        nxt = words[index + 1] if index + 1 < len(words) else ""
        if word == MIN_TOKEN or (word == NUM_TOKEN and nxt in units):
            end = index + 1 if word == MIN_TOKEN else index + 2
            tens = tokens.numbers.get(index - 1, 0) if word == NUM_TOKEN else 0
            if tens in TENS and value < 10:  # "twenty five mins"
                return tens + value, index - 1, end
            return (value if 0 < value <= 180 else None), index, end
        prev = words[index - 1] if index else ""
        if word == NUM_TOKEN and prev in {"got", "have"} and nxt in {"before", "until", "till"}:
            return (value if 0 < value <= 60 else None), index, index + 1  # "got 12 before zwift"
    if command == "roll":
        bare = [v for i, v in tokens.numbers.items() if words[i] == NUM_TOKEN]
        asked = min(bare[0], 180) if bare and bare[0] > 0 else None  # the coach clamps to 5-20
        return asked, -1, -1
    if SPOKEN_WORDS.isdisjoint(said):
        return None, -1, -1
    return _spoken_minutes(tokens, lexicon)


def _spoken_minutes(tokens: Tokens, lexicon: Lexicon) -> tuple[int | None, int, int]:
    words = tokens.words
    units = lexicon.minute_words
    for index, word in enumerate(words):
        if word not in SPOKEN_STARTS:
            continue
        for phrase, value in SPOKEN_MINUTES:
            if _spoken_at(words, index, phrase, units):
                return value, index, index + len(phrase)
        for phrase, value in SPOKEN_HOURS:
            if not _spoken_at(words, index, phrase, units):
                continue
            count = tokens.numbers.get(index, 1) if word == NUM_TOKEN else 1
            if 0 < count <= 3 and budget(words, index, index + 2, lexicon) != NO_BUDGET:
                return value * count, index, index + 2
    return None, -1, -1


def _spoken_at(
    words: list[str], index: int, phrase: tuple[str, ...], units: frozenset[str]
) -> bool:
    if index + len(phrase) > len(words):
        return False
    for expected, word in zip(phrase, words[index : index + len(phrase)], strict=False):
        if expected == "#unit":
            if word not in units:
                return False
        elif expected != word:
            return False
    return True

"""The schedule reader's vocabulary, built once from a content `Library`.

Day names and their misspellings, day sets ("weekdays"), one-off days ("tonight",
"tomorrow"), parts of the day, the words around a time ("at", "o'clock", "6-7pm") and
workout words all come from the `schedules` and `number_words` sections of language.yaml
and from workouts.yaml, read through the same tokenizer as messages. `time_words(library)`
builds the vocabulary of a library on first use and keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from bot.core.content import Library, default_library
from bot.core.parsing.fuzzy import FuzzyMatcher
from bot.core.timeplan.tokens import Token, schedule_tokens

WORDS_KEPT = 8  # libraries whose vocabulary `time_words` keeps
FUZZY_DAY_LENGTH = 6  # day words this long or longer are matched despite a typo
ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)

Value = TypeVar("Value")


@dataclass(frozen=True, slots=True)
class PhraseTable(Generic[Value]):
    """Phrases (as token texts) and what they stand for; the longest phrase wins."""

    phrases: dict[tuple[str, ...], Value]
    longest: int

    def match(self, tokens: Sequence[Token], start: int) -> tuple[int, Value] | None:
        """The longest phrase starting at `start`: (token count, value)."""
        for size in range(min(self.longest, len(tokens) - start), 0, -1):
            key = tuple(token.text for token in tokens[start : start + size])
            found = self.phrases.get(key)
            if found is not None:
                return size, found
        return None


def phrase_table(words: Mapping[str, Value]) -> PhraseTable[Value]:
    """A table of `words` (phrase -> value), each phrase read as a message would be; the
    first of two phrases that read the same wins."""
    phrases: dict[tuple[str, ...], Value] = {}
    for phrase, value in words.items():
        key = tuple(token.text for token in schedule_tokens(phrase, 200))
        if key and key not in phrases:
            phrases[key] = value
    return PhraseTable(phrases, max((len(key) for key in phrases), default=0))


@dataclass(frozen=True, slots=True)
class TimeWords:
    """Everything the schedule reader matches words against (see language.yaml)."""

    days: dict[str, int]  # word -> weekday (0 = Monday)
    day_matcher: FuzzyMatcher
    day_sets: PhraseTable[tuple[int, ...]]  # "weekdays", "every day" -> weekdays
    today: frozenset[str]  # "today", and the "tonight" words
    tonight: frozenset[str]
    tomorrow: frozenset[str]
    morning: frozenset[str]
    evening: frozenset[str]
    noon: frozenset[str]
    midnight: frozenset[str]
    range_words: frozenset[str]
    at_words: frozenset[str]
    oclock: frozenset[str]
    time_fillers: frozenset[str]
    not_time_units: frozenset[str]
    hours: dict[str, int]  # number words for 1 to 12 ("six")
    workout_words: dict[str, str]  # phrase -> workout id
    workouts: PhraseTable[str]
    workout_names: dict[str, str]  # workout id -> name

    @classmethod
    def build(cls, library: Library) -> TimeWords:
        words = library.language.schedules
        days = {word: weekday for weekday, names in enumerate(words.days) for word in names}
        day_sets: dict[str, tuple[int, ...]] = {}
        for phrases, weekdays in (
            (words.weekdays, ALL_DAYS[:5]),
            (words.weekends, ALL_DAYS[5:]),
            (words.every_day, ALL_DAYS),
        ):
            day_sets.update(dict.fromkeys(phrases, weekdays))
        workout_words: dict[str, str] = {}
        for workout in library.workouts.values():
            workout_words[workout.id] = workout.id
            workout_words.update(dict.fromkeys(workout.phrases, workout.id))
        workout_words.update(words.workout_words)
        return cls(
            days=days,
            day_matcher=FuzzyMatcher(
                (day for day in days if len(day) >= FUZZY_DAY_LENGTH),
                min_length=FUZZY_DAY_LENGTH,
            ),
            day_sets=phrase_table(day_sets),
            today=frozenset(words.today) | frozenset(words.tonight),
            tonight=frozenset(words.tonight),
            tomorrow=frozenset(words.tomorrow),
            morning=frozenset(words.morning),
            evening=frozenset(words.evening),
            noon=frozenset(words.noon),
            midnight=frozenset(words.midnight),
            range_words=frozenset(words.range_words),
            at_words=frozenset(words.at_words),
            oclock=frozenset(words.oclock),
            time_fillers=frozenset(words.time_fillers),
            not_time_units=frozenset(words.not_time_units),
            hours={
                word: value
                for word, value in library.language.number_words.items()
                if 1 <= value <= 12 and " " not in word
            },
            workout_words=workout_words,
            workouts=phrase_table(workout_words),
            workout_names={workout.id: workout.name for workout in library.workouts.values()},
        )

    def day(self, word: str) -> int | None:
        """The weekday a word names ("wed", "wednsday"), or None."""
        found = self.days.get(word)
        if found is not None:
            return found
        close = self.day_matcher.closest(word)
        return None if close is None else self.days[close]


_BUILT: dict[int, tuple[Library, TimeWords]] = {}


def time_words(library: Library | None = None) -> TimeWords:
    """The vocabulary of `library` (the shipped content when None), built once and kept."""
    if library is None:
        return _default_words()
    found = _BUILT.get(id(library))
    if found is not None and found[0] is library:
        return found[1]
    words = TimeWords.build(library)
    if len(_BUILT) >= WORDS_KEPT:
        del _BUILT[next(iter(_BUILT))]
    _BUILT[id(library)] = (library, words)  # the library is kept too, so its id stays its own
    return words


@lru_cache(maxsize=1)
def _default_words() -> TimeWords:
    return time_words(default_library())

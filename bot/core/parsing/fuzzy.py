"""The one fuzzy matcher: a misspelt word to the known word it is closest to.

People type fast on phones: "hamstirngs", "qauds", "wednsday", "thrusday". Both the message
parser (area words) and the schedule reader (day names) correct such words the same way:
Damerau-Levenshtein distance (a swap of two neighbouring letters counts once) from rapidfuzz,
at most 1 edit for words under 8 letters and 2 for longer ones, the nearest candidate winning
and the first listed breaking a tie. Short words are never corrected: "cafe" is not "calf".
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz.distance import DamerauLevenshtein


class FuzzyMatcher:
    """Known words to correct misspellings to; build once per vocabulary, reuse."""

    __slots__ = ("_by_letter", "_min_length", "_words")

    def __init__(
        self, words: Iterable[str], *, min_length: int, same_first_letter: bool = False
    ) -> None:
        """`min_length`: shorter words are left alone. `same_first_letter`: only candidates
        that start with the same letter are tried (faster, and people rarely miss the first)."""
        self._min_length = min_length
        self._words = tuple(dict.fromkeys(words))
        self._by_letter: dict[str, tuple[str, ...]] | None = None
        if same_first_letter:
            buckets: dict[str, list[str]] = {}
            for word in self._words:
                buckets.setdefault(word[0], []).append(word)
            self._by_letter = {letter: tuple(found) for letter, found in buckets.items()}

    def closest(self, word: str) -> str | None:
        """The known word `word` is a misspelling of, or None when none is close enough."""
        if len(word) < self._min_length or not word.isalpha():
            return None
        allowed = 1 if len(word) < 8 else 2
        by_letter = self._by_letter
        candidates = self._words if by_letter is None else by_letter.get(word[0], ())
        best: str | None = None
        best_distance = allowed + 1
        for candidate in candidates:
            if abs(len(candidate) - len(word)) > allowed:
                continue
            distance = DamerauLevenshtein.distance(word, candidate, score_cutoff=allowed)
            if distance < best_distance:
                best, best_distance = candidate, distance
        return best

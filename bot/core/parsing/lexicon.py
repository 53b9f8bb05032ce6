"""The lexicon: every phrase and word the parser knows, built once from a content `Library`.

Two things come out of the library. The *phrase table*: areas and groups ("legs"), workouts,
red-flag terms, severity words, intensifiers, negators, clause breaks and phrases that hold
an area word without meaning it ("leg day"), each tagged with what it means; the next stage
(`spans`) matches them. And the *grammar's words*: the single words its rules look for
("have" before an amount, "yesterday" after a workout), bound here once as frozensets so the
rules read them as fast as module constants. The parser takes whichever `Library` it is given;
`lexicon_for` builds a lexicon once per library and keeps it.

The lexicon also reads raw tokens into canonical words (`token`): possessives and fillers
dropped, contractions restored, plurals folded to the vocabulary word, misspelt area words
corrected by the shared fuzzy matcher, number words made numbers. Readings are cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from bot.core.content import Language, Library, default_library
from bot.core.parsing.fuzzy import FuzzyMatcher
from bot.core.parsing.tokens import (
    BREAK_TOKEN,
    NUM_TOKEN,
    Piece,
    classify_mark,
    classify_number,
    tokenize,
)

FUZZY_CACHE_LIMIT = 50_000  # raw tokens whose reading is kept (typos make the set unbounded)
LEXICONS_KEPT = 8  # libraries whose lexicon `lexicon_for` keeps

NEGATION_TAGS: dict[str, object] = {"neg": None}


@dataclass(frozen=True, slots=True)
class Tag:
    """What a phrase means to the parser: a kind and, for some kinds, a value."""

    kind: str  # area, not_area, workout, flag, not_flag, sev, int, soft, neg, after_neg, ...
    value: object = None


def _words(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(values)


@dataclass(slots=True)
class Lexicon:
    """Phrase table, vocabulary and the grammar's words derived from a `Library`; build once,
    reuse (see `lexicon_for`)."""

    library: Library
    # multi-word phrases keyed by their first two words, longest first
    phrases: dict[tuple[str, str], list[tuple[tuple[str, ...], dict[str, object]]]] = field(
        default_factory=dict
    )
    single: dict[str, dict[str, object]] = field(default_factory=dict)  # one-word phrases
    phrase_starts: frozenset[str] = frozenset()  # first words of multi-word phrases
    vocabulary: set[str] = field(default_factory=set)
    area_matcher: FuzzyMatcher = field(default_factory=lambda: FuzzyMatcher((), min_length=5))
    canonical: dict[str, Piece] = field(default_factory=dict)
    urgent_kinds: frozenset[str] = frozenset()
    minute_words: frozenset[str] = frozenset()
    massage_wishes: frozenset[str] = frozenset()
    massage_context: frozenset[str] = frozenset()
    asleep_kind: str | None = None  # the red-flag kind of a body part "going to sleep"
    flag_starts: frozenset[str] = frozenset()  # first words of multi-word red-flag phrases
    default_severity: int = 5
    number_words: dict[str, int] = field(default_factory=dict)
    # The grammar's words, by section of language.yaml (see the comments there).
    fillers: frozenset[str] = frozenset()
    contractions: dict[str, str] = field(default_factory=dict)
    severity_prefixes: frozenset[str] = frozenset()
    not_severity_units: frozenset[str] = frozenset()
    now_words: frozenset[str] = frozenset()
    state_verbs: frozenset[str] = frozenset()
    inability: frozenset[str] = frozenset()
    answer_words: frozenset[str] = frozenset()
    denial_ends: frozenset[str] = frozenset()
    subject_gap: frozenset[str] = frozenset()
    asleep_words: frozenset[str] = frozenset()
    modifier_gaps: frozenset[str] = frozenset()
    numb_triggers: frozenset[str] = frozenset()
    breathing: frozenset[str] = frozenset()
    workout_past_before: frozenset[str] = frozenset()
    workout_past_after: frozenset[str] = frozenset()
    workout_called_off: frozenset[str] = frozenset()
    training_verbs: frozenset[str] = frozenset()
    upper_body_areas: frozenset[str] = frozenset()
    question_starts: frozenset[str] = frozenset()
    yes_no_starts: frozenset[str] = frozenset()
    roll_question_starts: frozenset[str] = frozenset()
    roll_verbs: frozenset[str] = frozenset()
    meta_questions: frozenset[str] = frozenset()
    review_words: frozenset[str] = frozenset()
    rolling_done: frozenset[str] = frozenset()
    asking: frozenset[str] = frozenset()
    start_words: frozenset[str] = frozenset()
    settings_words: frozenset[str] = frozenset()
    massage_planned: frozenset[str] = frozenset()
    massage_called_off: frozenset[str] = frozenset()
    massage_asking: frozenset[str] = frozenset()
    budget_have: frozenset[str] = frozenset()
    budget_only: frozenset[str] = frozenset()
    amount_skip: frozenset[str] = frozenset()  # the time budget's skip words and its "only"s
    budget_after: frozenset[str] = frozenset()
    budget_until: frozenset[str] = frozenset()
    budget_to: tuple[list[str], ...] = ()
    duration_after: frozenset[str] = frozenset()
    openers: frozenset[str] = frozenset()
    not_budget_before: frozenset[str] = frozenset()
    past_words: frozenset[str] = frozenset()
    not_a_budget: frozenset[str] = frozenset()
    budget_fillers: frozenset[str] = frozenset()  # with the now words and a clause break

    @classmethod
    def build(cls, library: Library) -> Lexicon:
        lexicon = cls(library)
        lexicon._bind_words(library.language)
        lexicon._add_all()
        return lexicon

    def _bind_words(self, lang: Language) -> None:
        self.default_severity = lang.default_severity
        self.number_words = dict(lang.number_words)
        self.minute_words = _words(lang.minutes_units)
        self.massage_wishes = _words(lang.massage_wishes)
        self.massage_context = _words(lang.massage_context)
        self.fillers = _words(lang.tokens.fillers)
        self.contractions = dict(lang.tokens.contractions)
        self.severity_prefixes = _words(lang.severity_numbers.prefixes)
        self.not_severity_units = _words(lang.severity_numbers.not_units)
        self.now_words = _words(lang.now_words)
        self.state_verbs = _words(lang.state_verbs)
        negation, signs = lang.negation, lang.warning_signs
        self.inability = _words(negation.inability)
        self.answer_words = _words(negation.answers)
        self.denial_ends = _words(negation.denial_ends)
        self.subject_gap = _words(signs.subject_gap)
        self.asleep_words = _words(signs.asleep)
        self.modifier_gaps = _words(signs.modifier_gaps)
        self.numb_triggers = _words(signs.numb_triggers)
        self.breathing = _words(signs.breathing)
        mentions = lang.workout_mentions
        self.workout_past_before = _words(mentions.past_before)
        self.workout_past_after = _words(mentions.past_after)
        self.workout_called_off = _words(mentions.called_off)
        self.training_verbs = _words(mentions.training_verbs)
        self.upper_body_areas = _words(mentions.upper_body_areas)
        intent = lang.intent_words
        self.question_starts = _words(intent.question_starts)
        self.yes_no_starts = _words(intent.yes_no_starts)
        self.roll_question_starts = _words(intent.roll_question_starts)
        self.roll_verbs = _words(intent.roll_verbs)
        self.meta_questions = _words(intent.meta_questions)
        self.review_words = _words(intent.review)
        self.rolling_done = _words(intent.rolling_done)
        self.asking = _words(intent.asking)
        self.start_words = _words(intent.start_words)
        self.settings_words = _words(intent.settings)
        massage = lang.massage_reports
        self.massage_planned = _words(massage.planned)
        self.massage_called_off = _words(massage.called_off)
        self.massage_asking = _words(massage.asking)
        budget = lang.time_budget
        self.budget_have = _words(budget.have)
        self.budget_only = _words(budget.only)
        self.amount_skip = _words(budget.skip) | self.budget_only
        self.budget_after = _words(budget.after)
        self.budget_until = _words(budget.until)
        self.budget_to = tuple(phrase.split() for phrase in budget.to)
        self.duration_after = _words(budget.duration_after)
        self.openers = _words(budget.openers)
        self.not_budget_before = _words(budget.not_before)
        self.past_words = _words(budget.past)
        self.not_a_budget = _words(budget.not_a_budget)
        self.budget_fillers = _words(budget.fillers) | self.now_words | {BREAK_TOKEN}

    def _add_all(self) -> None:
        lang = self.library.language
        raw: list[tuple[str, Tag]] = []
        for area in self.library.areas.values():
            raw += [(term, Tag("area", (area.id,))) for term in (area.id, *area.synonyms)]
        raw += [(word, Tag("area", ids)) for word, ids in self.library.groups.items()]
        for workout in self.library.workouts.values():
            raw += [(term, Tag("workout", workout.id)) for term in (workout.id, *workout.phrases)]
        for flag in self.library.safety.flags:
            raw += [(term, Tag("flag", flag.id)) for term in flag.terms]
        self.urgent_kinds = frozenset(f.id for f in self.library.safety.flags if f.urgent)
        self.asleep_kind = next(
            (f.id for f in self.library.safety.flags for t in f.terms if "asleep" in t.split()),
            None,
        )
        raw += [(term, Tag("not_flag")) for term in lang.not_red_flags]
        raw += [(term, Tag("not_area")) for term in lang.not_areas]
        raw += [(term, Tag("sev", value)) for term, value in lang.severity_words.items()]
        raw += [(term, Tag("int", value)) for term, value in lang.intensifiers.items()]
        raw += [(term, Tag("soft")) for term in lang.softeners]
        raw += [(term, Tag("post_int", 7)) for term in lang.after_intensifiers]
        raw += [(term, Tag("routine")) for term in lang.routine_words]
        raw += [(term, Tag("not_massage")) for term in lang.not_massages]
        raw += [(term, Tag("neg")) for term in lang.negators]
        raw += [(term, Tag("after_neg")) for term in lang.after_negators]
        raw += [(term, Tag("break")) for term in lang.clause_breaks]
        raw += [(term, Tag("roll")) for term in lang.roll_words]
        raw += [(term, Tag("cue")) for term in lang.question_cues]
        raw += [(term, Tag("target")) for term in lang.question_targets]
        raw += [(term, Tag("massage")) for term in lang.massage_words]
        raw += [(term, Tag("minutes_unit")) for term in lang.minutes_units]
        raw += [("out of", Tag("out_of"))]
        self._index(raw)

    def _index(self, raw: list[tuple[str, Tag]]) -> None:
        # Phrases are read exactly as messages are: "wee one" becomes ("wee", "#num") both in
        # the vocabulary and in "my wee one kept me up".
        split = [(tokenize(term, self.classify).words, tag) for term, tag in raw]
        self.vocabulary = {word for words, _ in split for word in words}
        area_words = [
            word for words, tag in split if tag.kind == "area" for word in words if len(word) >= 4
        ]
        self.area_matcher = FuzzyMatcher(area_words, min_length=5, same_first_letter=True)
        merged: dict[tuple[str, ...], list[Tag]] = {}
        for words, tag in split:
            if words and tag not in merged.setdefault(tuple(words), []):
                merged[tuple(words)].append(tag)
        for words_t, tags in merged.items():
            inside = self._areas_inside(words_t, tags, merged)
            as_dict = {tag.kind: tag.value for tag in (*tags, *inside)}
            if len(words_t) == 1:
                self.single[words_t[0]] = as_dict
            else:
                self.phrases.setdefault((words_t[0], words_t[1]), []).append((words_t, as_dict))
        self.phrase_starts = frozenset(first for first, _ in self.phrases)
        self.flag_starts = frozenset(
            first
            for (first, _), entries in self.phrases.items()
            if any("flag" in tags for _, tags in entries)
        )
        for entries in self.phrases.values():
            entries.sort(key=lambda entry: -len(entry[0]))

    @staticmethod
    def _areas_inside(
        words: tuple[str, ...], tags: list[Tag], merged: dict[tuple[str, ...], list[Tag]]
    ) -> list[Tag]:
        """A red-flag phrase such as "chest pain" still says where: keep the area it names."""
        if not any(tag.kind == "flag" for tag in tags) or len(words) < 2:
            return []
        found = [t for w in words for t in merged.get((w,), []) if t.kind == "area"]
        return found[:1]

    def classify(self, raw: str) -> Piece:
        """What one raw token is: a number, a time, a word (folded), punctuation or nothing."""
        first = raw[0]
        if first.isdigit():
            return classify_number(raw)
        if first.isalpha() or first == "/":
            word = raw.strip("'")
            if word.endswith("'s"):
                word = word[:-2]
            word = self.contractions.get(word, word)
            if not word or word in self.fillers:
                return ("", None)
            value = self.number_words.get(word)
            if value is not None:
                return (NUM_TOKEN, value)
            return (word, None)
        return classify_mark(raw)

    def token(self, raw: str) -> Piece:
        """A raw token, classified and folded to the vocabulary word it stands for (cached)."""
        cached = self.canonical.get(raw)
        if cached is not None:
            return cached
        word, value = self.classify(raw)
        if value is None and word and word[0].isalpha():
            word = self._resolve(word)
            if word.endswith("n't") and word not in self.inability and word not in self.single:
                self.single[word] = NEGATION_TAGS  # "isn't", "haven't": any other -n't negates
        if len(self.canonical) > FUZZY_CACHE_LIMIT:
            self.canonical.clear()
        self.canonical[raw] = (word, value)
        return (word, value)

    def _resolve(self, word: str) -> str:
        if word in self.vocabulary or not word.isalpha():
            return word
        for cut in ("es", "s"):
            if word.endswith(cut) and word[: -len(cut)] in self.vocabulary:
                return word[: -len(cut)]
        return self.area_matcher.closest(word) or word


_BUILT: dict[int, tuple[Library, Lexicon]] = {}


def lexicon_for(library: Library) -> Lexicon:
    """The lexicon of `library`, built on first use and kept (for the last few libraries)."""
    found = _BUILT.get(id(library))
    if found is not None and found[0] is library:
        return found[1]
    lexicon = Lexicon.build(library)
    if len(_BUILT) >= LEXICONS_KEPT:
        del _BUILT[next(iter(_BUILT))]
    _BUILT[id(library)] = (library, lexicon)  # the library is kept too, so its id stays its own
    return lexicon


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The lexicon of the shipped content."""
    return lexicon_for(default_library())

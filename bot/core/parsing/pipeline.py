"""Understanding free-text messages: soreness, questions, massages and red flags.

`parse_message(text)` is the contract other parts (and evaluations) rely on. It works as a
small pipeline rather than a lookup of sentences:

1. **Tokens.** Lower-case words, numbers ("6/10", "six"), times ("6:30pm") and punctuation.
   Filler words ("my", "the", "left", "right") are dropped; possessives and plurals are
   folded; misspelt area names ("hamstirngs", "qauds") are corrected with a fuzzy match
   against the content library's vocabulary (rapidfuzz, Damerau-Levenshtein).
2. **Phrases.** One greedy longest-match pass tags spans: areas and groups ("legs"),
   workouts, red-flag terms, severity words, intensifiers, negators, clause breaks, and
   phrases that contain an area word without meaning it ("leg day", "hip thrusts").
3. **Meaning.** Clauses are split at punctuation and words like "but". Negators reach a few
   words forward ("no tingling or numbness"), after-negators a few back ("swelling is
   gone"). Each area takes the severity said about it in its clause, or from a neighbouring
   clause that names no area ("DOMS means I can't walk, glutes and hamstrings").

All vocabulary comes from `content/*.yaml`; this module holds only the grammar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein

from bot.core.content import Library, default_library

INTENTS = ("soreness", "which_area", "massage", "other")

NEGATION_REACH = 4  # words a negator reaches forward ("no shooting pains")
AFTER_NEGATION_REACH = 10  # words an after-negator reaches back ("numb feeling ... went away")
MAX_TEXT = 10_000  # longer messages are cut: nobody reports soreness in a novel
FUZZY_CACHE_LIMIT = 50_000

# Words that carry nothing for us and are removed before phrase matching, so that
# "back of my thigh" and "back of the thigh" are one phrase.
FILLERS = frozenset({"my", "the", "your", "his", "her", "our", "their", "both", "left", "right"})
# Contractions typed without the apostrophe.
CONTRACTIONS = {
    "cant": "can't",
    "dont": "don't",
    "didnt": "didn't",
    "doesnt": "doesn't",
    "isnt": "isn't",
    "wasnt": "wasn't",
    "wont": "won't",
    "arent": "aren't",
    "havent": "haven't",
    "hasnt": "hasn't",
    "aint": "ain't",
    "couldnt": "couldn't",
    "im": "i'm",
    "ive": "i've",
    "&": "and",
}
# "can't control my bladder" reports a symptom; it does not negate one.
INABILITY = frozenset({"can't", "couldn't", "won't", "wouldn't"})
NUMBER_PREFIXES = frozenset(
    {"a", "an", "is", "are", "about", "around", "maybe", "like", "level", "rated", "feel", "say"}
)
NUMBER_PREFIXES |= {"rate", "score", "approx", "roughly", "probably", "solid", "at", "~"}
NON_SEVERITY_UNITS = frozenset(
    {"am", "pm", "hours", "hour", "hrs", "hr", "days", "day", "weeks", "week", "x", "reps", "sets"}
    | {"km", "miles", "mile", "k", "kg", "kgs", "lbs", "lb", "times", "massages", "massage"}
    | {"sessions", "session", "months", "month", "years", "year", "pounds", "kilos", "percent"}
)
WORKOUT_CONTEXT_PAST = frozenset(
    {"from", "since", "yesterday", "during", "off", "finished", "did", "completed", "last"}
    | {"ran", "rode", "swam", "lifted"}
)
WORKOUT_PAST_AFTER = frozenset({"yesterday", "earlier", "last", "ago"})
WORKOUT_CALLED_OFF = frozenset({"cancelled", "canceled", "off", "skipped", "postponed"})
NOW_WORDS = frozenset(
    {"now", "today", "currently", "down", "dropped", "up", "tonight", "after", "tdy", "rn"}
)
QUESTION_STARTS = frozenset(
    {"is", "are", "should", "how", "what", "when", "why", "do", "does", "can", "could", "would"}
    | {"will", "which", "who", "where"}
)
MASSAGE_PLANNED = frozenset(
    {"booked", "book", "booking", "appointment", "scheduled", "pencilled", "penciled", "planned"}
    | {"tomorrow", "next", "upcoming", "getting", "seeing", "confirmed", "sorted", "will", "going"}
)
STATE_VERBS = frozenset(
    {
        "theyre",
        "they're",
        "it's",
        "its",
        "they",
        "it",
        "feel",
        "feels",
        "feeling",
        "felt",
        "now",
        "seem",
        "seems",
        "are",
        "is",
        "look",
        "looks",
    }
    | {"all", "totally", "completely", "fully", "back", "pretty", "much"}
)
REVIEW_WORDS = frozenset({"chart", "history", "graph", "stats", "trend", "log", "show"})

_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)?(?:[:/]\d+)?[a-z]*|[a-z]+(?:'[a-z]+)*'?|/[a-z]+|[^\w\s']")
_NUMBER_RE = re.compile(
    r"(?P<sev>\d{1,2}(?:\.\d)?)/10"
    r"|(?P<time>\d{1,2}[:.]\d{2}(?:am|pm)?|\d{1,2}(?:am|pm))"
    r"|(?P<min>\d{1,3})(?:mins?|m)"
    r"|(?P<num>\d{1,6})"
)


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


# --- tokens -----------------------------------------------------------------------------

SEV_TOKEN, TIME_TOKEN, NUM_TOKEN, MIN_TOKEN, BREAK_TOKEN = "#sev", "#time", "#num", "#min", ","


@dataclass(slots=True)
class _Tokens:
    words: list[str]
    numbers: dict[int, int]  # index of a #num/#sev/#min token -> its value


def _normalise(text: str) -> str:
    text = text[:MAX_TEXT].lower()
    if not text.isascii():
        text = text.replace("’", "'").replace("‘", "'")
    if "_" in text:
        text = text.replace("_", " ")
    if "-" in text:
        text = _HYPHEN_RE.sub(" ", text)
    if "b4" in text:
        text = _B4_RE.sub("before", text)  # texting shorthand; the tokenizer would split it
    return _GLUE_RE.sub("", text) if _DIGIT_RE.search(text) else text


_GLUE_RE = re.compile(r"(?<=\d)\s+(?=(?:am|pm)\b|/\s*10\b)|(?<=/)\s+(?=10\b)")
_DIGIT_RE = re.compile(r"\d")
_HYPHEN_RE = re.compile(r"(?<=[a-z0-9])-(?=[a-z0-9])")
_B4_RE = re.compile(r"\bb4\b")


Piece = tuple[str, int | None]  # a token and, for numbers, its value; ("", None) is dropped


def classify(raw: str, number_words: dict[str, int]) -> Piece:
    """What one raw token is: a number, a time, a word (folded), punctuation or nothing."""
    if raw[0].isdigit():
        return _classify_number(raw)
    if raw[0].isalpha() or raw[0] == "/":
        word = _fold_word(raw)
        if not word or word in FILLERS:
            return ("", None)
        if word in number_words:
            return (NUM_TOKEN, number_words[word])
        return (word, None)
    if raw in "&+':=$£€":
        return ("", None)
    return (BREAK_TOKEN, None)


def _classify_number(raw: str) -> Piece:
    if raw.endswith("ish") and raw[:-3].isdigit():
        raw = raw[:-3]
    match = _NUMBER_RE.fullmatch(raw)
    if match is None:
        return (raw, None)  # 14th, 5k, 3x10, 2.5: words of their own ("5k" is a run)
    kind = match.lastgroup
    if kind == "sev":
        return (SEV_TOKEN, min(10, round(float(match.group("sev")))))
    if kind == "time":
        return (TIME_TOKEN, None)
    if kind == "min":
        return (MIN_TOKEN, int(match.group("min")))
    return (NUM_TOKEN, int(match.group("num")))


def tokenize(
    text: str, classify_token: Callable[[str], Piece], cache: dict[str, Piece] | None = None
) -> _Tokens:
    """Split a message into canonical tokens; numbers and times become typed tokens."""
    known = cache if cache is not None else {}
    raws = _TOKEN_RE.findall(_normalise(text))
    pieces = [known.get(raw) or classify_token(raw) for raw in raws]
    kept = [piece for piece in pieces if piece[0]]
    words = [word for word, _ in kept]
    numbers = {i: value for i, (_, value) in enumerate(kept) if value is not None}
    return _Tokens(words, numbers)


def _fold_word(word: str) -> str:
    word = word.strip("'")
    if word.endswith("'s"):
        word = word[:-2]
    return CONTRACTIONS.get(word, word)


# --- the lexicon: every phrase the parser knows, built once from the content library ------


@dataclass(frozen=True, slots=True)
class _Tag:
    kind: str  # area, not_area, workout, flag, not_flag, sev, int, soft, neg, after_neg, ...
    value: object = None


@dataclass(slots=True)
class Lexicon:
    """Phrase table and vocabulary derived from a `Library`; build once, reuse."""

    library: Library
    # multi-word phrases keyed by their first two words, longest first
    phrases: dict[tuple[str, str], list[tuple[tuple[str, ...], dict[str, object]]]] = field(
        default_factory=dict
    )
    single: dict[str, dict[str, object]] = field(default_factory=dict)  # one-word phrases
    phrase_starts: frozenset[str] = frozenset()  # first words of multi-word phrases
    vocabulary: set[str] = field(default_factory=set)
    area_words: dict[str, list[str]] = field(default_factory=dict)  # first letter -> words
    canonical: dict[str, Piece] = field(default_factory=dict)
    urgent_kinds: frozenset[str] = frozenset()
    minute_words: frozenset[str] = frozenset()
    massage_wishes: frozenset[str] = frozenset()
    massage_context: frozenset[str] = frozenset()
    asleep_kind: str | None = None  # the red-flag kind of a body part "going to sleep"
    flag_starts: frozenset[str] = frozenset()  # first words of multi-word red-flag phrases

    @classmethod
    def build(cls, library: Library) -> Lexicon:
        lexicon = cls(library)
        lexicon._add_all()
        return lexicon

    def _add_all(self) -> None:
        lang = self.library.language
        raw: list[tuple[str, _Tag]] = []
        for area in self.library.areas.values():
            raw += [(term, _Tag("area", (area.id,))) for term in (area.id, *area.synonyms)]
        raw += [(word, _Tag("area", ids)) for word, ids in self.library.groups.items()]
        for workout in self.library.workouts.values():
            raw += [(term, _Tag("workout", workout.id)) for term in (workout.id, *workout.phrases)]
        for flag in self.library.safety.flags:
            raw += [(term, _Tag("flag", flag.id)) for term in flag.terms]
        self.urgent_kinds = frozenset(f.id for f in self.library.safety.flags if f.urgent)
        self.asleep_kind = next(
            (f.id for f in self.library.safety.flags for t in f.terms if "asleep" in t.split()),
            None,
        )
        self.minute_words = frozenset(lang.minutes_units)
        self.massage_wishes = frozenset(lang.massage_wishes)
        self.massage_context = frozenset(lang.massage_context)
        raw += [(term, _Tag("not_flag")) for term in lang.not_red_flags]
        raw += [(term, _Tag("not_area")) for term in lang.not_areas]
        raw += [(term, _Tag("sev", value)) for term, value in lang.severity_words.items()]
        raw += [(term, _Tag("int", value)) for term, value in lang.intensifiers.items()]
        raw += [(term, _Tag("soft")) for term in lang.softeners]
        raw += [(term, _Tag("post_int", 7)) for term in lang.after_intensifiers]
        raw += [(term, _Tag("routine")) for term in lang.routine_words]
        raw += [(term, _Tag("not_massage")) for term in lang.not_massages]
        raw += [(term, _Tag("neg")) for term in lang.negators]
        raw += [(term, _Tag("after_neg")) for term in lang.after_negators]
        raw += [(term, _Tag("break")) for term in lang.clause_breaks]
        raw += [(term, _Tag("roll")) for term in lang.roll_words]
        raw += [(term, _Tag("cue")) for term in lang.question_cues]
        raw += [(term, _Tag("target")) for term in lang.question_targets]
        raw += [(term, _Tag("massage")) for term in lang.massage_words]
        raw += [(term, _Tag("minutes_unit")) for term in lang.minutes_units]
        raw += [("out of", _Tag("out_of"))]
        self._index(raw)

    def _index(self, raw: list[tuple[str, _Tag]]) -> None:
        # Phrases are read exactly as messages are: "wee one" becomes ("wee", "#num") both in
        # the vocabulary and in "my wee one kept me up".
        number_words = self.library.language.number_words
        split = [
            (tokenize(term, lambda w: classify(w, number_words)).words, tag) for term, tag in raw
        ]
        self.vocabulary = {word for words, _ in split for word in words}
        for words, tag in split:
            if tag.kind != "area":
                continue
            for word in words:
                if len(word) >= 4 and word not in self.area_words.get(word[0], ()):
                    self.area_words.setdefault(word[0], []).append(word)
        merged: dict[tuple[str, ...], list[_Tag]] = {}
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
        words: tuple[str, ...], tags: list[_Tag], merged: dict[tuple[str, ...], list[_Tag]]
    ) -> list[_Tag]:
        """A red-flag phrase such as "chest pain" still says where: keep the area it names."""
        if not any(tag.kind == "flag" for tag in tags) or len(words) < 2:
            return []
        found = [t for w in words for t in merged.get((w,), []) if t.kind == "area"]
        return found[:1]

    def token(self, raw: str) -> Piece:
        """A raw token, classified and folded to the vocabulary word it stands for (cached)."""
        cached = self.canonical.get(raw)
        if cached is not None:
            return cached
        word, value = classify(raw, self.library.language.number_words)
        if value is None and word and word[0].isalpha():
            word = self._resolve(word)
            if word.endswith("n't") and word not in INABILITY and word not in self.single:
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
        return self._fuzzy_area_word(word) or word

    def _fuzzy_area_word(self, word: str) -> str | None:
        if len(word) < 5:
            return None
        allowed = 1 if len(word) < 8 else 2
        best: tuple[int, str] | None = None
        for candidate in self.area_words.get(word[0], ()):
            if abs(len(candidate) - len(word)) > allowed or len(candidate) < 4:
                continue
            distance = DamerauLevenshtein.distance(word, candidate, score_cutoff=allowed)
            if distance <= allowed and (best is None or distance < best[0]):
                best = (distance, candidate)
        return best[1] if best else None


# --- spans ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Span:
    start: int
    end: int  # exclusive
    tags: dict[str, object]
    clause: int = 0
    negated: bool = False


def _spans(words: list[str], lexicon: Lexicon) -> tuple[list[_Span], list[int]]:
    """Tag phrases greedily, longest first; also return the clause number of every token."""
    spans: list[_Span] = []
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
            spans.append(_Span(i, i + length, tags, clause))
            if "break" in tags:
                clause += 1
        i += length
    return spans, clause_of


NEGATION_TAGS: dict[str, object] = {"neg": None}


# --- meaning ----------------------------------------------------------------------------


def parse_message(text: str) -> Parsed:
    """Parse one chat message with the default content library. Never raises on text."""
    return parse_with(_default_lexicon(), text)


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    return Lexicon.build(default_library())


def parse_with(lexicon: Lexicon, text: str) -> Parsed:
    """Parse `text` with a given lexicon (tests build their own from edited content)."""
    if not isinstance(text, str) or not text.strip():
        return Parsed("other")
    stripped = text.strip()
    command = _command(stripped)
    tokens = _canonical_tokens(stripped, lexicon)
    spans, clause_of = _spans(tokens.words, lexicon)
    said = set(tokens.words)  # each pass below only runs when its trigger word is there
    if "back" in said:
        _drop_verbal_back(spans, tokens.words)
    if "day" in said:
        _area_days(spans, tokens.words)
    if not TRAINING_VERBS.isdisjoint(said):
        _trained_areas(spans, tokens.words)
    if not GAP_WORDS.isdisjoint(said):
        spans = _flags_across_modifiers(spans, tokens.words, lexicon)
        if "dead" in said:
            _dead_tired(spans, tokens.words, clause_of, lexicon)
    if not ASLEEP_WORDS.isdisjoint(said):
        _areas_asleep(spans, tokens.words, lexicon)
    _apply_negation(spans, tokens.words)
    flags = [s for s in spans if "flag" in s.tags and not s.negated]
    if not flags and "chest" in said and ("pain" in said or BREATHING & said):
        flags = _chest_pain_said_apart(spans, tokens.words)
    kinds = tuple(dict.fromkeys(str(_tag_value(s, "flag")) for s in flags)) if flags else ()
    unrated: set[str] = set()
    soreness = _soreness(spans, tokens, clause_of, lexicon, unrated)
    if unrated and _areas_only_named(spans, tokens.words, unrated, soreness):
        soreness = {area: level for area, level in soreness.items() if area not in unrated}
        unrated.clear()
    minutes, amount_start, amount_end = _minutes(tokens, command, lexicon.minute_words, said)
    workout = _workout(spans, tokens.words)
    budget = NO_BUDGET
    if amount_start >= 0 and command is None:
        budget = _time_budget(spans, tokens.words, clause_of, (amount_start, amount_end), workout)
    intent = _intent(
        command,
        spans,
        words=tokens.words,
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
        massage_planned=intent == "massage" and bool(MASSAGE_PLANNED & said),
        unrated=tuple(sorted(unrated)) if unrated else (),
    )


ROLL_VERBS = frozenset({"roll", "rolling", "foam"})


def _areas_only_named(
    spans: list[_Span], words: list[str], unrated: set[str], soreness: dict[str, int]
) -> bool:
    """Areas named with no severity where nothing says they are sore: the object of rolling
    ("will roll my calves now") or of an advice question ("how do I get bigger calves?")."""
    kinds = {kind for span in spans for kind in span.tags}
    if "flag" in kinds or "sev" in kinds or set(soreness) != unrated:
        return False
    rolled = any(
        ROLL_VERBS & set(words[max(0, s.start - 2) : s.start]) for s in spans if "area" in s.tags
    )
    asking = bool(words) and words[0] in QUESTION_STARTS and "roll" not in kinds
    return (rolled and "cue" not in kinds) or asking


CHEST_PAIN = _Span(0, 0, {"flag": "chest_pain"})
BREATHING = frozenset({"breathe", "breathing", "breath", "breaths"})


def _chest_pain_said_apart(spans: list[_Span], words: list[str]) -> list[_Span]:
    """ "In the chest I have pain": chest and pain in one clause, with no workout to explain
    it (pecs sore after bench are DOMS), is chest pain."""
    for span in spans:
        if _area_ids(span) != ("chest",):
            continue
        denied = any("neg" in s.tags for s in spans)
        if BREATHING & set(words) and not denied and not {"fine", "ok", "okay"} & set(words):
            return [CHEST_PAIN]  # "chest hurts when I breathe deeply"
        if any(s.tags.get("workout") == "upper_body" for s in spans):
            continue  # pecs sore after bench are DOMS
        if any(
            s.clause == span.clause and words[s.start] == "pain" and not s.negated for s in spans
        ):
            return [CHEST_PAIN]
    return []


def _command(text: str) -> str | None:
    if not text.startswith("/"):
        return None
    name = text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""
    return name.split("@", 1)[0].lower() or None


def _canonical_tokens(text: str, lexicon: Lexicon) -> _Tokens:
    return tokenize(text, lexicon.token, lexicon.canonical)


def _tag_value(span: _Span, kind: str) -> object:
    return span.tags.get(kind)


def _drop_verbal_back(spans: list[_Span], words: list[str]) -> None:
    """Bare "back" is the lower back, except in "back of my neck" or "back from the gym"."""
    for span in list(spans):
        if span.end - span.start != 1 or words[span.start] != "back":
            continue
        following = words[span.end] if span.end < len(words) else ""
        if following in {"of", "to", "from", "at", "home", "in", "into", "on", "up", "off"}:
            spans.remove(span)


UPPER_BODY_AREAS = frozenset(
    {"chest", "shoulders", "traps", "neck", "triceps", "biceps", "forearms", "lats", "upper_back"}
)


def _area_days(spans: list[_Span], words: list[str]) -> None:
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
        named = [area for s in spans[first : index + 1] for area in _area_ids(s)]
        upper = sum(area in UPPER_BODY_AREAS for area in named) * 2 >= len(named)
        workout = "upper_body" if upper else "lower_body"
        spans[first : index + 1] = [
            _Span(spans[first].start, span.end + 1, {"workout": workout}, span.clause)
        ]
        return


TRAINING_VERBS = frozenset({"doing", "doin", "training", "hitting", "smashing", "train", "hit"})


def _trained_areas(spans: list[_Span], words: list[str]) -> None:
    """ "doing legs", "training chest tonight": an area after a training verb is the workout."""
    for index, span in enumerate(spans):
        if (
            "area" not in span.tags
            or span.start == 0
            or words[span.start - 1] not in TRAINING_VERBS
        ):
            continue
        named = _area_ids(span)
        upper = sum(area in UPPER_BODY_AREAS for area in named) * 2 >= len(named)
        spans[index] = _Span(
            span.start, span.end, {"workout": "upper_body" if upper else "lower_body"}, span.clause
        )


# --- warning signs said loosely -----------------------------------------------------------

# Words that may stand between a body part and what it does ("my hand keeps going numb").
SUBJECT_GAP = frozenset(
    {"keeps", "keep", "kept", "always", "just", "sometimes", "often", "also", "still", "has"}
    | {"have", "had", "is", "are", "was", "were", "been", "randomly", "constantly", "usually"}
    | {"literally", "kinda", "totally", "completely", "even", "then", "all", "will", "can"}
)
ASLEEP_WORDS = frozenset({"asleep", "sleep"})
# A modifier may split a red-flag phrase that ends in one of these ("goes completely dead",
# "can't really feel my toes"); other phrases end in a red-flag word of their own.
GAP_WORDS = frozenset({"dead", "feel"})
# "my legs go dead when I sit": a trigger makes a limb going dead a nerve symptom again.
NUMB_TRIGGERS = frozenset(
    {"when", "whenever", "if", "every", "while", "sit", "sitting", "sat", "lying", "lie"}
    | {"sleep", "sleeping", "touch", "press", "pressure"}
)


def _flags_across_modifiers(spans: list[_Span], words: list[str], lexicon: Lexicon) -> list[_Span]:
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
            merged = _Span(span.start - 1, end, phrase_tags, span.clause)
            before = [s for s in spans if s.end <= merged.start]
            spans = [*before, merged, *(s for s in spans if s.start >= end)]
            index = len(before) + 1
            break
    return spans


def _subject_area(spans: list[_Span], index: int, words: list[str]) -> _Span | None:
    """The area said right before spans[index] in its clause ("calves just went dead")."""
    span = spans[index]
    for earlier in reversed(spans[:index]):
        if earlier.clause != span.clause:
            return None
        if "area" in earlier.tags:
            between = words[earlier.end : span.start]
            return earlier if len(between) <= 3 and SUBJECT_GAP.issuperset(between) else None
        if earlier.end < span.start and not SUBJECT_GAP.issuperset(words[earlier.end : span.start]):
            return None
    return None


def _areas_asleep(spans: list[_Span], words: list[str], lexicon: Lexicon) -> None:
    """ "my butt fell asleep on the bike": the person falling asleep is harmless, but an area
    that goes to sleep has lost feeling."""
    if lexicon.asleep_kind is None:
        return
    for index, span in enumerate(spans):
        if "not_flag" not in span.tags or not ASLEEP_WORDS & set(words[span.start : span.end]):
            continue
        subject = _subject_area(spans, index, words)
        if subject is not None:
            spans[index] = _Span(span.start, span.end, {"flag": lexicon.asleep_kind}, span.clause)


def _dead_tired(
    spans: list[_Span], words: list[str], clause_of: list[int], lexicon: Lexicon
) -> None:
    """ "my legs went dead on the last climb" is tiredness, said of muscles in the plural;
    "my arm goes dead", "calf went dead when I rolled it" are numbness."""
    for index, span in enumerate(spans):
        if "flag" not in span.tags or "dead" not in words[span.start : span.end]:
            continue
        subject = _subject_area(spans, index, words)
        if subject is None or _area_ids(subject) == ("feet",):
            continue
        if not words[subject.end - 1].endswith("s"):
            continue  # one calf, one quad: a nerve
        clause = {words[i] for i, c in enumerate(clause_of) if c == span.clause}
        rolling = any("roll" in s.tags and s.clause == span.clause for s in spans)
        if NUMB_TRIGGERS & clause or rolling:
            continue  # "my legs go dead when I sit on the loo"
        level = lexicon.single.get("dead", {}).get("sev")
        spans[index] = _Span(span.start, span.end, {"sev": level} if level else {}, span.clause)


ANSWER_WORDS = frozenset({"nope", "nah", "none", "no"})


def _opens_clause(spans: list[_Span], index: int, words: list[str]) -> bool:
    """An answer on its own ("nope", "none") right after a question about a symptom."""
    negator = spans[index]
    first = index == 0 or spans[index - 1].clause != negator.clause
    return first and negator.end - negator.start == 1 and words[negator.start] in ANSWER_WORDS


def _apply_negation(spans: list[_Span], words: list[str]) -> None:
    for index, span in enumerate(spans):
        if "neg" in span.tags:
            _negate_forward(spans, index, words)
        if _opens_clause(spans, index, words):  # "numb? no."
            for earlier in spans[:index]:
                if earlier.clause == span.clause - 1 and "flag" in earlier.tags:
                    earlier.negated = True
        if "after_neg" in span.tags:
            _negate_backward(spans, index, words)


# Words after which a denial is about something else: "my shoe doesn't fit over the swelling".
DENIAL_ENDS = frozenset({"fit", "fits", "over", "until", "because", "when", "while", "if"})


def _bridged(words: list[str], start: int, end: int) -> bool:
    """Nothing between a negator and a symptom turns the denial onto something else."""
    return not DENIAL_ENDS & set(words[start:end])


def _negate_forward(spans: list[_Span], index: int, words: list[str]) -> None:
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
            if not _bridged(words, reach_end, target.start):
                return  # "my shoe doesn't fit over the swelling": the denial is of 'fit'
            target.negated = denied_symptom = True
            reach_end = target.end  # "any pop or snap": the denial runs on along the list
        elif "sev" in target.tags:
            if denied_symptom:
                reach_end = target.end  # "no shooting pains down the leg"
            else:
                target.negated = True


def _negate_backward(spans: list[_Span], index: int, words: list[str]) -> None:
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


@dataclass(slots=True)
class _Severity:
    position: int
    value: int
    numeric: bool
    clause: int
    before_area: bool = False  # a modifier right before an area ("sore left calf")
    recovery: bool = False  # said as a state: "feel fine", "now ok" (not "bear weight fine")
    current: bool = False  # "now a 4": newer than a number said before it
    denied: bool = False  # "isn't sore": a negated word, which a later clause may correct


def _soreness(
    spans: list[_Span],
    tokens: _Tokens,
    clause_of: list[int],
    lexicon: Lexicon,
    unrated: set[str],
) -> dict[str, int]:
    areas = [s for s in spans if ("area" in s.tags) and "not_area" not in s.tags]
    if not areas:
        return {}
    default = lexicon.library.language.default_severity
    minute_words = lexicon.minute_words
    done_rolling = "rolled" in tokens.words and not any(
        "flag" in s.tags and not s.negated for s in spans
    )
    severities = _severities(spans, tokens, clause_of, areas, minute_words)
    found: dict[str, int] = {}
    by_clause: dict[int, list[_Severity]] = {}
    for said in severities:
        by_clause.setdefault(said.clause, []).append(said)
    area_clauses = {s.clause for s in areas}
    area_starts = {s.start for s in areas}
    flag_clauses = {s.clause for s in spans if "flag" in s.tags and not s.negated}
    chosen: list[tuple[_Span, _Severity | None]] = [
        (
            area,
            _severity_for(
                area, by_clause.get(area.clause, []), area_starts, area.clause not in flag_clauses
            ),
        )
        for area in areas
    ]
    values: list[int | None] = []
    for area, severity in chosen:
        if severity is not None:
            value: int | None = severity.value
        elif area.clause in flag_clauses:
            # the place of a symptom borrows only what follows ("landed on my shoulder,
            # really sore now"), not soreness said about something before it
            after = _next_clause_with_severity(area.clause, 1, by_clause, area_clauses)
            value = _strongest(by_clause[after]) if after is not None else None
        else:
            value = _from_neighbour(area.clause, by_clause, area_clauses)
        refined = _refinement(area.clause, by_clause, area_clauses, severity)
        values.append(refined if refined is not None else value)
    _share_along_lists(areas, values, by_clause, flag_clauses)
    for area, value in zip(areas, values, strict=True):
        if value is None and done_rolling:
            continue  # "I rolled my calves this morning" reports rolling, not soreness
        for area_id in _area_ids(area):
            if value is None and area_id in found:
                continue  # "shins 7/10 ... just shin splints": the rated mention stands
            found[area_id] = default if value is None else value
            if value is None:
                unrated.add(area_id)
            else:
                unrated.discard(area_id)
    return found


def _share_along_lists(
    areas: list[_Span],
    values: list[int | None],
    by_clause: dict[int, list[_Severity]],
    flag_clauses: set[int],
) -> None:
    """ "Glutes, hip flexors and quads all stiff": commas split the list into clauses, but
    the words at its end are about every area in it. The place of a symptom is no list
    item ("pinched nerve in my neck, traps tight")."""
    for index in range(len(areas) - 2, -1, -1):
        area, following = areas[index], areas[index + 1]
        if (
            values[index] is None
            and area.clause not in by_clause
            and (following.clause == area.clause + 1)
            and area.clause not in flag_clauses
        ):
            values[index] = values[index + 1]


def _area_ids(span: _Span) -> tuple[str, ...]:
    value = _tag_value(span, "area")
    return value if isinstance(value, tuple) else ()


def _severity_for(
    area: _Span, severities: list[_Severity], area_starts: set[int], look_back: bool = True
) -> _Severity | None:
    """The severity said about this area: right before it, else what follows it up to the next
    area (a number if one is given, otherwise the strongest word), else what came before.
    Without `look_back`, the place of a symptom takes nothing said after an earlier area
    ("hamstrings tight and my foot keeps going dead": the foot is not tight)."""
    for severity in severities:
        if severity.before_area and severity.position == area.start:
            return severity
    after = [s for s in severities if s.position >= area.end and not s.before_area]
    if after:
        # "calves and quads very sore": the words after a list of areas are about all of
        # them, up to the next area that comes after those words.
        boundary = min((a for a in area_starts if a > after[0].position), default=1 << 30)
        return _most_telling([s for s in after if s.position < boundary])
    previous_area = max((start for start in area_starts if start < area.start), default=-1)
    if not look_back and previous_area >= 0:
        return None
    before = [s for s in severities if previous_area < s.position < area.start]
    return _most_telling(before) if before else None


def _most_telling(severities: list[_Severity]) -> _Severity:
    numeric = [s for s in severities if s.numeric]
    current = [s for s in numeric if s.current]
    if current:
        return current[-1]  # "from a 7 down to a 4": the latest
    if numeric:
        return numeric[0]
    return max(severities, key=lambda s: s.value)


def _from_neighbour(
    clause: int, by_clause: dict[int, list[_Severity]], area_clauses: set[int]
) -> int | None:
    """An area said with no severity borrows one from an adjacent clause naming no area: a
    number after it first ("my lower back, which is a 6"), else the words before it."""
    before = _next_clause_with_severity(clause, -1, by_clause, area_clauses)
    after = _next_clause_with_severity(clause, 1, by_clause, area_clauses)
    if after is not None:
        numbers = [s for s in _later_area_free(after, by_clause, area_clauses) if s.numeric]
        if numbers:  # "tightened up over the session, maybe a 5"
            return _most_telling(numbers).value
    for other in (before, after):
        if other is not None:
            return _strongest(by_clause[other])
    return None


def _next_clause_with_severity(
    clause: int, step: int, by_clause: dict[int, list[_Severity]], area_clauses: set[int]
) -> int | None:
    """The nearest clause in one direction that says a severity, unless an area comes first."""
    other = clause + step
    for _ in range(3):
        if other in area_clauses or other < 0:
            return None
        if other in by_clause:
            return other
        other += step
    return None


def _refinement(
    clause: int,
    by_clause: dict[int, list[_Severity]],
    area_clauses: set[int],
    own: _Severity | None,
) -> int | None:
    """Following clauses with no area refine the last one: "tight, like a 4", "really
    stiff", "yesterday was a 4, today a 6", "isn't sore exactly, more like stiff"."""
    following = _next_clause_with_severity(clause, 1, by_clause, area_clauses)
    if own is None or following is None:
        return None
    later = _later_area_free(following, by_clause, area_clauses)
    current = [s for s in later if s.numeric and s.current]
    if current:
        return current[-1].value  # the newest number said about it
    numeric = [s for s in by_clause[following] if s.numeric]
    if numeric and not own.numeric:
        return numeric[0].value
    positive = [s.value for s in by_clause[following] if s.value > 0]
    if (own.denied or own.recovery) and own.value == 0 and positive:
        return max(positive)  # "calves aren't just tight, they're absolutely destroyed"
    if not own.numeric and all(s.value == 0 and s.recovery for s in by_clause[following]):
        return 0  # "quads were sore yesterday but feel fine today"
    strongest = _strongest(by_clause[following])
    if not own.numeric and strongest is not None and strongest > own.value and own.value > 0:
        return strongest
    return None


def _later_area_free(
    first: int, by_clause: dict[int, list[_Severity]], area_clauses: set[int]
) -> list[_Severity]:
    """Severities of `first` and the area-free clauses after it, up to the next area."""
    found: list[_Severity] = []
    clause = first
    while clause not in area_clauses and clause <= max(by_clause, default=first):
        found += by_clause.get(clause, [])
        clause += 1
    return found


def _strongest(severities: list[_Severity]) -> int | None:
    numeric = [s.value for s in severities if s.numeric]
    if numeric:
        return numeric[0]
    return max((s.value for s in severities), default=None)


def _severities(
    spans: list[_Span],
    tokens: _Tokens,
    clause_of: list[int],
    areas: list[_Span],
    minute_words: frozenset[str],
) -> list[_Severity]:
    """Severity words (with their modifiers) and numbers, in message order."""
    area_starts = {a.start for a in areas}
    result = _word_severities(spans, area_starts, tokens.words)
    result += _number_severities(tokens, clause_of, areas, minute_words)
    result.sort(key=lambda s: s.position)
    return result


def _word_severities(
    spans: list[_Span], area_starts: set[int], words: list[str]
) -> list[_Severity]:
    result: list[_Severity] = []
    modifier: tuple[str, int, _Span] | None = None  # ("int", level) or ("soft", 3)
    last_end = -1
    for span in spans:
        follows_severity = bool(result) and span.start == last_end and result[-1].value >= 3
        if follows_severity and "post_int" in span.tags:
            result[-1].value = max(result[-1].value, 7)  # "hurts a lot"
            continue
        if follows_severity and "soft" in span.tags:
            result[-1].value = 3  # "sore a little bit"
            continue
        if ("int" in span.tags) or ("soft" in span.tags):
            kind = "int" if ("int" in span.tags) else "soft"
            level = _tag_value(span, "int") if kind == "int" else 3
            modifier = (kind, int(level) if isinstance(level, int) else 3, span)
            if "sev" not in span.tags:
                continue
        if "sev" not in span.tags:
            if modifier and modifier[0] == "soft" and modifier[2].end <= span.start:
                result.append(_modifier_alone(modifier[2], area_starts))
            modifier = modifier if ("area" in span.tags) else None
            continue
        base = _tag_value(span, "sev")
        value = base if isinstance(base, int) else 5
        start = span.start
        if modifier and modifier[2] is not span and span.start - modifier[2].end <= 1:
            value = _modified(value, modifier[0], modifier[1])
            start = modifier[2].start
        modifier = None
        if span.negated:
            value = 3 if start != span.start and value > 3 else 0
        said = _Severity(start, value, False, span.clause, span.end in area_starts)
        said.denied = span.negated
        said.recovery = (
            value == 0
            and (
                span.negated
                or (
                    "after_neg" in span.tags and "neg" in span.tags
                )  # "but not anymore", "no longer"
                or (start > 0 and words[start - 1] in STATE_VERBS)
                or words[span.end : span.end + 1] in (["now"], ["again"], ["today"])
            )
        )
        result.append(said)
        last_end = span.end
    if modifier and modifier[0] == "soft":
        result.append(_modifier_alone(modifier[2], area_starts))
    return result


def _modifier_alone(span: _Span, area_starts: set[int]) -> _Severity:
    return _Severity(span.start, 3, False, span.clause, span.end in area_starts)


def _modified(value: int, kind: str, level: int) -> int:
    if value == 0:
        return 0
    if kind == "soft":
        return min(value, 3) if value >= 3 else value
    return max(value, level) if value >= 3 else value


def _number_severities(
    tokens: _Tokens, clause_at: list[int], areas: list[_Span], minute_words: frozenset[str]
) -> list[_Severity]:
    words = tokens.words
    area_ends = {a.end for a in areas}
    result: list[_Severity] = []
    for index, value in tokens.numbers.items():
        word = words[index]
        if word in (MIN_TOKEN, TIME_TOKEN):
            continue
        nxt = words[index + 1] if index + 1 < len(words) else ""
        if word == SEV_TOKEN or _out_of_ten(words, tokens.numbers, index):
            said = _Severity(index, value, True, clause_at[index])
            said.current = _said_now(words, clause_at, index)
            result.append(said)
            continue
        if value > 10 or nxt in NON_SEVERITY_UNITS or nxt in minute_words:
            continue
        prev = words[index - 1] if index else ""
        down_to = prev == "to" and index > 1 and words[index - 2] in NOW_WORDS
        after_area = index in area_ends or (prev == BREAK_TOKEN and index - 1 in area_ends)
        if (prev in NUMBER_PREFIXES and prev != "at") or after_area or down_to:
            said = _Severity(index, value, True, clause_at[index])
            said.current = _said_now(words, clause_at, index)
            result.append(said)
    return result


def _said_now(words: list[str], clause_at: list[int], index: int) -> bool:
    """A number said as the latest: "down to a 4", or in a clause that says "now",
    "today" or "after" ("7/10 after"): newer than a number said before it."""
    if index > 1 and "to" in words[index - 2 : index]:
        return True
    clause = clause_at[index]
    start = end = index
    while start > 0 and clause_at[start - 1] == clause:
        start -= 1
    while end + 1 < len(words) and clause_at[end + 1] == clause:
        end += 1
    return bool(NOW_WORDS & set(words[start : end + 1]))


def _out_of_ten(words: list[str], numbers: dict[int, int], index: int) -> bool:
    if numbers[index] > 10:
        return False
    if words[index + 1 : index + 3] == ["out", "of"]:
        return numbers.get(index + 3) == 10
    return words[index + 1 : index + 2] in (["outta"], ["of"]) and numbers.get(index + 2) == 10


def _minutes(
    tokens: _Tokens, command: str | None, units: frozenset[str], said: set[str]
) -> tuple[int | None, int, int]:
    """The minutes said, and where: (value, first token, token after the unit)."""
    words = tokens.words
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
    return _spoken_minutes(tokens, units)


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


def _spoken_minutes(tokens: _Tokens, units: frozenset[str]) -> tuple[int | None, int, int]:
    words = tokens.words
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
            if 0 < count <= 3 and _budget(words, index, index + 2) != NO_BUDGET:
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


# --- a time budget ------------------------------------------------------------------------
# "I have 7 min before leg day", "got 15 mins", "half an hour before my run": the time
# someone has is a request for a routine. "ran for 30 min", "10 min late", "a 60 min
# massage" and "hurt 10 min into my run" say how long something took, not time to roll.

NO_BUDGET, WEAK_BUDGET, STRONG_BUDGET = 0, 1, 2
BUDGET_HAVE = frozenset({"have", "got", "get", "with", "i've"})  # "got 15 mins"
BUDGET_ONLY = frozenset({"only", "just", "barely"})  # "only 5 minutes today"
AMOUNT_SKIP = frozenset(
    {"a", "an", "like", "about", "around", "maybe", "roughly", "approx", "bout", "abt"}
    | BUDGET_ONLY
)
BUDGET_AFTER = frozenset({"free", "spare", "max", "tops"})  # "10 mins free", "5 min max"
BUDGET_UNTIL = frozenset({"before", "till", "until", "til"})  # "10 min before my run"
BUDGET_TO = (["to", "spare"], ["to", "kill"])  # "10 min to spare"
DURATION_AFTER = frozenset(
    {"into", "late", "later", "early", "ago", "away", "of", "long", "walk", "drive", "commute"}
    | {"in", "after", "from", "behind", "each", "per", "session", "sessions", "slot", "nap"}
)
OPENERS = frozenset({"ok", "okay", "so", "right", "hey", "hi", "um", "well", "alright", "yo"})
NOT_BUDGET_BEFORE = frozenset({"for", "to", "every", "each", "in", "after", "last", "first"})
PAST_WORDS = frozenset(
    {"did", "done", "ran", "rode", "swam", "lifted", "finished", "completed", "rolled", "was"}
    | {"were", "had", "took", "spent", "yesterday", "ago", "earlier", "lasted", "went"}
)
NOT_A_BUDGET = frozenset(
    {"reminder", "reminders", "remind", "nudge", "nudges", "notification", "snooze", "lead"}
)
BUDGET_FILLERS = NOW_WORDS | frozenset(
    {BREAK_TOKEN, "pls", "please", "plz", "ok", "so", "then", "tonight", "this", "morning"}
)


def _budget(words: list[str], start: int, end: int) -> int:
    """How clearly the amount at words[start:end] is time someone has: STRONG said with
    "have", "got", "only" or "free", "max"; WEAK when it opens a clause before a workout
    ("10 min before my run"); otherwise NO_BUDGET."""
    after_at = end + 1 if words[end : end + 1] == ["left"] else end  # "10 min left before"
    after = words[after_at] if after_at < len(words) else ""
    if after in DURATION_AFTER:
        return NO_BUDGET  # "10 min late", "10 min into my run", "10 min left in the race"
    before = _index_before(words, start)
    limited = not BUDGET_ONLY.isdisjoint(words[before + 1 : start])
    said_before = words[before] if before >= 0 else BREAK_TOKEN
    if said_before in OPENERS:
        said_before = BREAK_TOKEN  # "ok so 12 mins b4 my run"
    if said_before in PAST_WORDS or said_before in NOT_BUDGET_BEFORE:
        return NO_BUDGET  # "ran for 30 min", "move it to 20 minutes before"
    if said_before in BUDGET_HAVE:
        denied = before > 0 and (
            words[before - 1] in {"no", "not"} or words[before - 1][-3:] == "n't"
        )
        return NO_BUDGET if denied else STRONG_BUDGET  # "don't have 20 min today"
    if limited or after in BUDGET_AFTER or words[after_at : after_at + 2] in BUDGET_TO:
        return STRONG_BUDGET
    if said_before == BREAK_TOKEN and after in BUDGET_UNTIL:
        return WEAK_BUDGET
    return NO_BUDGET


def _index_before(words: list[str], start: int) -> int:
    """Where the word before an amount is, past "about", "like", "only" and the like."""
    before = start - 1
    while before >= 0 and words[before] in AMOUNT_SKIP:
        before -= 1
    return before


def _time_budget(
    spans: list[_Span],
    words: list[str],
    clause_of: list[int],
    amount: tuple[int, int],
    workout: str | None,
) -> int:
    """A time budget said in this message, and how clearly (see `_budget`). Also WEAK: a
    workout due "in 20 min", or a message that is only the amount ("15 mins", "leg day,
    15 min"). Never one in a clause that talks of the past, or next to reminder settings."""
    start, end = amount
    if not NOT_A_BUDGET.isdisjoint(words):
        return NO_BUDGET
    clause = clause_of[start]
    if any(clause_of[i] == clause and words[i] in PAST_WORDS for i in range(len(words))):
        return NO_BUDGET  # "had 10 min before my run so I rolled my calves"
    if any(s.start == end and ({"workout", "massage"} & s.tags.keys()) for s in spans):
        return NO_BUDGET  # "a 10 min run", "a 60 min massage"
    budget = _budget(words, start, end)
    if not budget:
        before = _index_before(words, start)
        if workout is not None and before >= 0 and words[before] == "in":
            budget = WEAK_BUDGET  # "leg day in 20 min", "spin in like 20 mins"
        else:
            budget = _amount_alone(spans, words, start, end)
    if budget == WEAK_BUDGET and any(
        s.clause == clause and not s.negated and ("flag" in s.tags or _sore_word(s)) for s in spans
    ):
        return NO_BUDGET  # "10 min before my run my calf started hurting"
    return budget


def _sore_word(span: _Span) -> bool:
    level = span.tags.get("sev")
    return isinstance(level, int) and level >= 3  # "ok so 10 min before my run" reports none


def _amount_alone(spans: list[_Span], words: list[str], start: int, end: int) -> int:
    """WEAK when the message says nothing but the amount, a workout ahead and areas
    ("15 mins", "leg day, 15 min", "10 min, calves pls")."""
    covered = set(range(start, end))
    for span in spans:
        if "workout" in span.tags:
            if span.end == start:
                return NO_BUDGET  # "easy run 30 min" reports a workout
            covered.update(range(span.start, span.end))
        elif "area" in span.tags:
            covered.update(range(span.start, span.end))
    rest = (w for i, w in enumerate(words) if i not in covered and w not in AMOUNT_SKIP)
    return WEAK_BUDGET if all(w in BUDGET_FILLERS for w in rest) else NO_BUDGET


def _workout(spans: list[_Span], words: list[str]) -> str | None:
    """The workout the message is about: one ahead, not one already done ("after my run")."""
    mentions = [s for s in spans if "workout" in s.tags]
    if not mentions:
        return None
    if "rest" in words and any(words[i : i + 2] == ["rest", "day"] for i in range(len(words) - 1)):
        return None  # "it's a rest day"
    upcoming = [
        s
        for s in mentions
        if not (WORKOUT_CONTEXT_PAST | {"was", "were"}) & set(words[max(0, s.start - 3) : s.start])
        and not WORKOUT_PAST_AFTER & set(words[s.end : s.end + 2])
        and not WORKOUT_CALLED_OFF & set(words[s.end : s.end + 3])
        and not any(
            o.start in (s.end, s.end + 1) and "sev" in o.tags and o.clause == s.clause
            for o in spans
        )
        and not _negated_before(words, s.start, reach=2)
    ]
    ahead = [
        s
        for s in upcoming
        if {"before", "for", "ahead"} & set(words[max(0, s.start - 2) : s.start])
    ]
    if ahead:
        return str(ahead[0].tags["workout"])  # "... what should I roll before a recovery ride?"
    # "swollen after running" names the cause of a symptom; "roll after a bike ride" a plan
    chosen = [s for s in upcoming if not _cause_of_symptom(spans, words, s)]
    value = _tag_value(chosen[0], "workout") if chosen else None
    return value if isinstance(value, str) else None


def _cause_of_symptom(spans: list[_Span], words: list[str], mention: _Span) -> bool:
    if "after" not in words[max(0, mention.start - 2) : mention.start]:
        return False
    return any(
        ("sev" in s.tags or "flag" in s.tags) and s.clause == mention.clause
        for s in spans
        if s.end <= mention.start
    )


def _intent(
    command: str | None,
    spans: list[_Span],
    *,
    words: list[str],
    said: set[str],
    soreness: dict[str, int],
    red_flag: bool,
    has_slots: bool,
    lexicon: Lexicon,
    budget: int = 0,
) -> str:
    if command is not None:
        return {"roll": "which_area", "sore": "soreness", "massage": "massage"}.get(
            command, "other"
        )
    if (
        _asks_what_to_roll(spans, words)
        and META_QUESTION.isdisjoint(said)
        and not _asks_how_much(words)
    ):
        return "which_area"
    if _reports_massage(spans, words, bool(soreness), lexicon):
        return "massage"
    first_word = words[0] if words else ""
    if budget and not red_flag and first_word not in YES_NO_STARTS:
        return "which_area"  # "I have 7 min before leg day", "got 15 mins"
    if _wants_a_routine(spans, said, has_slots, first_word) and not soreness:
        return "which_area"  # "quick routine before spin, 5 min", "rolling before my run"
    if soreness or red_flag:
        return "soreness"
    if any("massage" in s.tags for s in spans):
        return "other"  # about massage, but neither one had nor one booked
    if words and words[0] in QUESTION_STARTS:
        return "other"  # "is it ok to roll a sore muscle?" asks for advice, reports nothing
    if any(("sev" in s.tags) and not s.negated for s in spans) and not REVIEW_WORDS & said:
        return "soreness" if _mentions_soreness(spans) else "other"
    return "other"


# "Is there any evidence foam rolling works?" asks about rolling, not what to roll.
META_QUESTION = frozenset(
    {"evidence", "research", "study", "studies", "science", "scientific", "proven", "myth"}
    | {"benefits", "why", "difference", "versus", "vs", "compare", "comparison"}
)
ROLLING_DONE = frozenset(
    {"did", "done", "finished", "rolled", "was", "had", "just", "lasted", "spent"}
)
ASKING = frozenset({"give", "pls", "please", "need", "want", "me", "send", "show"})


START_WORDS = frozenset({"begin", "start", "focus", "first"})
YES_NO_STARTS = frozenset({"do", "does", "is", "are", "can", "should", "will", "would", "could"})


def _asks_how_much(words: list[str]) -> bool:
    """ "how long should I roll?", "how often": questions about rolling, not what to roll."""
    return any(
        words[i] == "how" and words[i + 1] in {"long", "often", "much", "many"}
        for i in range(len(words) - 1)
    )


SETTINGS_WORDS = frozenset({"reminder", "reminders", "remind", "nudge", "nudges", "notification"})


def _wants_a_routine(spans: list[_Span], words: set[str], has_slots: bool, first: str = "") -> bool:
    """Rolling or a routine for a time or workout ahead, asked without a question word."""
    if first in YES_NO_STARTS or not ROLLING_DONE.isdisjoint(words):
        return False
    if not SETTINGS_WORDS.isdisjoint(words):
        return False
    rolling = any(("roll" in s.tags) for s in spans)
    routine = any(("routine" in s.tags) for s in spans)
    starting = "where" in words and bool(START_WORDS & words)  # "where should I begin?"
    return (has_slots and (rolling or routine or starting)) or (routine and bool(ASKING & words))


def _mentions_soreness(spans: Iterable[_Span]) -> bool:
    for span in spans:
        value = _tag_value(span, "sev")
        if isinstance(value, int) and value >= 3 and not span.negated:
            return True
    return False


def _asks_what_to_roll(spans: list[_Span], words: list[str]) -> bool:
    """A question (what/which/where/how/any...) about rolling, or about which areas.

    "roller" alone is equipment talk ("which foam roller should I buy?") unless the message
    also asks about areas or says what to do on it ("where do I begin with the roller?").
    """
    kinds = {kind for span in spans for kind in span.tags}
    if "cue" not in kinds:
        # "should I roll my calves?", "quick q: is it ok to roll my quads?"
        return "area" in kinds and any(
            "roll" in s.tags and words[s.end - 1] != "roller" and _yes_no_before(words, s.start)
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


ROLL_QUESTION_STARTS = frozenset({"should", "can", "is", "do", "does"})


def _yes_no_before(words: list[str], start: int) -> bool:
    """A yes/no question word opening the clause shortly before `start`."""
    for index in range(max(0, start - 5), start):
        opens = index == 0 or words[index - 1] == BREAK_TOKEN
        asks = words[index + 1 : index + 2] in (["it"], ["i"])  # "is it ok to", "should I"
        if (opens or asks) and words[index] in ROLL_QUESTION_STARTS:
            return True
    return False


def _wh_before_target(spans: list[_Span]) -> bool:
    cue_seen = False
    for span in spans:
        if "cue" in span.tags:
            cue_seen = True
        elif ("target" in span.tags) and cue_seen:
            return True
    return False


MASSAGE_CALLED_OFF = frozenset({"cancelled", "canceled", "cancel", "cadence"})
MASSAGE_ASKING = frozenset({"is", "are", "should", "does", "worth"})


def _negated_before(words: list[str], start: int, reach: int = 4) -> bool:
    before = words[max(0, start - reach) : start]
    return any(w in {"no", "not", "never", "without"} or w.endswith("n't") for w in before)


def _reports_massage(spans: list[_Span], words: list[str], sore: bool, lexicon: Lexicon) -> bool:
    """A massage had or booked. "Still sore after my massage" is a soreness report instead,
    and "I need a massage" is a wish, not a report."""
    mentions = [s for s in spans if ("massage" in s.tags)]
    if not mentions:
        return False
    if words and words[0] in QUESTION_STARTS:
        return False
    if any(lexicon.massage_wishes & set(words[max(0, s.start - 6) : s.start]) for s in mentions):
        return False
    if any(MASSAGE_ASKING & set(words[max(0, s.start - 4) : s.start]) for s in mentions):
        return False  # "is a $120 massage normal?"
    forgot = any(words[i : i + 3] == ["forgot", "to", "book"] for i in range(len(words)))
    if any(_negated_before(words, s.start) for s in mentions) or MASSAGE_CALLED_OFF & set(words):
        return False  # "I haven't had a massage in ages", "my massage got cancelled"
    if forgot:
        return False  # "forgot to book my massage again"
    if not sore:
        return True
    context: set[str] = set()
    for span in mentions:
        context |= set(words[max(0, span.start - 3) : span.start])
    return not lexicon.massage_context & context

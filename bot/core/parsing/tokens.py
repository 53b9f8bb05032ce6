"""The one tokenizer: how free text becomes words, numbers and punctuation.

Every reader of what people type splits it the same way, so a phrase in the content library
and the same words in a message always come out as the same tokens. The message parser and
the schedule reader (`bot.core.timeplan`) both start here; what a token *means* (a severity,
a clock time, a filler to drop) is each reader's own next stage.

`normalise` lower-cases and cuts the text, folds curly quotes, splits hyphenated words
("pain-free" is "pain free"; the schedule reader keeps hyphens, which make ranges such as
"mon-fri"), expands "b4" and glues what belongs to a number ("6 pm" is "6pm", "6 / 10" is
"6/10"). `split` then cuts the text into raw tokens with one regular expression;
`split_runs` does the same but keeps words and numbers written together as one run ("f1",
"3x10"), which the schedule reader needs.

The parser's own reading (`tokenize`) turns raw tokens into canonical ones: numbers become
typed tokens ("#sev" for "6/10", "#time" for "6:30pm", "#min" for "10min", "#num"), and
punctuation becomes a clause break. Words are classified by the caller (the `Lexicon`), which
knows the vocabulary; results are cached per raw token, which keeps parsing fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_TEXT = 10_000  # longer messages are cut: nobody reports soreness in a novel

# Token classes: what a number or a piece of punctuation stands for in the parser's words.
SEV_TOKEN, TIME_TOKEN, NUM_TOKEN, MIN_TOKEN, BREAK_TOKEN = "#sev", "#time", "#num", "#min", ","

Piece = tuple[str, int | None]  # a token and, for numbers, its value; ("", None) is dropped

# Words with apostrophes; numbers with what is glued to them ("6:30pm", "6/10", "14th", "5k")
# or dates ("2026-03-14": only the schedule reader sees these, the parser splits hyphens
# first); commands ("/roll"); single punctuation marks. Words come first: most tokens are.
_TOKEN_RE = re.compile(
    r"[a-z]+(?:'[a-z]+)*'?"
    r"|\d+(?:-\d{1,2}-\d{1,2}(?!\d)|(?:[.,]\d+)?(?:[:/]\d+)?[a-z]*)"
    r"|/[a-z]+"
    r"|[^\w\s']"
)
_NUMBER_RE = re.compile(
    r"(?P<sev>\d{1,2}(?:\.\d)?)/10"
    r"|(?P<time>\d{1,2}[:.]\d{2}(?:am|pm)?|\d{1,2}(?:am|pm))"
    r"|(?P<min>\d{1,3})(?:mins?|m)"
    r"|(?P<num>\d{1,6})"
)
_GLUE_RE = re.compile(r"(?<=\d)\s+(?=(?:am|pm)\b|/\s*10\b)|(?<=/)\s+(?=10\b)")
_DIGIT_RE = re.compile(r"\d")
_HYPHEN_RE = re.compile(r"(?<=[a-z0-9])-(?=[a-z0-9])")
_B4_RE = re.compile(r"\bb4\b")
_SILENT_MARKS = "&+':=$£€"
_GLUE_GAP_RE = re.compile(r"[\w']+")  # between two tokens of one run (see `split_runs`)


@dataclass(slots=True)
class Tokens:
    """A message as canonical words, and the values of its number tokens."""

    words: list[str]
    numbers: dict[int, int]  # index of a #num/#sev/#min token -> its value


def normalise(
    text: str, limit: int = MAX_TEXT, *, keep_hyphens: bool = False, glue: bool = True
) -> str:
    """Lower-cased text, cut at `limit`, ready for `split` (see the module docstring).

    The schedule reader keeps hyphens and glues "am"/"pm" by its own rule (`glue=False`)."""
    text = text[:limit].lower()
    if not text.isascii():
        text = text.replace("’", "'").replace("‘", "'")
    if "_" in text:
        text = text.replace("_", " ")
    if not keep_hyphens and "-" in text:
        text = _HYPHEN_RE.sub(" ", text)
    if "b4" in text:
        text = _B4_RE.sub("before", text)  # texting shorthand; the split would cut it
    return _GLUE_RE.sub("", text) if glue and _DIGIT_RE.search(text) else text


def split(normalised: str) -> list[str]:
    """The raw tokens of normalised text: numbers, words, commands, punctuation marks."""
    return _TOKEN_RE.findall(normalised)


def split_runs(normalised: str) -> list[str]:
    """Raw tokens as `split` gives them, except that words and numbers written together
    (or joined by an apostrophe or a letter the split skips, "café9") stay one run: "f1",
    "m4", "3x10", "mon6pm", "18h30". The schedule reader must not find a day and an hour in
    "F1 race sunday 9am"."""
    runs: list[str] = []
    start = end = -1  # where the last run starts and ends
    glued = False  # the last run ends in a word or a number
    for match in _TOKEN_RE.finditer(normalised):
        raw = match.group()
        if (
            glued
            and raw[0].isalnum()
            and (match.start() == end or _GLUE_GAP_RE.fullmatch(normalised, end, match.start()))
        ):
            runs[-1] = normalised[start : match.end()]
        else:
            runs.append(raw)
            start = match.start()
        glued = raw[-1].isalnum()
        end = match.end()
    return runs


def classify_number(raw: str) -> Piece:
    """What a raw token that starts with a digit is to the parser: a typed number token,
    or a word of its own ("14th", "5k" (a run), "3x10", "2.5")."""
    if raw.endswith("ish") and raw[:-3].isdigit():
        raw = raw[:-3]
    match = _NUMBER_RE.fullmatch(raw)
    if match is None:
        return (raw, None)
    kind = match.lastgroup
    if kind == "sev":
        return (SEV_TOKEN, min(10, round(float(match.group("sev")))))
    if kind == "time":
        return (TIME_TOKEN, None)
    if kind == "min":
        return (MIN_TOKEN, int(match.group("min")))
    return (NUM_TOKEN, int(match.group("num")))


def classify_mark(raw: str) -> Piece:
    """A punctuation mark: most end a clause; a few join words ("calves & quads", "£60")."""
    return ("", None) if raw in _SILENT_MARKS else (BREAK_TOKEN, None)


def tokenize(
    text: str, classify_token: Callable[[str], Piece], cache: dict[str, Piece] | None = None
) -> Tokens:
    """Split a message into canonical tokens; numbers and times become typed tokens.

    `classify_token` reads one raw token (usually `Lexicon.token`); `cache` holds readings
    already made, keyed by raw token.
    """
    known = cache if cache is not None else {}
    raws = _TOKEN_RE.findall(normalise(text))
    pieces = [known.get(raw) or classify_token(raw) for raw in raws]
    kept = [piece for piece in pieces if piece[0]]
    words = [word for word, _ in kept]
    numbers = {i: value for i, (_, value) in enumerate(kept) if value is not None}
    return Tokens(words, numbers)

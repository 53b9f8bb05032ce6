"""The dialog layer: the questions the bot asked, and reading a typed message as an answer.

A chat is not a form. Whatever the bot asks (save this schedule? which time zone? delete
everything? how sore?), a typed answer works as well as a tap: a yes/no word, the button's
own label, a number, a zone name. And a message that is clearly something else (soreness,
a roll question, a massage, a warning sign, a command) is answered as that while the
question stays open, asked again in one line.

- `Question` is a pending question: what was asked (`kind`), the answer it expects
  (`expects`, one of `EXPECTS`), its buttons, a template that turns a typed value into
  button data ("sv:12:{}" for a severity), and an expiry. One is pending per user, kept in
  `user.dialog["question"]`, so it survives restarts.
- `ask` stores the question a reply asks; `pending` reads it back (expired ones are gone).
- `chosen_button` is the one place a typed message is matched to a button: the pending
  question's, then the last buttons shown (`remember_offer`). `typed_value` reads numbers,
  zones and areas. The coach decides the order (`Coach._typed_answer`): a typed message is
  matched against the question before it falls through to normal intent handling.

Everything here is plain data in, plain data out: typed answers become the same button
data a tap sends, so a typed "yes" and a tap on Save run the same handler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.core.parsing import parse_message
from bot.core.replies import Button, Reply
from bot.core.timeplan import parse_timezone
from bot.core.turn import Turn

EXPECTS = ("yes_no", "choice", "number", "timezone", "schedule", "soreness", "area", "massage_date")
"""What kind of typed answer a question takes (beyond its buttons' labels and roles)."""

LIFETIME = {
    "timezone": timedelta(days=7),  # onboarding steps wait for the user to come back
    "schedule": timedelta(days=7),
    "confirm_schedule": timedelta(days=1),
    "guided": timedelta(hours=2),
}
DEFAULT_LIFETIME = timedelta(hours=1)
OFFER_LIFETIME = timedelta(hours=12)
UNDO_LIFETIME = timedelta(minutes=30)
"""How long a typed "undo" still reaches the latest Undo button after other replies."""
MAX_REASKS = 2  # after this many side remarks, the question waits quietly until it expires
MAX_MISSES = 1  # a second message in a row that answers nothing closes the question
MAX_ANSWER_WORDS = 6  # a longer message is a message of its own, not an answer
ROLE_FALLBACKS = {
    "yes": ("yes",),
    "no": ("no", "skip", "later"),
    "skip": ("skip", "later", "no"),
    "later": ("later", "skip", "no"),
    "undo": ("undo",),
}
_NOT_WORD = re.compile(r"[^\w\s'/:]+")
_NUMBER = re.compile(r"(?<![\w.:/-])-?\d+(?![\w:])")
_OUT_OF_TEN = re.compile(r"(\d+)\s*(?:/|out of)\s*10\b")


@dataclass(frozen=True, slots=True)
class Question:
    """A question waiting for its answer (see the module docstring)."""

    kind: str
    expects: str
    prompt: str
    expires_at: datetime
    choices: tuple[Button, ...] = ()
    answer: str = ""  # button data for a typed value, "{}" marks the value
    low: int = 0
    high: int = 10
    reask: bool = True
    reasked: int = 0  # asked again after side remarks
    missed: int = 0  # messages in a row that answered nothing

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "expects": self.expects,
            "prompt": self.prompt,
            "expires_at": self.expires_at.isoformat(),
            "choices": [[b.label, b.data, b.role] for b in self.choices],
            "answer": self.answer,
            "low": self.low,
            "high": self.high,
            "reask": self.reask,
            "reasked": self.reasked,
            "missed": self.missed,
        }

    @classmethod
    def from_json(cls, data: object) -> Question | None:
        """The stored question, or None for anything malformed (never an error)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                kind=str(data["kind"]),
                expects=str(data["expects"]),
                prompt=str(data["prompt"]),
                expires_at=datetime.fromisoformat(str(data["expires_at"])),
                choices=tuple(Button(str(b[0]), str(b[1]), b[2]) for b in data["choices"]),
                answer=str(data.get("answer", "")),
                low=int(data.get("low", 0)),
                high=int(data.get("high", 10)),
                reask=bool(data.get("reask", True)),
                reasked=int(data.get("reasked", 0)),
                missed=int(data.get("missed", 0)),
            )
        except (KeyError, TypeError, ValueError, IndexError):
            return None

    def owns(self, data: str) -> bool:
        """Whether a button press answers this question."""
        if any(button.data == data for button in self.choices):
            return True
        prefix = self.answer.partition("{")[0]
        return bool(prefix) and data.startswith(prefix)


@dataclass(frozen=True, slots=True)
class Offer:
    """The buttons last shown to the user, so that typing a label taps it."""

    at: datetime
    choices: tuple[Button, ...] = field(default=())


# --- asking and remembering ---------------------------------------------------------------


def ask(
    turn: Turn,
    reply: Reply,
    kind: str,
    *,
    expects: str = "yes_no",
    answer: str = "",
    low: int = 0,
    high: int = 10,
    reask: bool = True,
    prompt: str | None = None,
) -> Reply:
    """Make `reply` the pending question (its buttons are the choices); returns `reply`.

    The one-line `prompt` used to ask again defaults to messages.yaml `ask_<kind>`.
    """
    if expects not in EXPECTS:
        raise ValueError(f"unknown answer type {expects!r}")
    question = Question(
        kind=kind,
        expects=expects,
        prompt=prompt or turn.say(f"ask_{kind}"),
        expires_at=turn.now + LIFETIME.get(kind, DEFAULT_LIFETIME),
        choices=tuple(reply.all_buttons),
        answer=answer,
        low=low,
        high=high,
        reask=reask,
    )
    turn.user.dialog["question"] = question.to_json()
    return reply


def pending(turn: Turn) -> Question | None:
    """The question waiting for an answer; an expired or unreadable one is dropped."""
    question = Question.from_json(turn.user.dialog.get("question"))
    if question is None or question.expires_at <= turn.now:
        turn.user.dialog.pop("question", None)
        return None
    return question


def close(turn: Turn) -> None:
    turn.user.dialog.pop("question", None)


def asked_again(turn: Turn, question: Question, *, missed: bool = False) -> None:
    """Count a repeat of the question (after a side remark, or a message that answered
    nothing), so that it is not repeated forever."""
    counts = {"missed": question.missed + 1} if missed else {"reasked": question.reasked + 1}
    turn.user.dialog["question"] = {**question.to_json(), **counts}


def remember_offer(turn: Turn, replies: list[Reply]) -> None:
    """Keep the buttons of this turn's replies: typed labels tap them later. A turn with no
    buttons clears them ("yes" after "Done!" answers nothing)."""
    shown = [button for reply in replies for button in reply.all_buttons]
    undo = next((button for button in shown if button.answers("undo")), None)
    if undo is not None:
        turn.user.dialog["undo"] = {"at": turn.now.isoformat(), "data": undo.data}
    if not shown:
        turn.user.dialog.pop("offer", None)
        return
    turn.user.dialog["offer"] = {
        "at": turn.now.isoformat(),
        "choices": [[b.label, b.data, b.role] for b in shown],
    }


def latest_undo(turn: Turn) -> str | None:
    """The data of the latest Undo button shown, once, within `UNDO_LIFETIME`: "undo" typed
    after a red-flag reply or a question still undoes the report or massage before them."""
    stored = turn.user.dialog.pop("undo", None)
    if not isinstance(stored, dict):
        return None
    try:
        at = datetime.fromisoformat(str(stored["at"]))
    except (KeyError, ValueError):
        return None
    fresh = timedelta(0) <= turn.now - at <= UNDO_LIFETIME
    return (str(stored.get("data", "")) or None) if fresh else None


def used_undo(turn: Turn, data: str) -> None:
    """An Undo tapped (or typed) is used up: a later "undo" does not repeat it."""
    stored = turn.user.dialog.get("undo")
    if isinstance(stored, dict) and stored.get("data") == data:
        turn.user.dialog.pop("undo", None)


def offer(turn: Turn) -> Offer | None:
    stored = turn.user.dialog.get("offer")
    if not isinstance(stored, dict):
        return None
    try:
        at = datetime.fromisoformat(str(stored["at"]))
        choices = tuple(Button(str(b[0]), str(b[1]), b[2]) for b in stored["choices"])
    except (KeyError, TypeError, ValueError, IndexError):
        turn.user.dialog.pop("offer", None)
        return None
    if turn.now - at > OFFER_LIFETIME:
        turn.user.dialog.pop("offer", None)
        return None
    return Offer(at, choices)


# --- reading typed answers ------------------------------------------------------------------


def plain(text: str) -> str:
    """Lower case, emoji and punctuation gone: "✅ Save!" -> "save"."""
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def role_of(turn: Turn, text: str) -> str | None:
    """The answer role ("yes", "no", "later", "skip") a short message is, if it is one.

    The message must be the answer, give or take "please" and punctuation ("sure", "ok do
    it"), or start with one and go on harmlessly ("nah keep it", "yes delete it all").
    "sure, my calves are sore though" is a soreness report, and "yes tue 7pm" a new time.
    """
    lowered = plain(text)
    if not lowered or len(lowered.split()) > MAX_ANSWER_WORDS:
        return _symbol_role(turn, text)
    language = turn.library.language
    said = " ".join(w for w in lowered.split() if w not in language.answer_fillers) or lowered
    for role, phrases in language.answers.items():
        if said in phrases:
            return role
    lead = _leading_answer(turn, said)
    if lead is None:
        return _symbol_role(turn, text)
    role, rest = lead
    if any(ch.isdigit() for ch in rest) or (rest and "?" in text):
        return None  # "wait, what gets deleted?" asks; it does not answer
    parsed = parse_message(rest, turn.library)
    harmless = parsed.intent == "other" and not parsed.red_flag and not parsed.soreness
    return role if harmless else None


def _leading_answer(turn: Turn, said: str) -> tuple[str, str] | None:
    """The longest answer phrase the message starts with, and the rest of it."""
    best: tuple[str, str] | None = None
    for role, phrases in turn.library.language.answers.items():
        for phrase in phrases:
            if said.startswith(phrase + " ") and (best is None or len(phrase) > len(best[1])):
                best = (role, phrase)
    return None if best is None else (best[0], said[len(best[1]) :].strip())


def _symbol_role(turn: Turn, text: str) -> str | None:
    """ "👍" and friends, which `plain` strips."""
    symbols = text.strip()
    for role, phrases in turn.library.language.answers.items():
        if symbols in phrases:
            return role
    return None


def chosen_button(turn: Turn, choices: tuple[Button, ...], text: str) -> Button | None:
    """The button a typed message means: its label, or a yes/no/later/skip word."""
    by_label = _by_label(choices, plain(text))
    if by_label is not None:
        return by_label
    role = role_of(turn, text)
    if role is None:
        return None
    for wanted in ROLE_FALLBACKS[role]:
        for button in choices:
            if button.answers(wanted):
                return button
    return None


def _by_label(choices: tuple[Button, ...], typed: str) -> Button | None:
    """A label typed whole, or its first words when no other button starts the same way.

    Labels without a letter ("✖ 1", a severity "6") are never matched here: a typed number
    is a value, read by `typed_value`, never a position.
    """
    if not typed:
        return None
    labelled = [(plain(b.label), b) for b in choices]
    labelled = [(label, b) for label, b in labelled if any(ch.isalpha() for ch in label)]
    for label, button in labelled:
        if typed == label or typed == label.removeprefix("yes "):
            return button
    starts = [b for label, b in labelled if f"{label} ".startswith(f"{typed} ")]
    return starts[0] if len(starts) == 1 else None


def typed_value(turn: Turn, question: Question, text: str) -> str | None:
    """Button data for a typed number, time zone or area, by what the question expects."""
    if question.expects == "number":
        value = number_in(turn, text, question.low, question.high)
        return None if value is None else question.answer.format(value)
    if question.expects == "timezone":
        fillers = turn.library.language.answer_fillers
        said = " ".join(w for w in text.split() if plain(w) not in fillers)  # "berlin pls"
        zone = parse_timezone(said or text)
        return None if zone is None else question.answer.format(zone)
    if question.expects == "area":
        areas = [a for a in parse_message(text, turn.library).soreness if a in turn.library.areas]
        return question.answer.format(areas[0]) if len(areas) == 1 else None
    return None


def number_in(turn: Turn, text: str, low: int, high: int) -> int | None:
    """The one number a short message gives ("6", "6/10", "a six", "maybe 4"), in range."""
    lowered = text.lower()
    if len(lowered) > 60:
        return None
    rated = _OUT_OF_TEN.findall(lowered)
    found = [int(n) for n in rated] if rated else [int(n) for n in _NUMBER.findall(lowered)]
    if not found:
        words = turn.library.language.number_words
        found = [words[w] for w in plain(lowered).split() if w in words]
    if len(set(found)) != 1:
        return None
    value = found[0]
    return value if low <= value <= high else None


def reask(turn: Turn, question: Question, lead: str = "") -> Reply:
    """The question again in one line (after `lead`, e.g. "I didn't get that."), with its
    buttons one tap away."""
    text = f"{lead} {question.prompt}".strip()
    rows = tuple(tuple(question.choices[i : i + 3]) for i in range(0, len(question.choices), 3))
    turn.repeated_question = True
    return Reply(text=text, buttons=rows)

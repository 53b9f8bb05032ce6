"""Questions about rolling and massage themselves get answers, not routines.

"Is foam rolling better than massage?" and "should I roll my lower back?" are questions
about the tools, and a routine in reply would dodge them. The answers live in
bot/content/faq.yaml, each grounded in the coaching facts and ending in one useful button.
`match` is deliberately strict (a question, and a phrase from every group of an entry), so
"what should I roll before my run?" still gets its routine.
"""

from __future__ import annotations

import re

from bot.core.content import Faq, Library
from bot.core.replies import Button, Reply
from bot.core.turn import Turn, buttons

MAX_QUESTION = 300  # a long message is a story, not a quick question


def match(turn: Turn, text: str) -> Faq | None:
    """The entry a question asks about, or None (also for statements and long messages)."""
    lowered = " ".join(text.lower().replace("’", "'").split())
    if len(lowered) > MAX_QUESTION:
        return None
    padded = f" {_words_only(lowered)} "
    if any(f" {phrase} " in padded for phrase in turn.library.not_faq):
        return None
    asked = _is_question(turn.library, lowered)
    for entry, groups in _compiled(turn.library):
        wanted = groups if asked else groups[:1] if entry.statements else ()
        if wanted and all(any(phrase in padded for phrase in group) for group in wanted):
            return entry
    return None


def answer(turn: Turn, entry: Faq) -> Reply:
    turn.outcome = "faq"
    text = entry.answer
    if entry.about_reminders and turn.user.paused:  # "I will" is not true while paused
        text = turn.say("faq_while_paused") + "\n" + text
    return Reply(
        text=text,
        buttons=buttons([Button(entry.button_label, entry.button_data, role="yes")]),
    )


def answer_by_id(turn: Turn, faq_id: str) -> Reply:
    """A `q:<id>` button: the answer again (e.g. from /help)."""
    for entry in turn.library.faqs:
        if entry.id == faq_id:
            return answer(turn, entry)
    return Reply(text=turn.say("button_expired"))


LEADING_WORDS = frozenset({"and", "so", "ok", "okay", "also", "but", "hey", "btw", "oh", "hmm"})


def _is_question(library: Library, lowered: str) -> bool:
    if "?" in lowered:
        return True
    words = _words_only(lowered).split()
    while words and words[0] in LEADING_WORDS:
        words = words[1:]
    first_words = words[:2]
    return any(" ".join(first_words[:n]) in library.question_starts for n in (1, 2) if first_words)


def _words_only(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text))


_Compiled = tuple[tuple[Faq, tuple[tuple[str, ...], ...]], ...]
_COMPILED: dict[int, tuple[Library, _Compiled]] = {}


def _compiled(library: Library) -> _Compiled:
    """Each entry with its phrases padded for whole-word matching, once per library."""
    cached = _COMPILED.get(id(library))
    if cached is not None and cached[0] is library:
        return cached[1]
    compiled = tuple(
        (entry, tuple(tuple(f" {_words_only(p)} " for p in group) for group in entry.match))
        for entry in library.faqs
    )
    _COMPILED[id(library)] = (library, compiled)
    return compiled

"""10,000 generated messages and button presses through the coach on a real SQLite file:
no crash, every message answered, nothing confirmed lost.

The messages are built from what breaks chat bots: 10,000-character texts, control and
zero-width characters, markup, lone surrogates, right-to-left text, emoji, and the bot's own
vocabulary shuffled; the presses are forged, truncated and replayed buttons. A seeded
random generator keeps it fast (a few seconds) and repeatable.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.coach import Coach
from bot.core.replies import Reply
from bot.core.turn import Sender
from bot.storage import Storage
from tests.conversation import FakeClock

MESSAGES = 7_000
PRESSES = 3_000
WORDS = [
    *[
        "calves",
        "quads",
        "hamstrings",
        "back",
        "lower",
        "upper",
        "glutes",
        "hips",
        "legs",
        "neck",
        "sore",
        "tight",
    ],
    *[
        "killing",
        "me",
        "wrecked",
        "6/10",
        "a",
        "bit",
        "not",
        "no",
        "yes",
        "ok",
        "skip",
        "snooze",
        "cancel",
        "massage",
        "had",
    ],
    *[
        "booked",
        "yesterday",
        "last",
        "week",
        "roll",
        "what",
        "should",
        "I",
        "before",
        "run",
        "leg",
        "day",
        "min",
        "minutes",
    ],
    *[
        "10",
        "500",
        "-3",
        "numb",
        "tingling",
        "pop",
        "fell",
        "Mon",
        "Wed",
        "Fri",
        "18:00",
        "weekdays",
        "7am",
        "tomorrow",
    ],
    *[
        "6:30pm",
        "Berlin",
        "UTC+5",
        "Narnia",
        "pause",
        "resume",
        "quiet",
        "after",
        "10pm",
        "remind",
        "me",
        "45",
    ],
    *[
        "before",
        "actually",
        "I",
        "meant",
        "make",
        "that",
        "4/10",
        "is",
        "foam",
        "rolling",
        "better",
    ],
]
ODD = [
    "\x00",
    "\x07",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u202e",
    "\ud800",
    "\udfff",
    "🦵",
    "🔥",
    "<b>",
    "</i>",
    "*bold*",
    "`code`",
    "[link](http://x)",
    "&amp;",
    "\r\n",
    "\t",
    "ﷺ",
    "𝕓𝕒𝕔𝕜",
]
COMMANDS = [
    "/start",
    "/help",
    "/roll",
    "/sore",
    "/schedule",
    "/massage",
    "/history",
    "/settings",
    "/pause",
    "/resume",
    "/export",
    "/forget",
    "/x",
    "/roll@other_bot",
]
PREFIXES = [
    "sv",
    "wa",
    "u",
    "r",
    "g",
    "ge",
    "m",
    "mu",
    "f",
    "o",
    "tz",
    "sc",
    "st",
    "p",
    "h",
    "q",
    "ra",
    "ms",
    "ns",
    "nz",
    "nk",
    "zz",
    "",
]


def message(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.02:
        return rng.choice(WORDS) * rng.randint(1000, 2500)  # ~10k characters
    if kind < 0.12:
        return rng.choice(COMMANDS) + " " + " ".join(rng.choices(WORDS + ODD, k=rng.randint(0, 6)))
    parts = rng.choices(WORDS, k=rng.randint(1, 12))
    for _ in range(rng.randint(0, 3)):
        parts.insert(rng.randint(0, len(parts)), rng.choice(ODD))
    return " ".join(parts)


def press(rng: random.Random, seen: list[str]) -> str:
    if seen and rng.random() < 0.5:
        data = rng.choice(seen)  # a replayed button, maybe long after
        return data[: rng.randint(0, len(data))] if rng.random() < 0.2 else data
    args = ":".join(str(rng.choice([rng.randint(-5, 10**6), "x", "", "yes"])) for _ in range(2))
    return f"{rng.choice(PREFIXES)}:{args}"[:64]


@pytest.fixture
def coach(tmp_path: Path) -> Coach:
    store = Storage(tmp_path / "bot.sqlite3")
    return Coach(store, clock=FakeClock(), default_tz="Europe/Berlin")


def answered(replies: list[Reply]) -> bool:
    return bool(replies) and all(reply.text.strip() for reply in replies)


def test_ten_thousand_bad_inputs_crash_nothing_and_get_answers(coach: Coach) -> None:
    rng = random.Random(20261203)
    clock = coach.clock
    assert isinstance(clock, FakeClock)
    users = [Sender("fuzz", str(n), chat_id=str(n)) for n in range(20)]
    seen: list[str] = []
    outcomes: Counter[str] = Counter()
    unanswered = 0
    for n in range(MESSAGES + PRESSES):
        sender = rng.choice(users)
        if n % 10 < 7:
            outcome = coach.respond(sender, message(rng))
        else:
            outcome = coach.press(sender, press(rng, seen))
        outcomes[outcome.handled_as] += 1
        unanswered += not answered(outcome.replies)
        seen += [b.data for reply in outcome.replies for b in reply.all_buttons][:5]
        seen = seen[-200:]
        clock.advance(seconds=rng.randint(1, 600))
    assert outcomes["error"] == 0, outcomes
    assert unanswered == 0


def test_confirmed_soreness_survives_the_storm(coach: Coach) -> None:
    rng = random.Random(7)
    keeper = Sender("fuzz", "keeper", chat_id="keeper")
    coach.respond(keeper, "hamstrings 6/10")
    for _ in range(500):  # everything but saying yes to /forget
        coach.respond(keeper, " ".join(rng.choices([*ODD, "/forget", "no", "/roll 500"], k=3)))
    store = coach.store
    user = coach.user(keeper)
    reports = store.soreness_since(user.id, coach.clock() - timedelta(days=30))
    assert ("hamstrings", 6) in [(r.area, r.severity) for r in reports]

"""Commands as structured input: a name and typed options, whatever the platform.

Telegram and the terminal type "/roll 10 run"; a Discord slash command arrives as /roll
with `minutes=10` and `workout=run`. Both reach `Coach.handle_command` as a `Command`, so
typed options are never turned back into a string to be parsed again. `OPTIONS` declares
each command's options once: the text reader below uses it, and so can an adapter that
registers slash commands.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

OptionValue = str | int

_INTEGER = re.compile(r"(?<![\w.])-?\d+")


@dataclass(frozen=True, slots=True)
class Option:
    """One typed option of a command. `kind` is "int", "text" or "choice"."""

    name: str
    kind: str
    description: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Command:
    """A command as the coach takes it: `/roll 10 run` is roll with minutes 10, workout run."""

    name: str
    options: Mapping[str, OptionValue] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The free-text option ("" when there is none)."""
        value = self.options.get("text", "")
        return value.strip() if isinstance(value, str) else str(value)

    def integer(self, name: str) -> int | None:
        value = self.options.get(name)
        return value if isinstance(value, int) else None

    def choice(self, name: str) -> str | None:
        value = self.options.get(name)
        return value if isinstance(value, str) and value else None


TEXT = Option("text", "text", "In your own words")
OPTIONS: dict[str, tuple[Option, ...]] = {
    "roll": (
        Option("minutes", "int", "How many minutes you have (5-20)"),
        Option(
            "workout",
            "choice",
            "What you're about to do",
            ("run", "cycle", "swim", "lower_body", "upper_body", "full_body"),
        ),
        TEXT,
    ),
    "sore": (Option("text", "text", 'What is sore, e.g. "calves 6/10"'),),
    "schedule": (Option("text", "text", 'e.g. "add Mon Wed Fri 18:00" or "remove 2"'),),
    "massage": (Option("text", "text", 'e.g. "log", "had one yesterday"'),),
    "settings": (Option("text", "text", 'e.g. "lead 45", "quiet 22:00-07:00", "tz Berlin"'),),
}
"""Typed options by command; commands not listed take none."""


def from_text(text: str) -> Command:
    """ "/roll@coach_bot 10 run" -> Command("roll", {"minutes": 10, "text": "10 run"})."""
    name, _, rest = text.removeprefix("/").partition(" ")
    name = name.split("@", 1)[0].lower()
    rest = rest.strip()
    options: dict[str, OptionValue] = {"text": rest} if rest else {}
    if name == "roll":
        number = _INTEGER.search(rest)
        if number is not None:
            options["minutes"] = int(number[0])
    return Command(name, options)

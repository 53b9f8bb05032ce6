"""One turn of a conversation: who is talking, when, and what the coach can reach.

Every handler in the core takes a `Turn` and returns replies. Keeping the store, content,
clock and user together means handlers stay small functions rather than methods on one
ever-growing class.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from bot.core.content import Library
from bot.core.ports import Store
from bot.core.records import User
from bot.core.replies import Button, Reply
from bot.core.timeplan import zone_or_utc


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a message, as the adapter knows them. `private` is a one-to-one chat."""

    platform: str
    user_id: str
    chat_id: str | None = None
    private: bool = True


@dataclass(slots=True)
class Turn:
    store: Store
    library: Library
    now: datetime
    user: User
    replies: list[Reply] = field(default_factory=list)  # sent before the turn's main reply
    forgotten: bool = False  # the user's rows are gone: nothing may be saved back
    outcome: str = "other"  # what the message was handled as (see `Outcome`), for logs and evals
    repeated_question: bool = False  # a pending question was asked again this turn
    schedule_changed: bool = False  # sessions were added or removed: nudges are re-planned
    answered_question: bool = False  # a typed message answered a question or tapped a label

    @property
    def zone(self) -> tzinfo:
        """The user's time zone; a broken stored value falls back to UTC rather than failing."""
        return zone_or_utc(self.user.tz)

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.zone)

    def say(self, key: str, **values: object) -> str:
        """A message template from bot/content/messages.yaml, filled in.

        A count takes its noun in the template: "{count:massage|massages}" says "1 massage"
        and "3 massages".
        """
        template = self.library.messages[key]
        if "|" not in template:
            return template.format(**values)
        return _PLURALS.format(template, **values)


class _Plurals(string.Formatter):
    def format_field(self, value: object, format_spec: str) -> str:
        if "|" in format_spec and isinstance(value, int):
            one, _, many = format_spec.partition("|")
            return f"{value} {one if value == 1 else many}"
        return str(super().format_field(value, format_spec))


_PLURALS = _Plurals()


def buttons(*rows: list[Button]) -> tuple[tuple[Button, ...], ...]:
    """Rows of buttons as the immutable shape `Reply` wants."""
    return tuple(tuple(row) for row in rows if row)

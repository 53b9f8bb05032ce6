"""Chat-shaped test doubles: a controllable clock and a conversation with the coach.

Core tests read like chats (in the spirit of Errbot's testbot):

    def test_soreness_is_confirmed(conversation):
        conversation.say("calves 7/10")
        assert "calves 7/10" in conversation.last_text
        conversation.tap("Undo")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.coach import Coach
from bot.core.replies import Button, Reply
from bot.core.turn import Sender


@dataclass
class FakeClock:
    """A clock that only moves when the test says so."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when


@dataclass
class Conversation:
    """One user talking to a coach; keeps the replies so tests can tap their buttons."""

    coach: Coach
    sender: Sender = field(default_factory=lambda: Sender("test", "1001", chat_id="1001"))
    replies: list[Reply] = field(default_factory=list)

    def say(self, text: str) -> list[Reply]:
        self.replies = self.coach.handle_message(self.sender, text)
        return self.replies

    def tap(self, label: str) -> list[Reply]:
        """Press the button whose label contains `label` in the latest replies."""
        button = self.button(label)
        self.replies = self.coach.handle_button(self.sender, button.data)
        return self.replies

    def press(self, data: str) -> list[Reply]:
        self.replies = self.coach.handle_button(self.sender, data)
        return self.replies

    def button(self, label: str) -> Button:
        for reply in reversed(self.replies):
            for button in reply.all_buttons:
                if label.lower() in button.label.lower():
                    return button
        labels = [b.label for r in self.replies for b in r.all_buttons]
        raise AssertionError(f"no button like {label!r}; buttons were {labels}")

    @property
    def last(self) -> Reply:
        return self.replies[-1]

    @property
    def last_text(self) -> str:
        return "\n".join(filter(None, [self.last.title, self.last.text]))

    @property
    def all_text(self) -> str:
        return "\n".join("\n".join(filter(None, [r.title, r.text])) for r in self.replies)

    @property
    def user(self):  # type: ignore[no-untyped-def]
        return self.coach.user(self.sender)

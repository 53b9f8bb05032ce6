"""The one interface every platform adapter implements.

The coach never talks to a platform; adapters do. Incoming messages go to
`Coach.handle_message` / `handle_button`; outgoing messages that nobody asked for
(nudges) go through `Messenger.send`, which the scheduler calls for any platform alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from bot.core.records import User
from bot.core.replies import Reply


class Delivery(Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # the user blocked the bot: stop nudging them
    RETRY_LATER = "retry_later"  # rate limited: wait `retry_after` seconds
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SendResult:
    delivery: Delivery
    retry_after: float = 0.0
    error: str = ""

    @property
    def sent(self) -> bool:
        return self.delivery is Delivery.SENT


class Messenger(Protocol):
    """Something that can push a reply to a user who did not just write to us."""

    platform: str

    async def send(self, user: User, reply: Reply) -> SendResult: ...

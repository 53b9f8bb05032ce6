"""What the coach says back: plain data that every adapter renders its own way.

The core never formats for a platform. A `Reply` is text (plain, never markup: adapters
escape it for their own parse mode), an optional bold `title`, rows of `Button`s, an
optional `Image` (a ready PNG) or `picture` (a chart or body map as data, drawn by the
adapters with `bot.pictures` off the event loop) and an optional file `Attachment`.
Button data is a string that comes back to `Coach.handle_button` when the user taps it;
platform limits (Telegram's 64 bytes, Discord's 5 rows) are the adapters' to meet
(bot/adapters/buttons.py), not the core's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.picture import Picture


@dataclass(frozen=True, slots=True)
class Button:
    """A tappable choice: `label` is shown, `data` comes back to the coach.

    `role` says which typed answer means this button ("yes", "no", "later", "skip", "undo"), so
    that "ok" works like tapping Save (see `bot.core.dialog`). A button may answer several,
    space-separated, the first its main one: a guided routine's Next is "yes skip", since
    "skip this one" there means the next area. Adapters may style by the main role.
    """

    label: str
    data: str
    role: str | None = None

    def answers(self, role: str) -> bool:
        """Whether typing an answer of `role` means this button."""
        return role in (self.role or "").split()

    @property
    def main_role(self) -> str | None:
        return (self.role or "").partition(" ")[0] or None


@dataclass(frozen=True, slots=True)
class Image:
    """A picture to show with the reply (PNG bytes), e.g. a soreness chart."""

    png: bytes
    filename: str = "chart.png"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to hand to the user, e.g. the JSON of /export."""

    filename: str
    data: bytes
    mime_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to the user. `private` asks adapters to keep it out of shared channels."""

    text: str
    title: str | None = None
    buttons: tuple[tuple[Button, ...], ...] = field(default=())
    image: Image | None = None
    attachment: Attachment | None = None
    private: bool = False
    picture: Picture | None = None  # to be drawn into `image` before it is sent

    @property
    def all_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]

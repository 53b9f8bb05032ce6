"""What the coach says back: plain data that every adapter renders its own way.

The core never formats for a platform. A `Reply` is text (plain, never markup: adapters
escape it for their own parse mode), an optional bold `title`, rows of `Button`s, an
optional `Image` and an optional file `Attachment`. Button data is a short string
(Telegram allows 64 bytes) that comes back to `Coach.handle_button` when the user taps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_BUTTON_DATA_BYTES = 64


@dataclass(frozen=True, slots=True)
class Button:
    """A tappable choice: `label` is shown, `data` comes back to the coach.

    `role` says which typed answer means this button ("yes", "no", "later", "skip"), so
    that "ok" works like tapping Save (see `bot.core.dialog`). Adapters ignore it.
    """

    label: str
    data: str
    role: str | None = None

    def __post_init__(self) -> None:
        if len(self.data.encode("utf-8")) > MAX_BUTTON_DATA_BYTES:
            raise ValueError(f"button data over {MAX_BUTTON_DATA_BYTES} bytes: {self.data!r}")


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

    @property
    def all_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]

"""Replies as Discord messages: embeds (title, text), buttons, attachments.

The core's `Reply` is plain text; here it becomes embeds with the markdown characters
escaped (a user's "*" stays a "*"). Text longer than an embed's 4,096 characters is split
at line ends into several embeds, and embeds are grouped into messages within Discord's
10 embeds and 6,000 characters a message. Buttons are fitted to Discord's 5 rows of 5
(`CAPABILITIES`, bot/adapters/buttons.py), data over 100 characters is mapped to a token,
and they ride on the last message together with the image (shown in the last embed) and
the file. `Outgoing` holds one message's parts; `send_kwargs` makes fresh `discord.File`s
for each attempt (a file object is read once).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import discord

from bot.adapters.buttons import ButtonTokens, fit_rows
from bot.adapters.discord.components import view_for
from bot.adapters.policy import split_text
from bot.core.ports import Capabilities
from bot.core.replies import Button, Reply

MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_EMBEDS = 10
MAX_EMBEDS_TEXT = 6000  # all embeds of one message together
CHOSEN = "→"  # marks the choice on a tapped message
EMPTY = "…"  # an embed needs something to show the buttons under
COLOUR = discord.Colour(0x2E8B57)

CAPABILITIES = Capabilities(
    max_rows=5,
    max_per_row=5,
    max_label=80,
    max_data=100,
    markup="markdown",
    images=True,
    files=True,
)
"""Discord's limits: 5 action rows of 5 buttons, labels ≤ 80, custom_id ≤ 100 characters."""


def escape(text: str) -> str:
    """Plain text for an embed: markdown characters shown as themselves."""
    return discord.utils.escape_markdown(text)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Discord message: embeds, and on the last message of a reply its buttons and
    files."""

    embeds: tuple[discord.Embed, ...]
    rows: tuple[tuple[Button, ...], ...] = ()
    files: tuple[tuple[str, bytes], ...] = ()  # (filename, data)

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `Messageable.send`, `followup.send` and
        `response.send_message`."""
        kwargs: dict[str, Any] = {"embeds": list(self.embeds)}
        view = view_for(self.rows)
        if view is not None:
            kwargs["view"] = view
        if self.files:
            kwargs["files"] = [
                discord.File(io.BytesIO(data), filename=name) for name, data in self.files
            ]
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `edit_original_response` (a deferred answer's first
        message): files go in as new attachments."""
        kwargs = self.send_kwargs()
        files = kwargs.pop("files", None)
        if files:
            kwargs["attachments"] = files
        return kwargs


def render_reply(reply: Reply, tokens: ButtonTokens | None = None) -> list[Outgoing]:
    """One reply as Discord messages (usually one)."""
    title = (
        reply.title[: MAX_TITLE - 1] + "…"
        if reply.title and len(reply.title) > MAX_TITLE
        else reply.title
    )
    pieces = split_text(reply.text, MAX_DESCRIPTION, escape) if reply.text.strip() else []
    rows = fit_rows(reply.buttons, CAPABILITIES)
    if tokens is not None:
        rows = tuple(
            tuple(Button(b.label, tokens.encode(b.data), b.role) for b in row) for row in rows
        )
    files: list[tuple[str, bytes]] = []
    if reply.image is not None:
        files.append((reply.image.filename, reply.image.png))
    if reply.attachment is not None:
        files.append((reply.attachment.filename, reply.attachment.data))
    if not pieces and (title or rows or reply.image is not None):
        pieces = [EMPTY if rows and not title else ""]
    embeds = [_embed(piece) for piece in pieces]
    if embeds and title:
        embeds[0].title = escape(title)[:MAX_TITLE]
    if embeds and reply.image is not None:
        embeds[-1].set_image(url=f"attachment://{reply.image.filename}")
    messages = _group(embeds)
    if not messages:
        return [Outgoing((), rows, tuple(files))] if files or rows else []
    last = messages[-1]
    return [Outgoing(tuple(m)) for m in messages[:-1]] + [Outgoing(tuple(last), rows, tuple(files))]


def _embed(description: str) -> discord.Embed:
    return discord.Embed(description=description or None, colour=COLOUR)


def _size(embed: discord.Embed) -> int:
    return len(embed.title or "") + len(embed.description or "")


def _group(embeds: list[discord.Embed]) -> list[list[discord.Embed]]:
    """Embeds into messages of at most 10 embeds and 6,000 characters."""
    messages: list[list[discord.Embed]] = []
    current: list[discord.Embed] = []
    size = 0
    for embed in embeds:
        if current and (len(current) == MAX_EMBEDS or size + _size(embed) > MAX_EMBEDS_TEXT):
            messages.append(current)
            current, size = [], 0
        current.append(embed)
        size += _size(embed)
    if current:
        messages.append(current)
    return messages


def tapped_label(message: discord.Message | None, custom_id: str) -> str | None:
    """The label of the button with this custom_id on `message`."""
    if message is None:
        return None
    for row in message.components:
        for child in getattr(row, "children", ()):
            if getattr(child, "custom_id", None) == custom_id:
                label = getattr(child, "label", None)
                return str(label) if label else None
    return None


def with_choice(message: discord.Message, label: str | None) -> list[discord.Embed]:
    """The tapped message's embeds with the choice written under the last one (when it
    fits), for the edit that also takes its buttons away."""
    embeds = [discord.Embed.from_dict(embed.to_dict()) for embed in message.embeds]
    if not embeds or label is None:
        return embeds
    last = embeds[-1]
    shown = f"{last.description or ''}\n\n{CHOSEN} {escape(label)}".strip()
    total = sum(_size(embed) for embed in embeds) - _size(last) + len(last.title or "") + len(shown)
    if len(shown) <= MAX_DESCRIPTION and total <= MAX_EMBEDS_TEXT:
        last.description = shown
    return embeds

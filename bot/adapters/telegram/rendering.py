"""Replies as Telegram messages: HTML text in message-sized pieces, inline keyboards.

The core's `Reply` is plain text with buttons; here it becomes `parse_mode=HTML` text (the
title in <b>, everything escaped), split within Telegram's 4096 characters, and buttons
fitted to Telegram's `CAPABILITIES` with long data mapped to tokens (bot/adapters/buttons.py).
Text replies go out as raw JSON through `send_text`: building PTB objects only to serialise
them again was most of the reply path's cost.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode

from bot.adapters.buttons import ButtonTokens, fit_rows
from bot.adapters.policy import split_text
from bot.core.ports import Capabilities
from bot.core.replies import Button, Reply

MAX_TEXT = 4096  # Bot API limit for a message
MAX_CAPTION = 1024  # Bot API limit for a photo/document caption
CHOSEN = "→"  # marks the choice on a tapped message

CAPABILITIES = Capabilities(
    max_rows=100, max_per_row=8, max_label=64, max_data=64, markup="html", images=True, files=True
)
"""Telegram's limits: 64 bytes of callback data, up to 100 buttons in rows of up to 8."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """A reply as Telegram messages: HTML text chunks, a keyboard, optional media."""

    chunks: tuple[str, ...]
    reply: Reply
    rows: tuple[tuple[Button, ...], ...] = ()  # the buttons within Telegram's limits

    @property
    def keyboard(self) -> InlineKeyboardMarkup | None:
        """The buttons as PTB objects (for media messages; text goes as plain JSON)."""
        if not self.rows:
            return None
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(button.label, callback_data=button.data) for button in row]
                for row in self.rows
            ]
        )


def escape(text: str) -> str:
    """Plain text for `parse_mode=HTML`: only &, < and > are special there."""
    return html.escape(text, quote=False)


def render_reply(reply: Reply, tokens: ButtonTokens | None = None) -> Rendered:
    """Escape the text for HTML, bold the title, split at Telegram's length limit; fit the
    buttons into Telegram's rows, their long data into tokens."""
    title = f"<b>{escape(reply.title)}</b>\n" if reply.title else ""
    chunks = split_html(reply.text, MAX_TEXT - len(title)) if reply.text else []
    if title:
        chunks = [title + (chunks[0] if chunks else ""), *chunks[1:]]
    rows = fit_rows(reply.buttons, CAPABILITIES)
    if tokens is not None:
        rows = tuple(tuple(Button(b.label, tokens.encode(b.data), b.role) for b in r) for r in rows)
    return Rendered(tuple(chunk for chunk in chunks if chunk.strip()), reply, rows)


def split_html(text: str, limit: int) -> list[str]:
    """`text` escaped for HTML in pieces of at most `limit` characters (see `split_text`)."""
    return split_text(text, limit, escape)


def keyboard_json(rows: tuple[tuple[Button, ...], ...]) -> dict[str, Any] | None:
    """The inline keyboard as Bot API JSON, straight from the fitted buttons."""
    if not rows:
        return None
    keyboard = [[{"text": b.label, "callback_data": b.data} for b in row] for row in rows]
    return {"inline_keyboard": keyboard}


async def send_text(
    bot: Any, chat_id: int | str, text: str, keyboard: dict[str, Any] | None
) -> int | None:
    """sendMessage without parsing Telegram's echo of the message we just sent.

    `Bot.send_message` turns the answer (our text and keyboard, echoed back) into PTB
    objects we never read, and builds keyboard objects only to serialise them again; on the
    reply path that cost more than the coach itself (bench/telegram_throughput.py).
    `Bot._post` is the request `send_message` makes, through the same rate limiter, retries
    and error mapping; tests/test_telegram_adapter.py pins its behaviour.
    """
    data: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML}
    if keyboard is not None:
        data["reply_markup"] = keyboard
    sent = await bot._post("sendMessage", data)
    message_id = sent.get("message_id") if isinstance(sent, dict) else None
    return message_id if isinstance(message_id, int) else None


def tapped_label(message: Message, data: str) -> str | None:
    """The label of the button with this data on the message's keyboard."""
    markup = message.reply_markup
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None

"""Messages: which ones are meant for the bot, and what the coach should read of them.

In a DM everything is. In a server only messages that mention the bot are, with the
mention taken out: the bot does not ask for the privileged message-content intent, and
without it Discord sends server messages that do not mention the bot with empty content
anyway. What the bot knows is per person, never per server, and personal replies leave
the server for a DM (`DiscordAdapter.answer_message`).
"""

from __future__ import annotations

import re

import discord


def text_for_coach(message: discord.Message, bot_id: int) -> str | None:
    """What the coach should read from `message`, or None when it is not for us."""
    if message.author.bot or message.author.id == bot_id:
        return None
    text = message.content or ""
    if message.guild is None:
        return text
    if bot_id not in message.raw_mentions:
        return None
    return without_mention(text, bot_id)


def without_mention(text: str, bot_id: int) -> str:
    """The text with `<@bot>` / `<@!bot>` removed and spaces tidied."""
    return " ".join(re.sub(rf"<@!?{bot_id}>", " ", text).split())

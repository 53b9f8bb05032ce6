"""Groups: what in a group chat is meant for the bot.

In groups the bot answers commands, messages that mention it and replies to its own
messages; everything else is chatter it leaves alone. What it knows is per person, never
per group, and personal replies go to the private chat (`TelegramAdapter.answer`).
"""

from __future__ import annotations

from telegram import Message, MessageEntity
from telegram.constants import ChatType


def text_for_coach(message: Message, bot_id: int, username: str) -> str | None:
    """What the coach should read from `message`, or None when it is not for us.

    Private chats: everything. Groups: commands (not those aimed at another bot), messages
    that mention us, and replies to our messages; the rest is people talking to each other.
    `/start` deep-link payloads and `@ourbot` command suffixes are dropped.
    """
    text = message.text or message.caption or ""
    private = message.chat.type == ChatType.PRIVATE
    if text.startswith("/"):
        command, _, argument = text.partition(" ")
        name, _, target = command.partition("@")
        if target and target.lower() != username.lower():
            return None  # "/roll@other_bot" in a group is for someone else
        if name.lower() == "/start":
            return "/start"  # a deep-link payload ("/start abc123") carries nothing for us
        return f"{name} {argument}".strip()
    if private:
        return text
    if _mentions_bot(message, bot_id, username):
        return _without_mention(text, username)
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return text
    return None


def _mentions_bot(message: Message, bot_id: int, username: str) -> bool:
    handle = f"@{username}".lower()
    entities = message.parse_entities() if message.text else message.parse_caption_entities()
    for entity, value in entities.items():
        if entity.type == MessageEntity.MENTION and value.lower() == handle:
            return True
        if (
            entity.type == MessageEntity.TEXT_MENTION
            and entity.user is not None
            and entity.user.id == bot_id
        ):
            return True
    return False


def _without_mention(text: str, username: str) -> str:
    handle = f"@{username}"
    lowered, out, start = text.lower(), [], 0
    while (found := lowered.find(handle.lower(), start)) != -1:
        out.append(text[start:found])
        start = found + len(handle)
    out.append(text[start:])
    return " ".join("".join(out).split())

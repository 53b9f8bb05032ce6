"""Discord: the coach over discord.py. See `adapter` for the whole picture."""

from bot.adapters.discord.adapter import PLATFORM, DiscordAdapter

__all__ = ["PLATFORM", "DiscordAdapter"]

"""Telegram: the coach over python-telegram-bot. See `adapter` for the whole picture."""

from bot.adapters.telegram.adapter import PLATFORM, TelegramAdapter, file_url_for

__all__ = ["PLATFORM", "TelegramAdapter", "file_url_for"]

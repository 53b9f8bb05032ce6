"""Understanding free-text messages: see `pipeline` for the stages."""

from bot.core.parsing.pipeline import (
    BREAK_TOKEN,
    INTENTS,
    Lexicon,
    Parsed,
    parse_message,
    parse_with,
    tokenize,
)

__all__ = ["BREAK_TOKEN", "INTENTS", "Lexicon", "Parsed", "parse_message", "parse_with", "tokenize"]

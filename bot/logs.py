"""Logs people and machines can read: one line per event, key=value or JSON.

`BOT_LOG_FORMAT=text` (the default) writes `time level logger: message key=value ...`;
`json` writes one JSON object per line for a log shipper. Values given with `extra=` on a
log call become fields. What never reaches a log: tokens (bot/adapters/policy.py scrubs
them from every record) and what users wrote (handlers log what a message was handled
as, never its text). HTTP clients stay at WARNING: their request lines carry tokens.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

NOISY = ("aiohttp", "httpx", "httpcore", "telegram", "discord.http", "apscheduler")
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "token_redacted",
}


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The `extra=` values a log call added."""
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


class KeyValueFormatter(logging.Formatter):
    """`2026-12-03 21:02:57 INFO bot.adapters.telegram: handled platform=telegram ...`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(f"{key}={_plain(value)}" for key, value in fields_of(record).items())
        if not extra:
            return line
        head, newline, rest = line.partition("\n")  # a traceback stays below the fields
        return f"{head} {extra}{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the extras, any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **fields_of(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


def _plain(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if (" " in text or "=" in text or not text) else text


def configure_logging(level: str, log_format: str = "text") -> None:
    """Our level for our loggers; HTTP client loggers stay at WARNING (their URLs hold tokens)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))

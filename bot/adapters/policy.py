"""What every adapter does the same way, in one place.

- **Secrets in logs.** `redact_token_in_logs` scrubs a platform token from every log record
  (Telegram puts the token in every request URL; PTB's own debug log and reprs carry it),
  and `quiet_http_loggers` keeps HTTP clients' request lines out of INFO.
- **Long text.** `split_text` cuts a message at line ends into pieces within a platform's
  length limit, after an optional `encode` (Telegram's HTML escaping grows text).
- **Words.** The private-reply fallback in groups and the error reply are message templates
  in bot/content/messages.yaml (`private_sent`, `private_open_chat`, `error`), like everything
  the bot says.
- **One log line per handled update** (`log_handled`): platform, what came in, what the
  coach took it for, latency and outcome; never what the user wrote.
- **Turns off the event loop when the database is a server** (`run_turn`): a coach entry
  point is called right there on a store that answers at once (SQLite, memory), and in a
  worker thread on one whose calls wait on a server (`store.blocking`: PostgreSQL).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, ParamSpec, Protocol, TypeVar

REDACTED = "[REDACTED]"
turns = logging.getLogger("bot.turns")

_P = ParamSpec("_P")
_T = TypeVar("_T")


class _HasStore(Protocol):
    @property
    def store(self) -> object: ...


async def run_turn(
    coach: _HasStore, entry: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
) -> _T:
    """`entry(*args)`, a coach entry point (`coach.respond`, `press`, `command`, `user`).

    On a store that answers at once (SQLite, memory) it runs right here, on the event loop:
    a turn is a fraction of a millisecond, and a thread hop would cost more. On a store whose
    calls wait on a server (`store.blocking`, PostgreSQL) it runs in a worker thread, so
    the event loop never waits on the database; the store keeps each thread's turn in a
    transaction of its own, and locks the user's row for it.
    """
    if getattr(coach.store, "blocking", False):
        return await asyncio.to_thread(entry, *args, **kwargs)
    return entry(*args, **kwargs)


def redact_token_in_logs(token: str) -> Callable[[], None]:
    """Scrub the token's secret from every log record created from now on; returns an undo.

    Why a record factory and not a handler filter: filters on a logger do not see records
    propagated from child loggers, and handlers added later (by tests, by an operator) would
    miss a handler filter. The factory sees every record at creation, whoever logs it.
    Redacted records get `token_redacted = True`, so tests can tell who needed scrubbing.
    """
    secret = token.split(":", 1)[1] if ":" in token else token
    if len(secret) < 4:  # a blank or toy token: nothing meaningful to match
        return lambda: None
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record, secret)
        return record

    logging.setLogRecordFactory(factory)

    def undo() -> None:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(previous)

    return undo


def _redact_record(record: logging.LogRecord, secret: str) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: leave it to logging's own error reporting
        return
    if secret in message:
        record.msg, record.args = message.replace(secret, REDACTED), None
        record.token_redacted = True
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        if secret in text:
            record.exc_text = text.replace(secret, REDACTED)
            record.exc_info = None  # the live exception still holds the secret
            record.token_redacted = True
    if record.stack_info and secret in record.stack_info:
        record.stack_info = record.stack_info.replace(secret, REDACTED)
        record.token_redacted = True


def quiet_http_loggers() -> None:
    """httpx logs every request URL at INFO, and Telegram URLs contain the token."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


def split_text(text: str, limit: int, encode: Callable[[str], str] = str) -> list[str]:
    """`text` (encoded) in pieces of at most `limit` characters, cut at line ends if possible.

    Encoding happens per piece, so a cut never lands inside something the encoding made
    (an HTML entity like `&amp;`). Encoding may grow a character up to 5x.
    """
    encoded = encode(text)
    if len(encoded) <= limit:
        return [encoded]
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        for part in _hard_split(line, limit, encode):
            if current and len(current) + len(part) > limit:
                pieces.append(current)
                current = ""
            current += part
    if current:
        pieces.append(current)
    return pieces


def _hard_split(line: str, limit: int, encode: Callable[[str], str]) -> list[str]:
    encoded = encode(line)
    if len(encoded) <= limit:
        return [encoded]
    step = max(limit // 5, 1)
    return [encode(line[i : i + step]) for i in range(0, len(line), step)]


def log_handled(platform: str, update: str, handled_as: str, started: float) -> None:
    """One INFO line per handled update: `handled platform=telegram update=message
    handled_as=soreness latency_ms=3.1 outcome=ok`. `started` is a `time.perf_counter()`."""
    if not turns.isEnabledFor(logging.INFO):
        return
    turns.info(
        "handled",
        extra={
            "platform": platform,
            "update": update,
            "handled_as": handled_as,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            "outcome": "error" if handled_as == "error" else "ok",
        },
    )

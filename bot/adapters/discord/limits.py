"""Discord's limits on the bot as a whole: invalid requests, and errors as deliveries.

429s are discord.py's: it reads the `X-RateLimit-*` headers, waits out a bucket before it
is exhausted and retries a 429 after its `retry_after` (up to 5 tries). It raises
`RateLimited` instead when the wait would exceed `MAX_RATE_LIMIT_WAIT` (30 s, its
minimum): a nudge then goes back to the outbox (`Delivery.RETRY_LATER`) rather than hold a
send slot.

Invalid requests are ours to bound. Cloudflare bans an IP that makes 10,000 requests
answered 401, 403 or 429 within 10 minutes. `InvalidRequests` counts every such answer
(discord.py's own retries included: it sees them through an aiohttp trace) and past
`INVALID_REQUEST_LIMIT` in the window the adapter sends no more nudges until the window
has room again, with one error in the log. A 403 on a DM (closed DMs, blocked bot) is
`Delivery.BLOCKED`: the scheduler marks the user unreachable and nudges them no more, so
one user is never asked again and again.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord

from bot.adapters.policy import REDACTED
from bot.core.ports import Delivery, SendResult

log = logging.getLogger(__name__)

MAX_RATE_LIMIT_WAIT = 30.0  # seconds; discord.py's smallest `max_ratelimit_timeout`
INVALID_STATUSES = frozenset({401, 403, 429})
INVALID_WINDOW = 600.0  # seconds: Cloudflare's 10 minutes
INVALID_REQUEST_LIMIT = 2_500  # a quarter of the 10,000 that gets the IP banned
RETRY_AFTER_429 = 5.0  # when a 429 says nothing of how long (Cloudflare's)


class InvalidRequests:
    """401/403/429 answers over the last `window` seconds, and whether to stop sending."""

    def __init__(
        self,
        limit: int = INVALID_REQUEST_LIMIT,
        window: float = INVALID_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._at: deque[float] = deque()
        self._warned = False

    def record(self, status: int, scope: str | None = None) -> None:
        """One answer; a 429 of a shared bucket does not count (Discord's rule)."""
        if status not in INVALID_STATUSES or (status == 429 and scope == "shared"):
            return
        self._at.append(self.clock())
        self._forget_old()

    @property
    def count(self) -> int:
        self._forget_old()
        return len(self._at)

    def retry_after(self) -> float:
        """0 while under the limit; else seconds until the window has room again."""
        self._forget_old()
        if len(self._at) < self.limit:
            self._warned = False
            return 0.0
        if not self._warned:
            self._warned = True
            log.error(
                "Discord: %d invalid requests (401/403/429) in %d minutes; nudges wait until "
                "fewer (Discord bans the IP at 10,000)",
                len(self._at),
                self.window // 60,
            )
        oldest = self._at[len(self._at) - self.limit]
        return max(0.1, oldest + self.window - self.clock())

    def _forget_old(self) -> None:
        horizon = self.clock() - self.window
        while self._at and self._at[0] < horizon:
            self._at.popleft()

    def trace_config(self) -> aiohttp.TraceConfig:
        """An aiohttp trace that records every answer discord.py's session gets."""
        trace = aiohttp.TraceConfig()

        async def on_request_end(
            session: aiohttp.ClientSession,
            context: SimpleNamespace,
            params: aiohttp.TraceRequestEndParams,
        ) -> None:
            response = params.response
            self.record(response.status, response.headers.get("X-RateLimit-Scope"))

        trace.on_request_end.append(on_request_end)
        return trace


def delivery_of(error: BaseException, token: str | None = None) -> SendResult:
    """What a failed send means for the outbox."""
    text = describe(error, token)
    if isinstance(error, discord.Forbidden):
        return SendResult(Delivery.BLOCKED, error=text)
    if isinstance(error, discord.RateLimited):
        return SendResult(Delivery.RETRY_LATER, retry_after=error.retry_after, error=text)
    if isinstance(error, discord.HTTPException) and error.status == 429:
        return SendResult(Delivery.RETRY_LATER, retry_after=_retry_after(error), error=text)
    return SendResult(Delivery.FAILED, error=text)


def _retry_after(error: discord.HTTPException) -> float:
    header: Any = getattr(error.response, "headers", {}).get("Retry-After")
    try:
        return max(float(header), 0.1)
    except (TypeError, ValueError):
        return RETRY_AFTER_429


def describe(error: BaseException, token: str | None = None) -> str:
    """'<type>: <message>' without the token (discord.py's messages never hold it; this is
    defence in depth, like the log redaction)."""
    text = f"{type(error).__name__}: {error}"
    return text.replace(token, REDACTED) if token else text

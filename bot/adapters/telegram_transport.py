"""The HTTP client python-telegram-bot talks to the Bot API through: aiohttp, not httpx.

PTB lets the transport be swapped (`ApplicationBuilder.request`): a `BaseRequest` only
turns one Bot API call into `(status, body)`; PTB keeps the error mapping (`RetryAfter`,
`Forbidden`, ...), the rate limiter and the parsing. We swap it because httpx's connection
pool was most of the bot's CPU per message: at a high nudge rate it checked every pooled
connection on every request (bench/nudge_fanout.py, profiled). aiohttp is already here, as
discord.py's HTTP client.

Requests without files go as a JSON body (the Bot API accepts `application/json`), which
skips the form encoding of every value; uploads go as `multipart/form-data`, as PTB's own
client sends them.

Errors keep PTB's meaning: `NetworkError` when nothing reached Telegram (no connection), so
a retry is safe; `TimedOut` when the outcome is unknown (no answer in time, or the
connection broke after the request went out), which is never retried.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
from typing import Any

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's HTTPXRequest defaults, in seconds (its 5 s write timeout for small bodies has no
# use here: see `_timeout`).
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0
JSON_HEADERS = {"Content-Type": "application/json"}
TOKEN_IN_URL = re.compile(r"/bot[^/\s]+/")


class AiohttpRequest(BaseRequest):
    """A keep-alive aiohttp session with at most `pool_size` connections to the Bot API."""

    def __init__(self, pool_size: int = 64, *, verify_tls: bool = True) -> None:
        self.pool_size = pool_size
        self.verify_tls = verify_tls
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return READ_TIMEOUT

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            tls = ssl.create_default_context(cafile=certifi.where()) if self.verify_tls else False
            connector = aiohttp.TCPConnector(limit=self.pool_size, ssl=tls)
            headers = {"User-Agent": self.USER_AGENT}
            self._session = aiohttp.ClientSession(connector=connector, headers=headers)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(  # noqa: PLR0917 - PTB's signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        has_files = request_data is not None and request_data.contains_files
        timeout = _timeout(
            read=_seconds(read_timeout, READ_TIMEOUT),
            write=_seconds(write_timeout, MEDIA_WRITE_TIMEOUT) if has_files else None,
            connect=_seconds(connect_timeout, CONNECT_TIMEOUT),
            # No default pool wait: each request holding a connection is bounded itself,
            # and the timer this needs per request cost ~5% of the nudge fan-out at 1000/s.
            pool=_seconds(pool_timeout, None),
        )
        kwargs: dict[str, Any] = {"timeout": timeout}
        if request_data is not None and has_files:
            kwargs["data"] = _multipart(request_data)
        elif request_data is not None:
            kwargs["data"] = json.dumps(request_data.parameters)
            kwargs["headers"] = JSON_HEADERS
        try:
            async with self._session.request(method, url, **kwargs) as response:
                return response.status, await response.read()
        # `from None` below: aiohttp's errors may carry the URL, and the URL the token.
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # No connection (refused, TLS failed, pool or connect timeout): nothing was sent.
            raise NetworkError(_describe(exc)) from None
        except TimeoutError:
            raise TimedOut from None
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
            # The connection broke after the request went out: Telegram may have carried it
            # out. TimedOut is PTB's "outcome unknown", which is never retried (a retry could
            # send a message twice).
            raise TimedOut(
                f"connection lost, the request may have been carried out ({_describe(exc)})"
            ) from None


def _timeout(
    *, read: float | None, write: float | None, connect: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """PTB's four timeouts in aiohttp's terms; aiohttp's `connect` covers waiting for a
    pooled connection and connecting, so it is set only when a pool wait is asked for.

    aiohttp has no write timeout, so an upload (`write` given) is bounded as a whole by the
    sum of the four: a server that stops reading must not hang it. Other requests are a few
    KB that the socket takes at once, and skip that extra timer (it costs at 1000 sends/s).
    """
    total = None
    if write is not None and read is not None and connect is not None:
        total = write + read + connect + (pool or 0.0)
    return aiohttp.ClientTimeout(
        total=total,
        connect=None if pool is None or connect is None else pool + connect,
        sock_connect=connect,
        sock_read=read,
    )


def _seconds(value: Any, default: float | None) -> float | None:
    """PTB passes `DEFAULT_NONE` for "your default", None for "no limit", or seconds."""
    if value is BaseRequest.DEFAULT_NONE:
        return default
    return None if value is None else float(value)


def _describe(error: BaseException) -> str:
    """'aiohttp.<error type>: <message>', without the token."""
    return f"aiohttp.{type(error).__name__}: {_redacted(str(error))}"


def _redacted(text: str) -> str:
    """The text without a Bot API token: URLs look like .../bot<token>/<method>."""
    return TOKEN_IN_URL.sub("/bot<token>/", text)


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)  # file names as written, like httpx
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime)
    return form

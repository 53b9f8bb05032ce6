"""The HTTP client python-telegram-bot talks to the Bot API through: aiohttp, with limits.

PTB lets the transport be swapped (`ApplicationBuilder.request`): a `BaseRequest` only
turns one Bot API call into `(status, body)`; PTB keeps the error mapping (`RetryAfter`,
`Forbidden`, ...), the rate limiter and the parsing.

Why aiohttp: a well-kept HTTP library the bot has anyway (discord.py's client). It
replaced a hand-written HTTP/1.1 client that looped forever on a negative chunk size,
buffered whatever a server pushed without bound, accepted what HTTP forbids (`0x55` as a
chunk size, `Content-Length: +8_5`) and ignored HTTPS_PROXY and SSL_CERT_FILE; measured
side by side at 1000 sends/s with 30,000 users, it had bought no throughput (issue 15),
though aiohttp costs ~0.1 ms more CPU per request (BENCHMARKS.md).
PTB's own httpx client is not used: it reports a protocol error after sending as
`NetworkError`, which the retrying rate limiter would resend, so a message could go out
twice.

What this adds to aiohttp:
- One deadline per request, started once it has a connection: the read timeout (uploads:
  the write and read timeouts together), so a trickling or endless answer ends there.
  Waiting for a pooled connection and connecting are bounded by the pool and connect
  timeouts before it.
- Answers over `MAX_ANSWER_BYTES` fail at once (a larger `Content-Length`) or as soon as
  the streamed body passes the cap, without buffering the rest.
- Proxies (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) are read from the environment once, when the
  client is built: aiohttp's `trust_env` re-reads them on every request (~0.5 ms).
- HTTPS is verified against SSL_CERT_FILE / SSL_CERT_DIR when set (read at construction),
  otherwise against certifi's bundle; `tls` replaces that context (a local Bot API server
  behind a private CA), `verify_tls=False` turns verification off.
- No redirects (a 3xx goes back to PTB, which raises it), cookies or compression: the Bot
  API uses none of them.
- An idle connection is reused only if nothing arrived on it since its last answer: a
  close the event loop has not processed yet would swallow the next request, and bytes
  pushed out of turn mean the connection is out of step.

Requests without files go as a JSON body (the Bot API accepts `application/json`); uploads
go as `multipart/form-data`.

Errors keep PTB's meaning: `NetworkError` when nothing reached Telegram (no connection, or
no free connection in time), so a retry is safe; `TimedOut` when the outcome is unknown (no
whole answer in time, a bad or oversized answer, or the connection broke after the request
went out), which is never retried. Error messages never carry the token, and the errors
are raised without aiohttp's exceptions attached (their URLs would carry it).
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import select
import ssl
import urllib.request
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ClientRequest, ConnectionKey
from aiohttp.connector import Connection
from aiohttp.tracing import Trace
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's HTTPXRequest defaults, in seconds, but for the pool: a busy connection frees up
# within one request's deadline, so a wait for one is only hopeless after that long (PTB's
# 1 s would fail sends whenever the pool is full for a second).
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
POOL_TIMEOUT = CONNECT_TIMEOUT + READ_TIMEOUT
MEDIA_WRITE_TIMEOUT = 20.0
KEEPALIVE_SECONDS = 15.0  # an idle connection older than this is not reused
MAX_ANSWER_BYTES = 16 * 2**20  # the Bot API's answers are kilobytes
TOKEN_IN_URL = re.compile(r"/bot[^/\s]+/")

# Failures before anything was sent: a retry is safe.
NOTHING_SENT = (
    aiohttp.ClientConnectorError,  # refused, unreachable, DNS, TLS handshake, proxy down
    aiohttp.ConnectionTimeoutError,  # no pooled connection, or no connection, in time
    aiohttp.ClientHttpProxyError,  # the proxy refused the tunnel
    aiohttp.InvalidURL,
)


class AnswerTooLargeError(Exception):
    """The answer is larger than `MAX_ANSWER_BYTES`."""


class BotApiRequest(BaseRequest):
    """A keep-alive aiohttp session with at most `pool_size` connections to the Bot API.

    The environment (proxies, CA files) is read here, once; the session is opened by
    `initialize`, as PTB does."""

    def __init__(
        self, pool_size: int = 64, *, verify_tls: bool = True, tls: ssl.SSLContext | None = None
    ) -> None:
        self.pool_size = pool_size
        self.verify_tls = verify_tls
        self._tls = tls
        self._ca_file = os.environ.get("SSL_CERT_FILE") or None
        self._ca_dir = os.environ.get("SSL_CERT_DIR") or None
        self._proxies = urllib.request.getproxies()
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return READ_TIMEOUT

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=_Connector(limit=self.pool_size, keepalive_timeout=KEEPALIVE_SECONDS),
                headers={"User-Agent": self.USER_AGENT},
                skip_auto_headers=("Accept-Encoding",),
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
            )

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
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("BotApiRequest is not initialized")
        deadline, timeout = _limits(
            request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        options = {**self._routing(url), **_body(request_data)}
        current = _CURRENT.set(deadline)
        try:
            async with asyncio.timeout(None) as deadline.timer:
                async with session.request(method, url, timeout=timeout, **options) as response:
                    return response.status, await _read_capped(response)
        except (TimeoutError, aiohttp.ClientError, OSError, AnswerTooLargeError) as exc:
            error = _ptb_error(exc)
        finally:
            _CURRENT.reset(current)
        raise error  # outside the handler: aiohttp's exception, and its URL, stay behind

    def _routing(self, url: str) -> dict[str, Any]:
        """How to reach `url`: its proxy and TLS context; redirects are not followed."""
        options: dict[str, Any] = {"proxy": self._proxy_for(url), "allow_redirects": False}
        if url.startswith("https:"):
            options["ssl"] = self._tls_context()
        return options

    def _proxy_for(self, url: str) -> str | None:
        """The proxy the environment named for this URL's scheme, unless NO_PROXY exempts
        its host."""
        if not self._proxies:
            return None
        parts = urlsplit(url)
        proxy = self._proxies.get(parts.scheme)
        if proxy is None or _bypassed(parts.hostname or "", self._proxies):
            return None
        return proxy

    def _tls_context(self) -> ssl.SSLContext | bool:
        """Built at the first HTTPS request: loading a CA bundle takes ~40 ms, and a
        plain-HTTP Bot API server (local, or the test fake) never needs it."""
        if not self.verify_tls and self._tls is None:
            return False
        if self._tls is None:
            if self._ca_file is None and self._ca_dir is None:
                self._tls = ssl.create_default_context(cafile=certifi.where())
            else:
                self._tls = ssl.create_default_context(cafile=self._ca_file, capath=self._ca_dir)
        return self._tls


def _bypassed(host: str, proxies: dict[str, str]) -> bool:
    """NO_PROXY (`proxies["no"]`) names `host`: urllib's own matching, given the settings
    read at construction (`urllib.request.proxy_bypass` would read the environment again;
    typeshed does not list this function)."""
    return bool(urllib.request.proxy_bypass_environment(host, proxies))  # type: ignore[attr-defined]


def _limits(
    request_data: RequestData | None, read: Any, write: Any, connect: Any, pool: Any
) -> tuple[_Deadline, aiohttp.ClientTimeout]:
    """PTB's four timeouts as a deadline for the exchange (the read timeout; for uploads
    the write and read timeouts together) and aiohttp's limits on getting a connection
    (pool wait and connecting together, and each connection attempt)."""
    has_files = request_data is not None and request_data.contains_files
    exchange = _sum(
        _seconds(write, MEDIA_WRITE_TIMEOUT) if has_files else 0.0, _seconds(read, READ_TIMEOUT)
    )
    connect_seconds = _seconds(connect, CONNECT_TIMEOUT)
    timeout = aiohttp.ClientTimeout(
        connect=_sum(_seconds(pool, POOL_TIMEOUT), connect_seconds), sock_connect=connect_seconds
    )
    return _Deadline(exchange), timeout


@dataclass(slots=True)
class _Deadline:
    """A request's deadline: `budget` seconds from the moment it has a connection, so the
    read and write timeouts measure the exchange, not the wait for a connection (which the
    pool and connect timeouts bound). `_Connector` starts it."""

    budget: float | None
    timer: asyncio.Timeout | None = None

    def start(self) -> None:
        if self.budget is not None and self.timer is not None:
            self.timer.reschedule(asyncio.get_running_loop().time() + self.budget)


# The deadline of the request the current task is making, for `_Connector` to start.
_CURRENT: ContextVar[_Deadline | None] = ContextVar("bot_api_deadline", default=None)


class _Connector(aiohttp.TCPConnector):
    """aiohttp's connection pool, with two changes.

    It starts the request's deadline once a connection is ready (from the pool or new). A
    ContextVar carries the deadline here: aiohttp's tracing could say the same, but cost
    ~20-40 µs per request in signals.

    An idle connection is reused only if nothing arrived on it since its answer. aiohttp
    only asks whether the transport is closing, which it learns when the event loop
    processes the close; a busy loop may not have yet, and the request would go into a
    dead connection, its outcome unknown. (`_get` is aiohttp's internal "next reusable
    connection"; tests/test_telegram_transport.py pins this.)"""

    async def connect(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> Connection:
        connection = await super().connect(req, traces, timeout)
        deadline = _CURRENT.get()
        if deadline is not None:
            deadline.start()
        return connection

    async def _get(self, key: ConnectionKey, traces: list[Trace]) -> Connection | None:
        while (connection := await super()._get(key, traces)) is not None:
            protocol = connection.protocol
            if protocol is not None and _quiet(protocol):
                return connection
            connection.close()
        return None


def _quiet(protocol: ResponseHandler) -> bool:
    """Nothing is waiting on an idle connection: no unread bytes, close or parsed answer."""
    if protocol.should_close or protocol.transport is None:
        return False
    sock = protocol.transport.get_extra_info("socket")
    return sock is None or not _readable(sock.fileno())


def _readable(fd: int) -> bool:
    """Bytes (or a close) are waiting on the socket, without reading them."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])  # pragma: no cover - Windows


def _body(request_data: RequestData | None) -> dict[str, Any]:
    """The request body as aiohttp arguments: JSON, or multipart when there are files."""
    if request_data is None:
        return {}
    if not request_data.contains_files:
        return {"json": request_data.parameters}
    form = aiohttp.FormData(quote_fields=False)  # file names as written, like httpx
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in request_data.multipart_data.items():
        # From a BytesIO aiohttp writes in 64 KiB pieces, each waiting for the socket: a
        # failed upload has little left to flush when its connection is closed. Bytes
        # would go into the socket's buffer whole, and all of it out after a failure.
        data = io.BytesIO(content) if isinstance(content, bytes) else content
        form.add_field(name, data, filename=filename or name, content_type=mime)
    return {"data": form}


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    """The whole body, refused as soon as it is known to pass `MAX_ANSWER_BYTES`."""
    length = response.content_length
    if length is not None:
        if length > MAX_ANSWER_BYTES:
            raise AnswerTooLargeError(f"Content-Length {length}")
        return await response.read()
    body = bytearray()
    async for piece in response.content.iter_any():
        body += piece
        if len(body) > MAX_ANSWER_BYTES:
            raise AnswerTooLargeError(f"more than {MAX_ANSWER_BYTES} bytes")
    return bytes(body)


def _ptb_error(error: BaseException) -> TelegramError:
    """PTB's error for a failed request: was anything sent?"""
    if isinstance(error, NOTHING_SENT):
        return NetworkError(_describe(error))
    if isinstance(error, TimeoutError):  # the deadline, after the request went out
        return TimedOut()
    return TimedOut(f"no whole answer, the request may have been carried out ({_describe(error)})")


def _sum(first: float | None, second: float | None) -> float | None:
    """Two timeouts back to back; None (no limit) if either is."""
    return None if first is None or second is None else first + second


def _seconds(value: Any, default: float | None) -> float | None:
    """PTB passes `DEFAULT_NONE` for "your default", None for "no limit", or seconds."""
    if value is BaseRequest.DEFAULT_NONE:
        return default
    return None if value is None else float(value)


def _describe(error: BaseException) -> str:
    """'<error type>: <message>', without the token."""
    return f"{type(error).__name__}: {_redacted(str(error))}"


def _redacted(text: str) -> str:
    """The text without a Bot API token: URLs look like .../bot<token>/<method>."""
    return TOKEN_IN_URL.sub("/bot<token>/", text)

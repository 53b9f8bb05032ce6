"""The HTTP client python-telegram-bot talks to the Bot API through: a small keep-alive
HTTP/1.1 client on asyncio, not httpx or aiohttp.

PTB lets the transport be swapped (`ApplicationBuilder.request`): a `BaseRequest` only
turns one Bot API call into `(status, body)`; PTB keeps the error mapping (`RetryAfter`,
`Forbidden`, ...), the rate limiter and the parsing. Why our own: at a high nudge rate the
HTTP client was most of the bot's CPU per message, measured with bench/nudge_fanout.py.
httpx's connection pool checked every pooled connection on every request; aiohttp, general
as it is, spent ~330 µs of CPU per request on this machine, this client ~160 µs (one
socket write, one parse of the answer). The Bot API needs little of HTTP: one host, POST
and GET, answers with a length or chunked, no cookies, redirects or compression.

Requests without files go as a JSON body (the Bot API accepts `application/json`); uploads
go as `multipart/form-data`.

Errors keep PTB's meaning: `NetworkError` when nothing reached Telegram (no connection, or
no free connection in time), so a retry is safe; `TimedOut` when the outcome is unknown (no
answer in time, or the connection broke after the request went out), which is never
retried. A connection is reused only after a complete answer, and only if nothing has
arrived on it since (a close the event loop has not seen yet would swallow the request);
one that said `Connection: close` or sat idle longer than `KEEPALIVE_SECONDS` is closed,
one that broke or timed out is aborted, so a failed upload stops sending at once.
Uploads are written in pieces under the write and read timeouts together; other requests
have the read timeout only. New connections try the next address of the host after
`HAPPY_EYEBALLS_DELAY` (a broken IPv6 route falls back to IPv4).
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import secrets
import select
import ssl
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's HTTPXRequest defaults, in seconds.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0
KEEPALIVE_SECONDS = 15.0  # an idle connection older than this is not reused
# With IPv6 and IPv4 addresses, try the next one this long after the first (RFC 8305): a
# broken IPv6 route (common in containers) would otherwise eat the whole connect timeout.
HAPPY_EYEBALLS_DELAY = 0.25
UPLOAD_PIECE = 256 * 1024  # uploads are written in pieces, so the write timeout applies
MAX_HEAD_BYTES = 64 * 1024
TOKEN_IN_URL = re.compile(r"/bot[^/\s]+/")


class ProtocolError(Exception):
    """The server's answer is not HTTP we understand."""


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a URL goes: the pool key and the request target."""

    tls: bool
    host: str
    port: int
    path: str  # with the query, as sent on the request line
    host_header: bytes

    @property
    def pool_key(self) -> tuple[bool, str, int]:
        """Connections are shared by requests to the same scheme, host and port."""
        return self.tls, self.host, self.port


@functools.lru_cache(maxsize=256)
def _target(url: str) -> _Target:
    """Split a URL once; PTB's Bot API URLs repeat (one per method)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NetworkError(f"unsupported URL scheme {parts.scheme!r}")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = parts.netloc.rpartition("@")[2].encode("idna")
    return _Target(tls, parts.hostname, port, path, host_header)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, its answer parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self.idle_since = 0.0
        self._buffer = bytearray()
        self._answer: asyncio.Future[tuple[int, bytes]] | None = None
        self._head: tuple[int, int | None, bool] | None = None  # status, length, chunked
        self._chunks: list[bytes] = []
        self._writable: asyncio.Future[None] | None = None

    # asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._answer is None:  # nothing asked: a server talking out of turn
            self.reusable = False
            return
        try:
            self._parse()
        except (ProtocolError, ValueError) as exc:
            self.abort(ProtocolError(f"bad answer from the Bot API: {exc}"))

    def eof_received(self) -> bool:
        if self._answer is not None and self._head is not None and self._head[1] == -1:
            body = bytes(self._buffer)  # an answer delimited by the server closing
            self._buffer.clear()
            self._finish(body)
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        self.abort(ConnectionResetError("the Bot API closed the connection"))
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    # the client's side -------------------------------------------------------------------

    def expect_answer(self) -> asyncio.Future[tuple[int, bytes]]:
        """The future (status, body) of the request about to be written: it exists before
        the first byte goes out, as the server may answer early (an upload refused)."""
        self._answer = asyncio.get_running_loop().create_future()
        return self._answer

    def write(self, data: bytes | memoryview) -> None:
        assert self.transport is not None
        self.transport.write(data)

    @property
    def writing_paused(self) -> bool:
        """The socket's buffers are full (a large upload): see `drained`."""
        return self._writable is not None

    async def drained(self) -> None:
        """Until the socket took what was written."""
        if self._writable is not None:
            await self._writable

    def looks_alive(self) -> bool:
        """An idle connection is reusable only if nothing arrived since its last answer: a
        close the event loop has not processed yet would swallow the next request."""
        if self.closed or not self.reusable or self.transport is None:
            return False
        if self.transport.is_closing():
            return False
        sock = self.transport.get_extra_info("socket")
        return sock is None or not _readable(sock.fileno())

    def close(self) -> None:
        """Close an idle connection gracefully."""
        self.reusable = False
        if self.transport is not None and not self.closed:
            self.transport.close()

    def abort(self, error: Exception | None = None) -> None:
        """Drop the connection at once, unsent bytes included (a broken or timed-out
        exchange must not keep uploading). A request waiting for its answer gets `error`;
        without one nobody is waiting, and the answer is cancelled."""
        self.reusable = False
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            if error is None:
                answer.cancel()
            else:
                answer.set_exception(error)
        if self.transport is not None and not self.closed:
            self.transport.abort()

    # parsing -----------------------------------------------------------------------------

    def _parse(self) -> None:
        while self._head is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD_BYTES:
                    raise ProtocolError("headers too long")
                return
            head = bytes(self._buffer[:end]).decode("latin-1")
            del self._buffer[: end + 4]
            self._head = self._read_head(head)
        _, length, chunked = self._head
        if chunked:
            self._parse_chunks()
        elif length is not None and length >= 0 and len(self._buffer) >= length:
            body = bytes(self._buffer[:length])
            del self._buffer[:length]
            self._finish(body)

    def _read_head(self, head: str) -> tuple[int, int | None, bool] | None:
        """(status, length, chunked) from a response head; None for a 1xx interim answer.
        A length of -1: the body runs until the server closes the connection."""
        status_line, *lines = head.split("\r\n")
        version, _, rest = status_line.partition(" ")
        if not version.startswith("HTTP/1."):
            raise ProtocolError(f"status line {status_line[:40]!r}")
        status = int(rest[:3])
        if 100 <= status < 200:
            return None
        headers = {}
        for line in lines:
            name, sep, value = line.partition(":")
            if not sep:
                raise ProtocolError("malformed header line")
            headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        if connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive"):
            self.reusable = False
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return status, None, True
        if "content-length" in headers:
            length = int(headers["content-length"])
            if length < 0:
                raise ProtocolError("negative Content-Length")
            return status, length, False
        if status in (204, 304):
            return status, 0, False
        self.reusable = False
        return status, -1, False

    def _parse_chunks(self) -> None:
        while True:
            end = self._buffer.find(b"\r\n")
            if end < 0:
                return
            size = int(bytes(self._buffer[:end]).split(b";", 1)[0].strip(), 16)
            if size == 0:  # the last chunk, then trailer lines (usually none) and a blank line
                trailers_end = self._buffer.find(b"\r\n\r\n", end)
                if trailers_end < 0:
                    return
                del self._buffer[: trailers_end + 4]
                self._finish(b"".join(self._chunks))
                return
            if len(self._buffer) < end + 2 + size + 2:
                return
            self._chunks.append(bytes(self._buffer[end + 2 : end + 2 + size]))
            del self._buffer[: end + 2 + size + 2]

    def _finish(self, body: bytes) -> None:
        answer, self._answer = self._answer, None
        assert self._head is not None
        status = self._head[0]
        self._head, self._chunks = None, []
        if self._buffer:  # bytes beyond the answer: the connection is out of step
            self.reusable = False
        if answer is not None and not answer.done():
            answer.set_result((status, body))


class BotApiRequest(BaseRequest):
    """Keep-alive connections to the Bot API, at most `pool_size` at once.

    HTTPS is verified against certifi's CA bundle; `tls` replaces that context (a local Bot
    API server behind a private CA), `verify_tls=False` turns verification off."""

    def __init__(
        self, pool_size: int = 64, *, verify_tls: bool = True, tls: ssl.SSLContext | None = None
    ) -> None:
        self.pool_size = pool_size
        self.verify_tls = verify_tls
        self._idle: dict[tuple[bool, str, int], deque[_Connection]] = {}
        self._busy: set[_Connection] = set()
        self._slots: asyncio.Semaphore | None = None
        self._tls = tls

    @property
    def read_timeout(self) -> float:
        return READ_TIMEOUT

    async def initialize(self) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.pool_size)

    def _tls_context(self) -> ssl.SSLContext:
        """Built at the first HTTPS connection: loading the CA bundle takes a while, and a
        plain-HTTP Bot API server (local, or the test fake) never needs it."""
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=certifi.where())
            if not self.verify_tls:
                self._tls.check_hostname = False
                self._tls.verify_mode = ssl.CERT_NONE
        return self._tls

    async def shutdown(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        for connection in self._busy:
            connection.abort(ConnectionResetError("the client was shut down"))
        self._idle.clear()
        self._busy.clear()
        self._slots = None

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
        slots = self._slots
        if slots is None:
            raise RuntimeError("BotApiRequest is not initialized")
        target = _target(url)
        has_files = request_data is not None and request_data.contains_files
        request = _encode(method, target, request_data, self.USER_AGENT)
        write = _seconds(write_timeout, MEDIA_WRITE_TIMEOUT if has_files else WRITE_TIMEOUT)
        await _take_slot(slots, _seconds(pool_timeout, None))
        try:
            connection = await self._connection(target, _seconds(connect_timeout, CONNECT_TIMEOUT))
            try:
                return await self._exchange(
                    connection, request, write, _seconds(read_timeout, READ_TIMEOUT)
                )
            finally:
                self._give_back(target, connection)
        finally:
            slots.release()

    async def _connection(self, target: _Target, connect_timeout: float | None) -> _Connection:
        """A live idle connection to `target`, or a new one. Nothing is sent yet, so every
        failure here is a `NetworkError` (safe to retry)."""
        idle = self._idle.get(target.pool_key)
        loop = asyncio.get_running_loop()
        while idle:
            connection = idle.pop()
            fresh = loop.time() - connection.idle_since < KEEPALIVE_SECONDS
            if fresh and connection.looks_alive():
                self._busy.add(connection)
                return connection
            connection.close()
        tls = self._tls_context() if target.tls else None
        try:
            async with asyncio.timeout(connect_timeout):
                _, connection = await loop.create_connection(
                    _Connection,
                    target.host,
                    target.port,
                    ssl=tls,
                    server_hostname=target.host if tls else None,
                    happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY,
                )
        except TimeoutError:
            raise NetworkError("connecting to the Bot API timed out") from None
        except (OSError, ssl.SSLError) as exc:
            raise NetworkError(_describe(exc)) from None
        self._busy.add(connection)
        return connection

    async def _exchange(
        self,
        connection: _Connection,
        request: bytes,
        write_timeout: float | None,
        read_timeout: float | None,
    ) -> tuple[int, bytes]:
        """Send, then wait for the whole answer. From the first byte written on, a failure
        means Telegram may have carried the request out: `TimedOut`, never retried.

        A request the socket takes at once has only the read timeout. An upload is written
        in pieces, and the write and read timeouts bound it together: the socket buffers
        megabytes, so the last of the upload may still be on its way when writing ends."""
        answer = connection.expect_answer()
        try:
            if len(request) <= UPLOAD_PIECE:
                connection.write(request)
                if connection.writing_paused:
                    async with asyncio.timeout(write_timeout):
                        await connection.drained()
                async with asyncio.timeout(read_timeout):
                    return await answer
            async with asyncio.timeout(_sum(write_timeout, read_timeout)):
                view = memoryview(request)
                for start in range(0, len(request), UPLOAD_PIECE):
                    await connection.drained()
                    if connection.closed:  # the answer says why
                        break
                    connection.write(view[start : start + UPLOAD_PIECE])
                return await answer
        except TimeoutError:
            connection.abort()
            raise TimedOut from None
        except (ProtocolError, OSError) as exc:
            connection.abort()
            raise TimedOut(
                f"connection lost, the request may have been carried out ({_describe(exc)})"
            ) from None
        except BaseException:  # cancelled mid-request: the connection is out of step
            connection.abort()
            raise

    def _give_back(self, target: _Target, connection: _Connection) -> None:
        self._busy.discard(connection)
        if not connection.reusable or connection.closed or self._slots is None:
            connection.close()
            return
        connection.idle_since = asyncio.get_running_loop().time()
        self._idle.setdefault(target.pool_key, deque()).append(connection)


async def _take_slot(slots: asyncio.Semaphore, pool_timeout: float | None) -> None:
    """A free connection slot; no timer unless the pool is full and a limit was given."""
    if pool_timeout is None or not slots.locked():
        await slots.acquire()
        return
    try:
        async with asyncio.timeout(pool_timeout):
            await slots.acquire()
    except TimeoutError:
        raise NetworkError("no free connection to the Bot API in time (pool)") from None


def _encode(
    method: str, target: _Target, request_data: RequestData | None, user_agent: str
) -> bytes:
    """The whole request: head and body."""
    body, content_type = b"", None
    if request_data is not None and request_data.contains_files:
        body, content_type = _multipart(request_data)
    elif request_data is not None:
        body, content_type = json.dumps(request_data.parameters).encode(), "application/json"
    head = [
        f"{method} {target.path} HTTP/1.1",
        f"Host: {target.host_header.decode()}",
        f"User-Agent: {user_agent}",
    ]
    if content_type is not None:
        head += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _multipart(request_data: RequestData) -> tuple[bytes, str]:
    """`multipart/form-data`: the plain values, then the files, names as written (UTF-8)."""
    boundary = secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in request_data.json_parameters.items():
        parts.append(_part(boundary, f'name="{_quoted(name)}"', None, value.encode()))
    for name, (filename, content, mime) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()
        disposition = f'name="{_quoted(name)}"; filename="{_quoted(filename or name)}"'
        parts.append(_part(boundary, disposition, mime, data))
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _part(boundary: str, disposition: str, mime: str | None, data: bytes) -> bytes:
    head = f"--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n"
    if mime:
        head += f"Content-Type: {mime}\r\n"
    return head.encode() + b"\r\n" + data + b"\r\n"


def _quoted(text: str) -> str:
    """A name inside a quoted header parameter (the HTML form encoding's escapes)."""
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _sum(first: float | None, second: float | None) -> float | None:
    """Two timeouts back to back; None (no limit) if either is."""
    return None if first is None or second is None else first + second


def _readable(fd: int) -> bool:
    """Bytes (or a close) are waiting on the socket, without reading them."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])  # pragma: no cover - Windows


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

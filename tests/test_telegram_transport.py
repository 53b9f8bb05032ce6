"""The Bot API transport under a real PTB `Bot`, against the fake Bot API: what goes on the
wire, and which PTB errors come back for timeouts and dead servers; then the HTTP/1.1 it
must read (pieces, chunks, closes) against a scripted server."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import trustme
from telegram import Bot
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot

from bot.adapters.telegram.limits import RetryingRateLimiter
from bot.adapters.telegram.transport import BotApiRequest, _redacted
from tests.fakes.telegram_api import FakeTelegram

CHAT = 1001
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def serving(handle: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """A local server running `handle` per connection, for the block; yields its port."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def opened(request: BotApiRequest) -> AsyncIterator[BotApiRequest]:
    """`request` initialized for the block, shut down after it."""
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


SENT = (
    b'{"ok": true, "result": {"message_id": 1, "date": 0, "chat": {"id": 1001, "type": "private"}}}'
)


def bot_on(url: str, request: BotApiRequest) -> Bot:
    """A PTB Bot sending through `request` to a local server at `url` (no getMe)."""
    return Bot("123:SECRET", base_url=f"{url}/bot", request=request)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(fake.token, base_url=fake.base_url, request=BotApiRequest(4, verify_tls=False))
    await bot.initialize()
    try:
        yield bot
    finally:
        await bot.shutdown()


async def test_plain_calls_go_as_json_with_nested_values_intact(
    bot: Bot, fake: FakeTelegram
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Start", "callback_data": "st:1"}]]}
    await bot.send_message(CHAT, "roll <b>it_band</b> *now*", reply_markup=keyboard)  # type: ignore[arg-type]
    (call,) = fake.calls_to("sendMessage")
    assert call.encoding == "json"
    assert call.params["text"] == "roll <b>it_band</b> *now*"
    assert call.params["reply_markup"] == keyboard


async def test_uploads_go_as_multipart(bot: Bot, fake: FakeTelegram) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    await bot.send_photo(CHAT, photo=png, caption="your week")
    (call,) = fake.calls_to("sendPhoto")
    assert call.encoding == "multipart"
    assert call.params["caption"] == "your week"
    assert call.files["photo"].data == png


async def test_a_slow_answer_is_a_timeout(bot: Bot, fake: FakeTelegram) -> None:
    fake.delay_next("sendMessage", 1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "hello", read_timeout=0.2)


async def test_server_errors_are_mapped_by_ptb(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError):
        await bot.send_message(CHAT, "hello")


async def test_a_dead_server_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with opened(BotApiRequest(2, verify_tls=False)) as request:
        with pytest.raises(NetworkError) as error:
            await request.post(f"http://127.0.0.1:{port}/bot123:SECRET/getMe")
    assert not isinstance(error.value, TimedOut)  # nothing was sent: a retry is safe
    assert "SECRET" not in str(error.value)


async def test_a_connection_lost_after_sending_is_an_unknown_outcome_and_not_retried() -> None:
    requests = 0

    async def read_then_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        await reader.readuntil(b"\r\n\r\n")
        requests += 1
        writer.close()

    limiter = RetryingRateLimiter(overall_max_rate=100, backoff=0.01)
    await limiter.initialize()
    async with serving(read_then_hang_up) as port, opened(BotApiRequest(2)) as request:
        bot = ExtBot(
            "123:SECRET",
            base_url=f"http://127.0.0.1:{port}/bot",
            request=request,
            rate_limiter=limiter,
        )
        with pytest.raises(TimedOut, match="may have been carried out"):
            await bot.send_message(CHAT, "did it arrive?")
    assert requests == 1


async def test_an_upload_to_a_server_that_stops_reading_times_out() -> None:
    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    async with serving(never_read) as port, opened(BotApiRequest(2)) as request:
        async with asyncio.timeout(10):
            with pytest.raises(TimedOut):
                await bot_on(f"http://127.0.0.1:{port}", request).send_document(
                    CHAT,
                    document=bytes(32 * 2**20),  # more than the socket buffers take in
                    write_timeout=0.5,
                    read_timeout=0.5,
                    connect_timeout=0.5,
                    pool_timeout=0.5,
                )


async def test_waiting_too_long_for_a_pooled_connection_sends_nothing(
    fake: FakeTelegram,
) -> None:
    request = BotApiRequest(1, verify_tls=False)  # one connection, kept busy below
    bot = Bot(fake.token, base_url=fake.base_url, request=request)
    await bot.initialize()
    try:
        fake.delay_next("sendMessage", 2.0)
        busy = asyncio.create_task(bot.send_message(CHAT, "slow", read_timeout=5))
        await asyncio.sleep(0.2)
        with pytest.raises(NetworkError) as error:
            await bot.send_message(CHAT, "queued", pool_timeout=0.2, connect_timeout=0.2)
        assert not isinstance(error.value, TimedOut)  # never sent: safe to retry
        await busy
    finally:
        await bot.shutdown()
    assert [call.params["text"] for call in fake.calls_to("sendMessage")] == ["slow"]


async def test_file_names_go_out_as_written(bot: Bot, fake: FakeTelegram) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    await bot.send_photo(CHAT, photo=png, filename="semaine à Zürich.png")
    (call,) = fake.calls_to("sendPhoto")
    assert call.files["photo"].filename == "semaine à Zürich.png"


async def test_a_backslash_in_a_file_name_survives(bot: Bot, fake: FakeTelegram) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    await bot.send_photo(CHAT, photo=png, filename="C:\\exports\\week.png")
    (call,) = fake.calls_to("sendPhoto")
    assert call.files["photo"].filename == "C:\\exports\\week.png"


async def test_requests_before_initialize_are_refused() -> None:
    with pytest.raises(NetworkError, match="not initialized"):
        await BotApiRequest().post("http://127.0.0.1:9/botTOKEN/getMe")


def test_errors_never_carry_the_token_in_a_url() -> None:
    text = "Cannot fetch http://127.0.0.1:1/bot123456:SECRET-part/sendMessage: boom"
    assert "SECRET" not in _redacted(text)
    assert "/bot<token>/sendMessage" in _redacted(text)


# --- HTTP/1.1 on the wire: a scripted server answers each request with given bytes -------

OK = b'{"ok": true, "result": {"n": 1}}'


def answer(body: bytes = OK, *headers: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass
class ScriptedServer:
    """Answers the n-th request with `answers[n]` (written in `pieces`), counts connections
    and closes a connection after an answer when `close_after` says so."""

    answers: list[bytes]
    pieces: int = 1
    close_after: bool = False
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"Content-Length: (\d+)", head)
                body = await reader.readexactly(int(length.group(1))) if length else b""
                self.requests.append(head + body)
                data = self.answers[len(self.requests) - 1]
                step = max(1, len(data) // self.pieces)
                for start in range(0, len(data), step):
                    writer.write(data[start : start + step])
                    await writer.drain()
                    await asyncio.sleep(0.01)
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[ScriptedServer, str, BotApiRequest]]:
    script = ScriptedServer([])
    async with serving(script.handle) as port, opened(BotApiRequest(2)) as request:
        yield script, f"http://127.0.0.1:{port}/bot123:SECRET/getMe", request


async def test_the_next_request_reuses_the_connection(
    scripted: tuple[ScriptedServer, str, BotApiRequest],
) -> None:
    script, url, request = scripted
    script.answers = [answer(), answer()]
    assert await request.post(url) == {"n": 1}
    assert await request.post(url) == {"n": 1}
    assert script.connections == 1
    assert script.requests[0].startswith(b"POST /bot123:SECRET/getMe HTTP/1.1\r\n")


async def test_an_answer_in_pieces_is_read_whole(
    scripted: tuple[ScriptedServer, str, BotApiRequest],
) -> None:
    script, url, request = scripted
    script.answers, script.pieces = [answer(b'{"ok": true, "result": "' + b"x" * 5000 + b'"}')], 7
    assert await request.post(url) == "x" * 5000


async def test_a_chunked_answer_with_a_trailer_is_read_whole(
    scripted: tuple[ScriptedServer, str, BotApiRequest],
) -> None:
    script, url, request = scripted
    chunked = b'10;note=x\r\n{"ok": true, "re\r\n10\r\nsult": {"n": 1}}\r\n0\r\nX-Trace: 1\r\n\r\n'
    script.answers = [answer(chunked, "Transfer-Encoding: chunked"), answer()]
    script.pieces = 5
    assert await request.post(url) == {"n": 1}
    assert await request.post(url) == {"n": 1}  # the connection stayed in step
    assert script.connections == 1


async def test_an_interim_100_answer_is_skipped(
    scripted: tuple[ScriptedServer, str, BotApiRequest],
) -> None:
    script, url, request = scripted
    script.answers = [b"HTTP/1.1 100 Continue\r\n\r\n" + answer()]
    assert await request.post(url) == {"n": 1}


async def test_an_answer_without_a_length_ends_when_the_server_closes(
    scripted: tuple[ScriptedServer, str, BotApiRequest],
) -> None:
    script, url, request = scripted
    script.answers = [b"HTTP/1.1 200 OK\r\n\r\n" + OK, answer()]
    script.close_after = True
    assert await request.post(url) == {"n": 1}
    assert await request.post(url) == {"n": 1}
    assert script.connections == 2


async def test_connection_close_is_honoured(
    scripted: tuple[ScriptedServer, str, BotApiRequest],
) -> None:
    script, url, request = scripted
    script.answers = [answer(OK, "Connection: close"), answer()]
    assert await request.post(url) == {"n": 1}
    assert await request.post(url) == {"n": 1}
    assert script.connections == 2


async def test_a_connection_the_server_closed_while_idle_is_not_reused(
    scripted: tuple[ScriptedServer, str, BotApiRequest],
) -> None:
    script, url, request = scripted
    script.answers, script.close_after = [answer(), answer()], True  # no "Connection: close"
    assert await request.post(url) == {"n": 1}
    await asyncio.sleep(0.05)  # the server's close arrives while the connection is idle
    assert await request.post(url) == {"n": 1}  # a new connection, not a lost request
    assert script.connections == 2


async def test_a_garbled_answer_is_an_unknown_outcome(
    scripted: tuple[ScriptedServer, str, BotApiRequest],
) -> None:
    script, url, request = scripted
    script.answers = [b"SMTP ready\r\n\r\n"]
    with pytest.raises(TimedOut, match="may have been carried out"):
        await request.post(url)


async def test_errors_carry_no_exception_that_holds_the_token(
    scripted: tuple[ScriptedServer, str, BotApiRequest],
) -> None:
    """aiohttp's exceptions hold the request's URL, and with it the token: PTB's error is
    raised without them, neither as its cause nor as its context."""
    script, url, request = scripted
    script.answers = [b"SMTP ready\r\n\r\n"]
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/bot123:SECRET/getMe"
    for target, expected in ((url, TimedOut), (dead, NetworkError)):
        with pytest.raises(expected) as error:
            await request.post(target)
        assert error.value.__cause__ is None
        assert error.value.__context__ is None
        assert "SECRET" not in repr(error.value)


# --- HTTPS -----------------------------------------------------------------------------


@pytest.fixture
def ca() -> trustme.CA:
    """A throwaway certificate authority; `server_tls` holds its certificate for localhost."""
    return trustme.CA()


def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    return context


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts `ca`."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
async def https_url(ca: trustme.CA) -> AsyncIterator[str]:
    """A server that answers every request with `answer()` over TLS, for "localhost"."""
    async with serving(ScriptedServer([answer()] * 10).handle, server_tls(ca)) as port:
        yield f"https://localhost:{port}/bot123:SECRET/getMe"


async def test_https_is_verified_against_the_given_ca(https_url: str, ca: trustme.CA) -> None:
    async with opened(BotApiRequest(2, tls=trusting(ca))) as request:
        assert await request.post(https_url) == {"n": 1}


async def test_an_untrusted_certificate_is_a_network_error_and_sends_nothing(
    https_url: str,
) -> None:
    async with opened(BotApiRequest(2)) as request:  # certifi's CAs: not the test CA
        with pytest.raises(NetworkError) as error:
            await request.post(https_url)
    assert not isinstance(error.value, TimedOut)
    assert "CERTIFICATE_VERIFY_FAILED" in str(error.value)
    assert "SECRET" not in str(error.value)


async def read_slowly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read a request's body at about 2 MB/s, then answer."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"Content-Length: (\d+)", head)
    assert length is not None
    left = int(length.group(1))
    while left > 0:
        left -= len(await reader.read(256 * 1024))
        await asyncio.sleep(0.1)
    writer.write(answer(SENT))
    await writer.drain()
    writer.close()


async def test_a_slow_https_upload_has_the_write_and_read_timeouts_together(
    ca: trustme.CA,
) -> None:
    async with (
        serving(read_slowly, server_tls(ca)) as port,
        opened(BotApiRequest(2, tls=trusting(ca))) as request,
    ):  # ~2 s to read 4 MB: longer than the read timeout alone
        sent = await bot_on(f"https://localhost:{port}", request).send_document(
            CHAT, document=bytes(4 * 2**20), read_timeout=0.5, write_timeout=20
        )
    assert sent.message_id == 1


async def test_a_timed_out_upload_stops_sending() -> None:
    received: list[int] = []

    async def stall_then_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(1.0)
        total = 0
        try:
            while chunk := await reader.read(2**20):
                total += len(chunk)
        except ConnectionError:
            pass
        received.append(total)
        writer.close()

    size = 32 * 2**20
    async with serving(stall_then_read) as port, opened(BotApiRequest(2)) as request:
        with pytest.raises(TimedOut):
            await bot_on(f"http://127.0.0.1:{port}", request).send_document(
                CHAT, document=bytes(size), read_timeout=0.2, write_timeout=0.2
            )
        async with asyncio.timeout(10):
            while not received:
                await asyncio.sleep(0.05)
    assert received[0] < size  # the rest was dropped, not uploaded after the error


async def test_a_close_that_arrived_unseen_does_not_swallow_the_next_request() -> None:
    """The server answers, then closes the connection without saying so beforehand; the
    close reaches the socket while the event loop is busy (blocked below), so the next
    request must notice it before writing, not lose the request in a dead connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    connections: list[int] = []

    def serve() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            with conn:
                connections.append(1)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                conn.sendall(answer())
                time.sleep(0.05)  # the client is done with its answer by now

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/bot123:SECRET/getMe"
    try:
        async with opened(BotApiRequest(2)) as request:
            assert await request.post(url) == {"n": 1}
            time.sleep(0.3)  # blocks the loop: the close arrives, unprocessed
            assert await request.post(url) == {"n": 1}
    finally:
        thread.join(5)
        listener.close()
    assert len(connections) == 2


async def test_an_address_that_never_answers_falls_back_to_the_next_one(
    scripted: tuple[ScriptedServer, str, BotApiRequest], monkeypatch: pytest.MonkeyPatch
) -> None:
    """api.telegram.org has IPv6 and IPv4 addresses; a broken IPv6 route must not eat the
    whole connect timeout of every new connection."""
    script, url, request = scripted
    script.answers = [answer()]
    live = ("127.0.0.1", urlsplit(url).port)
    black_hole = socket.socket()  # a full accept queue: further connection attempts hang
    black_hole.bind(("127.0.0.1", 0))
    black_hole.listen(0)
    queued = [socket.socket() for _ in range(4)]
    for client in queued:
        client.setblocking(False)
        client.connect_ex(black_hole.getsockname())

    async def resolve(*args: object, **kwargs: object) -> list[tuple[object, ...]]:
        tcp = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "")
        return [(*tcp, black_hole.getsockname()), (*tcp, live)]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolve)
    try:
        named = url.replace("127.0.0.1", "api.example")  # resolved by `resolve` above
        assert await request.post(named, connect_timeout=3) == {"n": 1}
    finally:
        for client in [*queued, black_hole]:
            client.close()

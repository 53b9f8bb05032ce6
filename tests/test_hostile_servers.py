"""The Bot API transport against hostile servers (issue 15): raw TCP servers on 127.0.0.1
answer with what HTTP forbids, never finish, trickle, push out of turn, close mid-answer or
redirect elsewhere; then the environment's proxies and CA files.

Every case must end within its deadline, with bounded memory (the peak RSS growth, and
what the server managed to push) and without blocking the event loop (the longest gap
between the ticks of a 10 ms ticker)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import trustme
from telegram.error import NetworkError, TimedOut

from bot.adapters.telegram.transport import MAX_ANSWER_BYTES, BotApiRequest
from tests.test_telegram_transport import OK, answer, bot_on, opened, serving

DEADLINE = 1.0  # the read timeout every case runs with
TIMEOUTS = {"read_timeout": DEADLINE, "connect_timeout": 1.0, "pool_timeout": 1.0}
SLACK = 0.5  # on top of the deadline, for a slow machine
FAST = 0.5  # "at once": a failure that must not wait for the deadline
MAX_GAP = 0.2  # the event loop may not stall longer than this
MAX_GROWTH = 64 * 2**20  # RSS growth allowed while a case runs (the answer cap is 16 MiB)
PATH = "/bot123:SECRET/getMe"
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
Script = Callable[[asyncio.StreamWriter, "Hostile"], Awaitable[None]]


@dataclass
class Hostile:
    """A server that reads each request and answers it with `scripts[n]`, counting what
    it pushed; after the last script it holds the connection open until the client
    closes it (no script: it never answers)."""

    scripts: list[Script]
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    pushed: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"Content-Length: (\d+)", head)
                body = await reader.readexactly(int(length.group(1))) if length else b""
                self.requests.append(head + body)
                if len(self.requests) > len(self.scripts):
                    await reader.read()  # until the client gives up
                    break
                await self.scripts[len(self.requests) - 1](writer, self)
        writer.close()

    async def push(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        """Write `data` as fast as the client takes it."""
        writer.write(data)
        self.pushed += len(data)
        await writer.drain()


def sends(data: bytes) -> Script:
    """A script: write `data` and leave the connection open."""

    async def script(writer: asyncio.StreamWriter, server: Hostile) -> None:
        await server.push(writer, data)

    return script


def sends_then_closes(data: bytes) -> Script:
    """A script: write `data`, then close the connection."""

    async def script(writer: asyncio.StreamWriter, server: Hostile) -> None:
        await server.push(writer, data)
        writer.close()
        raise ConnectionError  # ends the connection's loop in `Hostile.handle`

    return script


def trickles(head: bytes, pause: float = 0.1) -> Script:
    """A script: `head`, then one byte every `pause` seconds, forever."""

    async def script(writer: asyncio.StreamWriter, server: Hostile) -> None:
        await server.push(writer, head)
        while True:
            await asyncio.sleep(pause)
            await server.push(writer, b"x")

    return script


def repeats(head: bytes, piece: bytes) -> Script:
    """A script: `head`, then `piece` again and again, as fast as the client reads."""

    async def script(writer: asyncio.StreamWriter, server: Hostile) -> None:
        await server.push(writer, head)
        while True:
            await server.push(writer, piece)
            await asyncio.sleep(0)  # drain() only waits once the socket is full

    return script


def answers_then_pushes(push: Script) -> Script:
    """A script: a complete answer, then, once the client has it, `push` on the idle
    connection."""

    async def script(writer: asyncio.StreamWriter, server: Hostile) -> None:
        await server.push(writer, answer())
        await asyncio.sleep(0.1)
        await push(writer, server)

    return script


@dataclass
class Watch:
    """What a ticker saw while a case ran."""

    longest_gap: float = 0.0
    rss_growth: int = 0


@contextlib.asynccontextmanager
async def watched() -> AsyncIterator[Watch]:
    """A ticker every 10 ms for the block: the longest gap between ticks (a blocked event
    loop) and the peak growth of this process's RSS."""
    loop = asyncio.get_running_loop()
    process = psutil.Process()
    baseline = process.memory_info().rss
    watch = Watch()

    async def tick() -> None:
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            now = loop.time()
            watch.longest_gap = max(watch.longest_gap, now - last)
            watch.rss_growth = max(watch.rss_growth, process.memory_info().rss - baseline)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        yield watch
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker


def assert_contained(watch: Watch, server: Hostile) -> None:
    assert watch.longest_gap < MAX_GAP, f"the event loop stalled {watch.longest_gap:.2f} s"
    assert watch.rss_growth < MAX_GROWTH, f"RSS grew {watch.rss_growth / 2**20:.0f} MiB"
    assert server.pushed < MAX_GROWTH, f"the server pushed {server.pushed / 2**20:.0f} MiB"


@dataclass(frozen=True)
class Case:
    """A hostile answer that must fail as an unknown outcome (`TimedOut`: the request went
    out), within `within` seconds."""

    script: Script
    within: float = DEADLINE + SLACK


BAD_ANSWERS = {
    "negative chunk size": Case(sends(CHUNKED_HEAD + b"-6\r\nabcdef\r\n0\r\n\r\n"), FAST),
    "hex-prefixed chunk size": Case(
        sends(CHUNKED_HEAD + b"0x55\r\n" + b"x" * 0x55 + b"\r\n0\r\n\r\n"), FAST
    ),
    "signed, underscored Content-Length": Case(
        sends(b"HTTP/1.1 200 OK\r\nContent-Length: +8_5\r\n\r\n" + b"x" * 85), FAST
    ),
    "endless chunked body": Case(repeats(CHUNKED_HEAD, b"4000\r\n" + b"x" * 0x4000 + b"\r\n")),
    "huge Content-Length, trickled": Case(
        trickles(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n"), FAST
    ),
    "a byte every 0.1 s": Case(trickles(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")),
    "close mid-body": Case(
        sends_then_closes(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 50), FAST
    ),
    "endless header line": Case(repeats(b"HTTP/1.1 200 OK\r\nX-Pad: ", b"x" * 4096), FAST),
    "endless headers": Case(repeats(b"HTTP/1.1 200 OK\r\n", b"X-Pad: x\r\n"), FAST),
}


@pytest.mark.parametrize("case", BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
async def test_a_hostile_answer_is_an_unknown_outcome_within_the_deadline(case: Case) -> None:
    server = Hostile([case.script])
    async with (
        serving(server.handle) as port,
        opened(BotApiRequest(2)) as request,
        watched() as watch,
    ):
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimedOut) as error:
            await request.post(f"http://127.0.0.1:{port}{PATH}", **TIMEOUTS)
        elapsed = asyncio.get_running_loop().time() - started
    assert elapsed < case.within
    assert "SECRET" not in str(error.value)
    assert_contained(watch, server)


async def test_the_answer_cap_lets_a_large_answer_through() -> None:
    """Just under the cap, streamed in chunks: the cap is not an off-by-one trap."""
    body = b'{"ok": true, "result": "' + b"x" * (MAX_ANSWER_BYTES - 30) + b'"}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    server = Hostile([sends(CHUNKED_HEAD + chunked)])
    async with serving(server.handle) as port, opened(BotApiRequest(2)) as request:
        result = await request.post(f"http://127.0.0.1:{port}{PATH}", **TIMEOUTS)
    assert isinstance(result, str)
    assert len(result) == MAX_ANSWER_BYTES - 30


PUSHES = {
    "a stale answer": sends(answer(b'{"ok": true, "result": "stale"}')),
    "garbage": sends(b"garbage\r\n\r\n"),
    "an endless body": repeats(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n", b"x" * 0x4000
    ),
    "endless bytes": repeats(b"", b"x" * 0x4000),
}


@pytest.mark.parametrize("push", PUSHES.values(), ids=PUSHES.keys())
async def test_pushes_on_an_idle_connection_stay_out_of_the_next_answer(push: Script) -> None:
    second = b'{"ok": true, "result": "second"}'
    server = Hostile([answers_then_pushes(push), sends(answer(second))])
    url = f"http://127.0.0.1:{{}}{PATH}"
    async with (
        serving(server.handle) as port,
        opened(BotApiRequest(2)) as request,
        watched() as watch,
    ):
        assert await request.post(url.format(port), **TIMEOUTS) == {"n": 1}
        await asyncio.sleep(1.0)  # idle, while the server pushes
        async with asyncio.timeout(DEADLINE + SLACK):
            assert await request.post(url.format(port), **TIMEOUTS) == "second"
    assert server.connections == 2  # the pushed-on connection was not reused
    assert_contained(watch, server)


async def test_an_http_1_0_answer_ends_when_the_server_closes() -> None:
    http10 = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + OK
    server = Hostile([sends_then_closes(http10), sends_then_closes(http10)])
    async with (
        serving(server.handle) as port,
        opened(BotApiRequest(2)) as request,
        watched() as watch,
    ):
        for _ in range(2):
            async with asyncio.timeout(DEADLINE + SLACK):
                assert await request.post(f"http://127.0.0.1:{port}{PATH}", **TIMEOUTS) == {"n": 1}
    assert server.connections == 2
    assert_contained(watch, server)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_an_error_and_is_not_followed(status: int) -> None:
    elsewhere = Hostile([sends(answer())] * 10)
    async with serving(elsewhere.handle) as other_port:
        location = f"http://127.0.0.1:{other_port}{PATH}"
        redirect = f"HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
        server = Hostile([sends(redirect.encode())])
        async with (
            serving(server.handle) as port,
            opened(BotApiRequest(2)) as request,
            watched() as watch,
        ):
            async with asyncio.timeout(DEADLINE + SLACK):
                with pytest.raises(NetworkError, match=f"\\({status}\\)"):
                    await bot_on(f"http://127.0.0.1:{port}", request).get_me(**TIMEOUTS)
    assert elsewhere.requests == []
    assert_contained(watch, server)


# --- the environment -----------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy or CA settings from the machine running the tests."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return monkeypatch


@dataclass
class Proxy:
    """A forward proxy: answers plain-HTTP requests itself (recording their request line)
    and tunnels CONNECT to `tunnel_port` on 127.0.0.1, whatever host was asked for."""

    tunnel_port: int = 0
    request_lines: list[str] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            head = await reader.readuntil(b"\r\n\r\n")
            line = head.split(b"\r\n", 1)[0].decode()
            self.request_lines.append(line)
            if not line.startswith("CONNECT "):
                length = re.search(rb"Content-Length: (\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                writer.write(answer())
                await writer.drain()
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.tunnel_port
            )
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        writer.close()


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def test_plain_http_goes_through_http_proxy(clean_environment: pytest.MonkeyPatch) -> None:
    proxy = Proxy()
    async with serving(proxy.handle) as proxy_port:
        clean_environment.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy_port}")
        async with opened(BotApiRequest(2)) as request:
            url = f"http://api.telegram.invalid{PATH}"  # resolved by nobody but the proxy
            assert await request.post(url, **TIMEOUTS) == {"n": 1}
    assert proxy.request_lines == [f"POST {url} HTTP/1.1"]


def ca_for(ca: trustme.CA, host: str) -> ssl.SSLContext:
    """A server context with `ca`'s certificate for `host`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(host).configure_cert(context)
    return context


async def test_https_tunnels_through_https_proxy(clean_environment: pytest.MonkeyPatch) -> None:
    ca = trustme.CA()
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    upstream = Hostile([sends(answer())])
    async with serving(upstream.handle, ca_for(ca, "api.telegram.invalid")) as tls_port:
        proxy = Proxy(tunnel_port=tls_port)
        async with serving(proxy.handle) as proxy_port:
            clean_environment.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy_port}")
            async with opened(BotApiRequest(2, tls=client_tls)) as request:
                url = f"https://api.telegram.invalid{PATH}"
                assert await request.post(url, **TIMEOUTS) == {"n": 1}
    assert proxy.request_lines == ["CONNECT api.telegram.invalid:443 HTTP/1.1"]
    assert upstream.requests[0].startswith(f"POST {PATH} HTTP/1.1".encode())


async def test_no_proxy_exempts_a_host(clean_environment: pytest.MonkeyPatch) -> None:
    proxy = Proxy()
    server = Hostile([sends(answer())])
    async with serving(proxy.handle) as proxy_port, serving(server.handle) as port:
        clean_environment.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy_port}")
        clean_environment.setenv("NO_PROXY", "localhost,127.0.0.1")
        async with opened(BotApiRequest(2)) as request:
            assert await request.post(f"http://127.0.0.1:{port}{PATH}", **TIMEOUTS) == {"n": 1}
    assert proxy.request_lines == []
    assert len(server.requests) == 1


async def test_proxies_are_read_once_when_the_client_is_built(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    """Not on every request, as aiohttp's `trust_env` does (~0.5 ms each)."""
    proxy = Proxy()
    async with serving(proxy.handle) as proxy_port:
        clean_environment.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy_port}")
        request = BotApiRequest(2)
        clean_environment.delenv("HTTP_PROXY")
        async with opened(request):
            assert await request.post(f"http://api.telegram.invalid{PATH}", **TIMEOUTS) == {"n": 1}
    assert len(proxy.request_lines) == 1


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def https_url(ca: trustme.CA) -> AsyncIterator[str]:
    """A server that answers with `answer()` over TLS, for "localhost", certified by `ca`."""
    async with serving(Hostile([sends(answer())]).handle, ca_for(ca, "localhost")) as port:
        yield f"https://localhost:{port}{PATH}"


async def test_ssl_cert_file_is_trusted(
    clean_environment: pytest.MonkeyPatch, ca: trustme.CA, https_url: str, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    clean_environment.setenv("SSL_CERT_FILE", str(ca_file))
    async with opened(BotApiRequest(2)) as request:
        assert await request.post(https_url, **TIMEOUTS) == {"n": 1}


async def test_ssl_cert_dir_is_trusted(
    clean_environment: pytest.MonkeyPatch, ca: trustme.CA, https_url: str, tmp_path: Path
) -> None:
    """A directory of certificates named by their subject hash, as `c_rehash` makes it."""
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    try:
        subject_hash = subprocess.run(
            ["openssl", "x509", "-subject_hash", "-noout", "-in", str(ca_file)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs the openssl command to name the certificate")
    ca_dir = tmp_path / "certs"
    ca_dir.mkdir()
    ca.cert_pem.write_to_path(str(ca_dir / f"{subject_hash}.0"))
    clean_environment.setenv("SSL_CERT_DIR", str(ca_dir))
    async with opened(BotApiRequest(2)) as request:
        assert await request.post(https_url, **TIMEOUTS) == {"n": 1}

"""The aiohttp transport under a real PTB `Bot`, against the fake Bot API: what goes on the
wire, and which PTB errors come back for timeouts and dead servers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot

from bot.adapters.telegram import RetryingRateLimiter
from bot.adapters.telegram_transport import AiohttpRequest, _redacted
from tests.fakes.telegram_api import FakeTelegram

CHAT = 1001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(fake.token, base_url=fake.base_url, request=AiohttpRequest(4, verify_tls=False))
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
    request = AiohttpRequest(2, verify_tls=False)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as error:
            await request.post(f"http://127.0.0.1:{port}/bot123:SECRET/getMe")
        assert not isinstance(error.value, TimedOut)  # nothing was sent: a retry is safe
        assert "SECRET" not in str(error.value)
    finally:
        await request.shutdown()


async def test_a_connection_lost_after_sending_is_an_unknown_outcome_and_not_retried() -> None:
    requests = 0

    async def read_then_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        await reader.readuntil(b"\r\n\r\n")
        requests += 1
        writer.close()

    server = await asyncio.start_server(read_then_hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    limiter = RetryingRateLimiter(overall_max_rate=100, backoff=0.01)
    request = AiohttpRequest(2, verify_tls=False)
    bot = ExtBot(
        "123:SECRET", base_url=f"http://127.0.0.1:{port}/bot", request=request, rate_limiter=limiter
    )
    await request.initialize()
    await limiter.initialize()
    try:
        with pytest.raises(TimedOut, match="may have been carried out"):
            await bot.send_message(CHAT, "did it arrive?")
    finally:
        await request.shutdown()
        server.close()
        await server.wait_closed()
    assert requests == 1


async def test_an_upload_to_a_server_that_stops_reading_times_out() -> None:
    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = await asyncio.start_server(never_read, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    bot = Bot("123:SECRET", base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest(2))
    await bot._request[1].initialize()  # no getMe: the server never answers
    try:
        async with asyncio.timeout(10):
            with pytest.raises(TimedOut):
                await bot.send_document(
                    CHAT,
                    document=bytes(32 * 2**20),  # more than the socket buffers take in
                    write_timeout=0.5,
                    read_timeout=0.5,
                    connect_timeout=0.5,
                    pool_timeout=0.5,
                )
    finally:
        await bot._request[1].shutdown()
        server.close()
        await server.wait_closed()


async def test_waiting_too_long_for_a_pooled_connection_sends_nothing(
    fake: FakeTelegram,
) -> None:
    request = AiohttpRequest(1, verify_tls=False)  # one connection, kept busy below
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


async def test_requests_before_initialize_are_refused() -> None:
    with pytest.raises(NetworkError, match="not initialized"):
        await AiohttpRequest().post("http://127.0.0.1:9/botTOKEN/getMe")


def test_errors_never_carry_the_token_in_a_url() -> None:
    text = "Cannot fetch http://127.0.0.1:1/bot123456:SECRET-part/sendMessage: boom"
    assert "SECRET" not in _redacted(text)
    assert "/bot<token>/sendMessage" in _redacted(text)

"""Message-path throughput: the real bot against a bare PTB echo bot, same fake Bot API.

    .venv/bin/python bench/telegram_throughput.py [--updates 5000] [--users 500]

Both bots are real python-telegram-bot `Application`s long-polling the in-process fake
Telegram server (tests/fakes/telegram_api.py) over HTTP on 127.0.0.1. The echo bot uses
PTB's own HTTP client (httpx) by default; `--echo-transport bot` gives it the bot's
transport (bot/adapters/telegram_transport.py) instead, to compare like with like.
The bot is `TelegramAdapter` with the real coach and a real SQLite file in
a temporary directory; messages rotate through a soreness report, "what should I roll?"
and /help from many distinct users (each answered with one message). Time runs from the
first push to the Nth recorded `sendMessage`. The N updates are split over alternating
echo/bot rounds (`--rounds`) and the ratio is the median of the per-round ratios, because
this machine's speed drifts by a factor of up to 2 within a minute.
The adapter's rate limiter stays on, with its overall cap (TELEGRAM_SEND_RATE) raised
to 1000/s so it measures our overhead rather than Telegram's 30 messages/s policy.
The last line is JSON:
`updates_per_s`, `echo_updates_per_s` and `ratio` (goal ≥ 0.85).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest, HTTPXRequest

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram_transport import BotApiRequest
from bot.core.coach import Coach
from bot.settings import Settings
from bot.storage import Storage
from tests.fakes.telegram_api import FakeTelegram

MESSAGES = ("calves 6/10", "what should I roll?", "/help")
WARMUP = 150


def push(fake: FakeTelegram, count: int, users: int, first_user: int) -> None:
    for i in range(count):
        fake.push_text(MESSAGES[i % len(MESSAGES)], user_id=first_user + i % users)


async def measure(fake: FakeTelegram, count: int, users: int, first_user: int) -> float:
    """Push `count` updates at once; seconds until the `count`-th sendMessage is answered."""
    fake.clear_calls()
    started = time.perf_counter()
    push(fake, count, users, first_user)
    await fake.wait_for_calls("sendMessage", count, timeout=max(60.0, count / 10))
    elapsed = time.perf_counter() - started
    failed = [c for c in fake.calls_to("sendMessage") if c.status != 200]
    if failed:
        raise RuntimeError(f"{len(failed)} sendMessage calls failed")
    return elapsed


async def rounds(fake: FakeTelegram, count: int, users: int, first_user: int) -> float:
    """A warm-up round in which every user writes once, then the measured one.

    Measured traffic comes from returning users, as a live bot's does: creating a user is
    a one-off cost per person, not per message.
    """
    await measure(fake, max(WARMUP, users), users, 100_000 + first_user)
    return await measure(fake, count, users, 100_000 + first_user)


# ---------------------------------------------------------------- the two bots


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    await message.reply_text(message.text)


def echo_application(
    fake: FakeTelegram, transport: str
) -> Application[Any, Any, Any, Any, Any, Any]:
    """A bare PTB echo bot on PTB's HTTP client (httpx) or on the bot's own."""
    requests: tuple[BaseRequest, BaseRequest]
    if transport == "bot":
        requests = (BotApiRequest(64, verify_tls=False), BotApiRequest(2, verify_tls=False))
    else:
        requests = (
            HTTPXRequest(connection_pool_size=64, httpx_kwargs={"verify": False}),
            HTTPXRequest(connection_pool_size=2, httpx_kwargs={"verify": False}),
        )
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .request(requests[0])
        .get_updates_request(requests[1])
        .job_queue(None)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


async def run_echo(
    fake: FakeTelegram, count: int, users: int, first_user: int, transport: str
) -> float:
    app = echo_application(fake, transport)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        elapsed = await rounds(fake, count, users, first_user)
        await app.updater.stop()
        await app.stop()
    return elapsed


async def run_bot(
    fake: FakeTelegram, count: int, users: int, workdir: Path, first_user: int = 0
) -> float:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=fake.token,
        telegram_base_url=fake.base_url,
        telegram_base_file_url=fake.base_file_url,
        telegram_send_rate=1000,
        bot_db_path=workdir / "bench.sqlite3",
    )
    with Storage(settings.bot_db_path) as store:
        adapter = TelegramAdapter(Coach(store), store, settings)
        await adapter.start()
        try:
            return await rounds(fake, count, users, first_user)
        finally:
            await adapter.stop()


async def main(
    count: int, users: int, round_count: int, transport: str = "httpx"
) -> dict[str, Any]:
    """Alternate echo and bot rounds so a slow patch of the machine hits both alike."""
    logging.basicConfig(level=logging.WARNING)
    per_round = max(1, count // round_count)
    echo_times: list[float] = []
    bot_times: list[float] = []
    async with FakeTelegram() as fake:
        with tempfile.TemporaryDirectory() as tmp:
            for index in range(round_count):
                offset = index * 1_000_000
                echo_times.append(await run_echo(fake, per_round, users, offset, transport))
                bot_times.append(await run_bot(fake, per_round, users, Path(tmp), offset))
    done = per_round * round_count
    bot_rate, echo_rate = done / sum(bot_times), done / sum(echo_times)
    paired = sorted(echo / bot for echo, bot in zip(echo_times, bot_times, strict=True))
    return {
        "updates": done,
        "rounds": round_count,
        "users": users,
        "echo_transport": transport,
        "round_ratios": [round(r, 3) for r in paired],
        "updates_per_s": round(bot_rate, 1),
        "echo_updates_per_s": round(echo_rate, 1),
        # The median of per-round ratios: each bot round is paired with the echo round run
        # just before it, so a slow patch of the machine does not land on one side only.
        "ratio": round(statistics.median(paired), 3),
        "total_ratio": round(bot_rate / echo_rate, 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=5_000, help="updates per bot (5000)")
    parser.add_argument("--users", type=int, default=500, help="distinct users (500)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds (10)")
    parser.add_argument(
        "--echo-transport",
        choices=("httpx", "bot"),
        default="httpx",
        help="the echo bot's HTTP client: PTB's default (httpx) or the bot's own",
    )
    args = parser.parse_args()
    result = asyncio.run(main(args.updates, args.users, args.rounds, args.echo_transport))
    print(
        f"bot {result['updates_per_s']}/s, echo {result['echo_updates_per_s']}/s "
        f"over {args.updates} updates from {args.users} users"
    )
    print(json.dumps(result))

"""Message-path throughput and fairness: the real bot against a bare PTB echo bot.

    .venv/bin/python bench/telegram_throughput.py [--updates 5000] [--users 500]
    .venv/bin/python bench/telegram_throughput.py --latency 100   # one round-trip time only

Both bots are real python-telegram-bot `Application`s long-polling the in-process fake
Telegram server (tests/fakes/telegram_api.py) over HTTP on 127.0.0.1, which answers every
request after `--latency` milliseconds (default: a run at 0 ms, then one at 100 ms, about
the real Bot API's round trip). The echo bot handles updates concurrently
(`concurrent_updates(True)`: up to 256 at once, no ordering) and uses PTB's own HTTP client
(httpx) by default; `--echo-transport bot` gives it the bot's transport
(bot/adapters/telegram/transport.py) instead, to compare like with like.
The bot is `TelegramAdapter` with the real coach and a real SQLite file in a temporary
directory.

Throughput: messages rotate through a soreness report, "what should I roll?" and /help from
many distinct users (each answered with one message). Time runs from the first push to the
Nth recorded `sendMessage`. The N updates are split over alternating echo/bot rounds
(`--rounds`) and the ratio is the median of the per-round ratios, because this machine's
speed drifts by a factor of up to 2 within a minute. The adapter's rate limiter stays on,
with its overall cap (TELEGRAM_SEND_RATE) raised to 1000/s so it measures our overhead
rather than Telegram's 30 messages/s policy.

Fairness (`--flood`): one user sends 500 messages at once, then another user sends /help;
the figure is the time until that /help is answered. Baselines from the same run: the same
/help on the idle bot, and the echo bot under the same flood.

The last line is JSON, one entry per latency: `updates_per_s`, `echo_updates_per_s` and
`ratio` (goal at 100 ms: ≥ 0.85), and `flood` with `help_s` (goal at 100 ms: ≤ 2 s).
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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest, HTTPXRequest

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram.rendering import escape
from bot.adapters.telegram.transport import BotApiRequest
from bot.core.coach import Coach
from bot.core.content import default_library
from bot.settings import Settings
from bot.storage import Storage
from tests.fakes.telegram_api import FakeTelegram

MESSAGES = ("calves 6/10", "what should I roll?", "/help")
WARMUP = 150
T = TypeVar("T")
Scenario = Callable[[FakeTelegram, int], Awaitable[T]]


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


def throughput(count: int, users: int) -> Scenario[float]:
    """A warm-up round in which every user writes once, then the measured one.

    Measured traffic comes from returning users, as a live bot's does: creating a user is
    a one-off cost per person, not per message.
    """

    async def scenario(fake: FakeTelegram, first_user: int) -> float:
        await measure(fake, max(WARMUP, users), users, first_user)
        return await measure(fake, count, users, first_user)

    return scenario


async def answered(fake: FakeTelegram, chat_id: int, timeout: float) -> None:
    """Until a sendMessage to `chat_id` has been answered."""
    deadline = time.perf_counter() + timeout
    seen = 0  # calls already looked at: the fake only appends
    while True:
        calls = fake.calls_to("sendMessage")
        for call in calls[seen:]:
            if call.status is None:
                break
            if call.params.get("chat_id") == chat_id:
                return
            seen += 1
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no answer to {chat_id} within {timeout} s")
        await asyncio.sleep(0.002)


async def ask_help(fake: FakeTelegram, user: int, timeout: float) -> float:
    fake.clear_calls()
    started = time.perf_counter()
    fake.push_text("/help", user_id=user)
    await answered(fake, user, timeout)
    return time.perf_counter() - started


def flood(size: int, timeout: float) -> Scenario[dict[str, Any]]:
    """One user sends `size` messages at once, then another sends /help.

    Both are returning users (a warm-up message each). `idle_s` is the same /help with no
    flood, on the same bot.
    """

    async def scenario(fake: FakeTelegram, first_user: int) -> dict[str, Any]:
        flooder, asker = first_user + 1, first_user + 2
        fake.push_text("hi", user_id=flooder)
        await ask_help(fake, asker, timeout)
        idle = min([await ask_help(fake, asker, timeout) for _ in range(3)])
        fake.clear_calls()
        started = time.perf_counter()
        push(fake, size, 1, flooder)
        fake.push_text("/help", user_id=asker)
        await answered(fake, asker, timeout)
        return {"help_s": time.perf_counter() - started, "idle_s": idle, "flooder": flooder}

    return scenario


# ---------------------------------------------------------------- the two bots


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    await message.reply_text(message.text)


def echo_application(
    fake: FakeTelegram, transport: str
) -> Application[Any, Any, Any, Any, Any, Any]:
    """A bare PTB echo bot, updates handled concurrently, on httpx or on the bot's client."""
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
        .concurrent_updates(True)
        .job_queue(None)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


async def run_echo(fake: FakeTelegram, transport: str, scenario: Scenario[T], first: int) -> T:
    app = echo_application(fake, transport)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        try:
            return await scenario(fake, first)
        finally:
            await app.updater.stop()
            await app.stop()


async def run_bot(fake: FakeTelegram, workdir: Path, scenario: Scenario[T], first: int) -> T:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=fake.token,
        telegram_base_url=fake.base_url,
        telegram_base_file_url=fake.base_file_url,
        telegram_send_rate=1000,
        bot_db_path=workdir / "bench.sqlite3",
    )
    with Storage(settings.bot_db_path) as store:
        adapter = TelegramAdapter(Coach(store), settings)
        await adapter.start()
        try:
            return await scenario(fake, first)
        finally:
            await adapter.stop()  # finishes what is queued, the flooder's backlog too


# ---------------------------------------------------------------- one latency


async def at_latency(  # noqa: PLR0917 - the command line's knobs
    latency_ms: float, count: int, users: int, round_count: int, transport: str, flood_size: int
) -> dict[str, Any]:
    """Alternate echo and bot rounds so a slow patch of the machine hits both alike."""
    per_round = max(1, count // round_count)
    echo_times: list[float] = []
    bot_times: list[float] = []
    result: dict[str, Any] = {"latency_ms": latency_ms}
    timeout = max(60.0, flood_size * (0.01 + latency_ms / 1000) * 2)
    async with FakeTelegram(latency=latency_ms / 1000) as fake:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            for index in range(round_count):
                first = 100_000 + index * 1_000_000
                scenario = throughput(per_round, users)
                echo_times.append(await run_echo(fake, transport, scenario, first))
                bot_times.append(await run_bot(fake, workdir, scenario, first))
            if flood_size:
                first = 50_000_000
                echo_flood = await run_echo(fake, transport, flood(flood_size, timeout), first)
                bot_flood = await run_bot(fake, workdir, flood(flood_size, timeout), first)
                result["flood"] = flood_figures(fake, flood_size, bot_flood, echo_flood)
    done = per_round * round_count
    bot_rate, echo_rate = done / sum(bot_times), done / sum(echo_times)
    paired = sorted(echo / bot for echo, bot in zip(echo_times, bot_times, strict=True))
    result.update(
        updates=done,
        rounds=round_count,
        users=users,
        echo_transport=transport,
        round_ratios=[round(r, 3) for r in paired],
        updates_per_s=round(bot_rate, 1),
        echo_updates_per_s=round(echo_rate, 1),
        # The median of per-round ratios: each bot round is paired with the echo round run
        # just before it, so a slow patch of the machine does not land on one side only.
        ratio=round(statistics.median(paired), 3),
        total_ratio=round(bot_rate / echo_rate, 3),
    )
    return result


def flood_figures(
    fake: FakeTelegram, size: int, bot: dict[str, Any], echo: dict[str, Any]
) -> dict[str, Any]:
    """The bot's flood figures; the fake's calls are the bot's (its run came last)."""
    sent = [c.params.get("text", "") for c in fake.calls_to("sendMessage") if c.status == 200]
    to_flooder = [
        c.params.get("text", "")
        for c in fake.calls_to("sendMessage")
        if c.status == 200 and c.params.get("chat_id") == bot["flooder"]
    ]
    slow_down = default_library().messages.get("slow_down")  # None before it existed
    return {
        "messages": size,
        "help_s": round(bot["help_s"], 3),
        "idle_help_s": round(bot["idle_s"], 3),
        "ratio_to_idle": round(bot["help_s"] / bot["idle_s"], 2),
        "echo_help_s": round(echo["help_s"], 3),
        "ratio_to_echo": round(bot["help_s"] / echo["help_s"], 2),
        "flooder_answers": len(to_flooder),
        "slow_downs": sum(
            slow_down is not None and text == escape(slow_down) for text in to_flooder
        ),
        "sends": len(sent),
    }


async def main(  # noqa: PLR0917 - the command line's knobs
    count: int,
    users: int,
    round_count: int,
    transport: str = "httpx",
    latencies: tuple[float, ...] = (0.0, 100.0),
    flood_size: int = 500,
) -> list[dict[str, Any]]:
    logging.basicConfig(level=logging.WARNING)
    return [
        await at_latency(latency, count, users, round_count, transport, flood_size)
        for latency in latencies
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=5_000, help="updates per bot (5000)")
    parser.add_argument("--users", type=int, default=500, help="distinct users (500)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds (10)")
    parser.add_argument(
        "--latency",
        type=float,
        action="append",
        help="the fake Bot API's answer time in ms; repeatable (default: 0 and 100)",
    )
    parser.add_argument(
        "--flood", type=int, default=500, help="the flooding user's messages (500; 0: skip)"
    )
    parser.add_argument(
        "--echo-transport",
        choices=("httpx", "bot"),
        default="httpx",
        help="the echo bot's HTTP client: PTB's default (httpx) or the bot's own",
    )
    args = parser.parse_args()
    latencies = tuple(args.latency or (0.0, 100.0))
    results = asyncio.run(
        main(args.updates, args.users, args.rounds, args.echo_transport, latencies, args.flood)
    )
    for result in results:
        print(
            f"{result['latency_ms']:g} ms: bot {result['updates_per_s']}/s, "
            f"echo {result['echo_updates_per_s']}/s, ratio {result['ratio']} "
            f"over {result['updates']} updates from {args.users} users"
        )
        if "flood" in result:
            f = result["flood"]
            print(
                f"{result['latency_ms']:g} ms: /help behind a {f['messages']}-message flood "
                f"answered in {f['help_s']} s (idle {f['idle_help_s']} s, ratio "
                f"{f['ratio_to_idle']}; echo bot {f['echo_help_s']} s, ratio "
                f"{f['ratio_to_echo']}); flooder got {f['flooder_answers']} answers, "
                f"{f['slow_downs']} of them 'slow down'"
            )
    print(json.dumps(results))

"""Interaction throughput: the Discord adapter with the real coach against a bare discord.py
bot that only acknowledges, in the same run.

    .venv/bin/python bench/discord_throughput.py [--interactions 2000] [--users 200]
    .venv/bin/python bench/discord_throughput.py --latency 100   # REST answers after 100 ms

Both are real `discord.Client`s on the gateway of the in-process fake Discord
(tests/fakes/discord_api.py) over 127.0.0.1, zlib-stream as discord.py asks. The bot is
`DiscordAdapter` with the real coach and a real SQLite file in a temporary directory; the
echo bot has the same slash commands (its own `CommandTree`) and answers each run with one
short message. discord.py's URLs are process-wide (bot/adapters/discord/endpoints.py), so
the two share one fake and take turns: one is connected while its round runs.

A round pushes its interactions at once, slash commands rotating through /roll with
options, /sore with a report and /help from many distinct users (returning users: each
wrote once in a warm-up), and runs from the first push until every interaction has its
answer. Rounds alternate echo/bot and the ratio is the median of the paired rounds'
ratios: this machine's speed drifts within a minute. Interactions the fake refused as
older than Discord's 3 s window are counted (`late`): the goal is none.

The last line is JSON: `per_s`, `echo_per_s`, `ratio` (goal ≥ 0.85), `late`, `rounds`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import discord
from discord import app_commands

from bot.adapters.discord import DiscordAdapter
from bot.adapters.discord.endpoints import Endpoints, point_discord_py_at
from bot.core.coach import Coach
from bot.settings import Settings
from bot.storage import Storage
from tests.fakes.discord_api import FakeDiscord, Interaction

FIRST_USER = 1400000000000000000
COMMANDS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("roll", {"minutes": 10, "workout": "run"}),
    ("sore", {"text": "calves 6/10"}),
    ("help", {}),
    ("roll", {"minutes": 15}),
)
CALLBACK = "POST /interactions/{interaction_id}/{token}/callback"


class EchoBot(discord.Client):
    """A bare discord.py bot: the same slash commands, each answered with one message."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents(guilds=True), guild_ready_timeout=0.01)
        self.tree = app_commands.CommandTree(self)
        self.connected = asyncio.Event()

        @self.tree.command(name="roll", description="Get a foam rolling routine right now")
        async def roll(
            interaction: discord.Interaction,
            minutes: app_commands.Range[int, 5, 20] | None = None,
            workout: str | None = None,
            text: str | None = None,
        ) -> None:
            await interaction.response.send_message("ok")

        @self.tree.command(name="sore", description="Log how sore an area is")
        async def sore(interaction: discord.Interaction, text: str | None = None) -> None:
            await interaction.response.send_message("ok")

        @self.tree.command(name="help", description="What I can do and how to use me")
        async def help_(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("ok")

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_connect(self) -> None:
        self.connected.set()


@contextlib.asynccontextmanager
async def echo_bot(fake: FakeDiscord) -> Any:
    undo = point_discord_py_at(Endpoints(fake.api_base_url, _url(fake.gateway_url)))
    client = EchoBot()
    try:
        await client.login(fake.token)
        task = asyncio.create_task(client.connect())
        await asyncio.wait_for(client.connected.wait(), 30)
        yield client
        await client.close()
        with contextlib.suppress(Exception):
            await task
    finally:
        undo()


def _url(text: str) -> Any:
    import yarl

    return yarl.URL(text)


@contextlib.asynccontextmanager
async def coach_bot(fake: FakeDiscord, store: Storage, folder: Path) -> Any:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_bot_token=fake.token,
        discord_api_base_url=fake.api_base_url,
        discord_gateway_url=fake.gateway_url,
        bot_db_path=folder / "bot.sqlite3",
    )
    adapter = DiscordAdapter(Coach(store), settings, guild_ready_timeout=0.01)
    async with adapter.running():
        yield adapter


async def run_round(fake: FakeDiscord, count: int, users: int, offset: int) -> tuple[float, int]:
    """Push `count` interactions at once; seconds until all are answered, and how many
    were refused as late."""
    pushed: list[Interaction] = []
    started = time.perf_counter()
    for n in range(count):
        name, options = COMMANDS[(offset + n) % len(COMMANDS)]
        user = FIRST_USER + (offset + n) % users
        pushed.append(await fake.push_slash(name, options, user_id=user))
    late: set[int] = set()

    def answered() -> bool:
        for interaction in pushed:
            if interaction.messages:
                continue
            if interaction.id in late:
                continue
            return False
        return True

    def refused() -> None:
        for call in fake.calls_to(CALLBACK):
            if call.status == 404:
                late.add(int(call.path.split("/")[4]))

    while not answered():
        refused()
        await asyncio.sleep(0.001)
    elapsed = time.perf_counter() - started
    await settle(fake)
    return elapsed, len(late)


async def settle(fake: FakeDiscord, quiet: float = 0.05) -> None:
    """Wait until no request has arrived for `quiet` seconds (a turn's last followups)."""
    seen = -1
    while seen != len(fake.calls):
        seen = len(fake.calls)
        await asyncio.sleep(quiet)


async def main(interactions: int, users: int, rounds: int, latency_ms: float) -> dict[str, Any]:
    per_round = max(1, interactions // rounds)
    results: list[dict[str, float]] = []
    late = 0
    with tempfile.TemporaryDirectory() as folder:
        async with FakeDiscord(latency=latency_ms / 1000) as fake:
            with Storage(Path(folder) / "bot.sqlite3") as store:
                async with coach_bot(fake, store, Path(folder)):  # warm-up: users exist
                    await run_round(fake, users, users, 0)
                for number in range(rounds):
                    offset = (number + 1) * per_round
                    async with echo_bot(fake):
                        echo_s, _ = await run_round(fake, per_round, users, offset)
                    async with coach_bot(fake, store, Path(folder)):
                        bot_s, refused = await run_round(fake, per_round, users, offset)
                    late += refused
                    fake.calls.clear()
                    results.append(
                        {
                            "echo_per_s": per_round / echo_s,
                            "per_s": per_round / bot_s,
                            "ratio": echo_s / bot_s,
                        }
                    )
                    print(
                        f"round {number + 1}: bot {per_round / bot_s:.1f}/s, "
                        f"echo {per_round / echo_s:.1f}/s, ratio {echo_s / bot_s:.3f}",
                        flush=True,
                    )
    return {
        "interactions": per_round * rounds,
        "users": users,
        "latency_ms": latency_ms,
        "per_s": round(statistics.median(r["per_s"] for r in results), 1),
        "echo_per_s": round(statistics.median(r["echo_per_s"] for r in results), 1),
        "ratio": round(statistics.median(r["ratio"] for r in results), 3),
        "late": late,
        "rounds": [{k: round(v, 3) for k, v in r.items()} for r in results],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interactions", type=int, default=2_000, help="per bot (2000)")
    parser.add_argument("--users", type=int, default=200, help="distinct users (200)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds (10)")
    parser.add_argument("--latency", type=float, default=0.0, help="REST answer delay, ms (0)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(main(args.interactions, args.users, args.rounds, args.latency))
    print(json.dumps(result))

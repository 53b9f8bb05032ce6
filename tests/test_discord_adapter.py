"""The Discord adapter end to end: real discord.py, real SQLite, the fake Discord.

Every flow goes through a real `discord.Client` connected to `FakeDiscord` on 127.0.0.1:
its gateway (zlib-stream, READY, dispatches pushed by the test) and its REST API. Nothing
of discord.py is mocked; faults (429, 5xx, 403) are injected by the fake server.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from discord import app_commands

from bot.adapters.buttons import TOKEN_MARK
from bot.adapters.discord import DiscordAdapter
from bot.adapters.discord.channels import without_mention
from bot.adapters.discord.limits import InvalidRequests
from bot.adapters.discord.rendering import CAPABILITIES, render_reply
from bot.core.clock import clock_starting_at
from bot.core.coach import Coach, Outcome
from bot.core.commands import OPTIONS, Command
from bot.core.content import Library
from bot.core.memory import MemoryStore
from bot.core.ports import Delivery
from bot.core.recommend import MAX_MINUTES, MIN_MINUTES
from bot.core.replies import Attachment, Button, Image, Reply
from bot.settings import Settings, SettingsError, load_settings
from bot.storage import Storage
from tests.conversation import FakeClock
from tests.fakes.discord_api import (
    EPHEMERAL,
    MESSAGE_CONTENT,
    PRIVILEGED,
    USER_ID,
    FakeDiscord,
    Interaction,
    JSONDict,
)
from tests.fakes.telegram_api import FakeTelegram
from tests.processes import stop_gracefully

ROOT = Path(__file__).resolve().parents[1]
SINCE = datetime(2020, 1, 1, tzinfo=UTC)
OTHER_USER = 1300000000000000002
MESSAGES_ROUTE = "POST /channels/{channel_id}/messages"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


def make_settings(fake: FakeDiscord, tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "discord_bot_token": fake.token,
        "discord_api_base_url": fake.api_base_url,
        "discord_gateway_url": fake.gateway_url,
        "bot_db_path": tmp_path / "bot.sqlite3",
    }
    return Settings(_env_file=None, **{**values, **extra})  # type: ignore[call-arg]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Storage]:
    with Storage(tmp_path / "bot.sqlite3") as storage:
        yield storage


@pytest.fixture
def dc_coach(store: Storage, clock: FakeClock) -> Coach:
    return Coach(store, clock=clock, default_tz="Europe/Berlin")


def new_adapter(coach: Coach, fake: FakeDiscord, tmp_path: Path, **extra: Any) -> DiscordAdapter:
    limit = extra.pop("invalid_request_limit", 2_500)
    return DiscordAdapter(
        coach,
        make_settings(fake, tmp_path, **extra),
        guild_ready_timeout=0.01,
        invalid_request_limit=limit,
    )


@pytest.fixture
async def adapter(
    fake: FakeDiscord, dc_coach: Coach, tmp_path: Path
) -> AsyncIterator[DiscordAdapter]:
    bot = new_adapter(dc_coach, fake, tmp_path)
    async with bot.running():
        yield bot


# --------------------------------------------------------------------------- helpers


def shown(message: JSONDict) -> str:
    """What a user reads of a message: the embeds' titles and text."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds", []):
        parts += [embed.get("title") or "", embed.get("description") or ""]
    return "\n".join(part for part in parts if part)


def custom_id(message: JSONDict, label: str) -> str:
    """The custom_id of the button whose label contains `label`."""
    for row in message.get("components", []):
        for button in row["components"]:
            if label.lower() in button.get("label", "").lower():
                return str(button["custom_id"])
    raise AssertionError(f"no button {label!r} in {message.get('components')}")


def labels(message: JSONDict) -> list[str]:
    return [b["label"] for row in message.get("components", []) for b in row["components"]]


def ephemeral(message: JSONDict) -> bool:
    return bool(int(message.get("flags", 0)) & EPHEMERAL)


async def slash(
    fake: FakeDiscord,
    name: str,
    options: dict[str, Any] | None = None,
    *,
    count: int = 1,
    **kw: Any,
) -> tuple[Interaction, list[JSONDict]]:
    interaction = await fake.push_slash(name, options, **kw)
    return interaction, await fake.replies(interaction, count)


async def press(
    fake: FakeDiscord, message: JSONDict, label: str, *, count: int = 1, **kw: Any
) -> tuple[Interaction, list[JSONDict]]:
    interaction = await fake.push_button(message, custom_id(message, label), **kw)
    return interaction, await fake.replies(interaction, count)


async def dm(
    fake: FakeDiscord, text: str, count: int = 1, user_id: int = USER_ID
) -> list[JSONDict]:
    """The user writes in their DM; returns the bot's new messages there."""
    before = len(fake.dms_to(user_id))
    await fake.push_message(text, user_id=user_id)
    await fake.wait_for(lambda: len(fake.dms_to(user_id)) >= before + count)
    return fake.dms_to(user_id)[before:]


def user_of(store: Storage, user_id: int = USER_ID) -> Any:
    return store.user_for("discord", str(user_id), "Europe/Berlin")


# --------------------------------------------------------------------------- start-up


async def test_the_gateway_is_identified_without_privileged_intents(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    (query,) = fake.gateway_queries
    assert query == {"v": "10", "encoding": "json", "compress": "zlib-stream"}  # no zstandard
    (identify,) = fake.identifies
    assert identify["token_ok"]
    assert identify["intents"] & PRIVILEGED == 0
    assert fake.heartbeats >= 1  # discord.py beats at HELLO; the fake ACKs
    assert adapter.client is not None and adapter.client.user is not None
    assert adapter.client.user.id == fake.bot_id
    assert adapter.client.get_guild(fake.guild_id) is not None  # GUILD_CREATE arrived


async def test_slash_commands_are_synced_globally_with_typed_options(
    adapter: DiscordAdapter, fake: FakeDiscord, library: Library
) -> None:
    commands = {c["name"]: c for c in fake.commands[None]}
    assert list(commands) == list(library.commands)
    assert all(c["description"] == library.commands[name] for name, c in commands.items())
    roll = {o["name"]: o for o in commands["roll"]["options"]}
    assert roll["minutes"]["type"] == 4  # INTEGER
    assert (roll["minutes"]["min_value"], roll["minutes"]["max_value"]) == (5, 20)
    assert roll["workout"]["type"] == 3
    assert [c["value"] for c in roll["workout"]["choices"]] == list(library.workouts)
    assert roll["workout"]["choices"][0]["name"] == library.workouts["run"].name
    assert [o["name"] for o in commands["sore"]["options"]] == ["text"]
    assert not any(o.get("required") for c in commands.values() for o in c.get("options", []))


async def test_commands_go_to_one_guild_when_a_guild_is_set(
    fake: FakeDiscord, dc_coach: Coach, tmp_path: Path
) -> None:
    bot = new_adapter(dc_coach, fake, tmp_path, discord_guild_id=fake.guild_id)
    async with bot.running():
        assert None not in fake.commands
        assert len(fake.commands[fake.guild_id]) == len(dc_coach.library.commands)
        interaction, (reply,) = await slash(fake, "roll", {"minutes": 5}, guild_id=fake.guild_id)
        assert interaction.payload["data"]["guild_id"] == str(fake.guild_id)
        assert "5-minute" in shown(reply)


# --------------------------------------------------------------------------- flows


async def test_slash_roll_arrives_as_a_structured_command(
    adapter: DiscordAdapter, fake: FakeDiscord, dc_coach: Coach, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Command] = []
    real = dc_coach.command

    def spy(sender: Any, command: Command) -> Outcome:
        seen.append(command)
        return real(sender, command)

    monkeypatch.setattr(dc_coach, "command", spy)
    interaction, (reply,) = await slash(fake, "roll", {"minutes": 15, "workout": "lower_body"})
    assert seen == [Command("roll", {"minutes": 15, "workout": "lower_body"})]
    assert interaction.callback == 4  # answered at once, no defer
    (embed,) = reply["embeds"]
    assert embed["title"] == "Your 15-minute rolling routine"
    assert "lower-body" in embed["description"].lower()
    assert custom_id(reply, "10 min") == "r:10:lower_body"
    assert not ephemeral(reply)


async def test_sore_then_the_fix_buttons(
    adapter: DiscordAdapter, fake: FakeDiscord, store: Storage
) -> None:
    _, (noted,) = await slash(fake, "sore", {"text": "quads are sore"})
    assert "quads 5/10" in shown(noted)
    tap, (choose,) = await press(fake, noted, "Change severity")
    assert tap.callback == 7  # the tapped message, edited: that is the acknowledgement
    assert tap.updated is not None
    assert shown(tap.updated).endswith("→ Change severity")
    assert tap.updated["components"] == []
    _, (updated,) = await press(fake, choose, "3")
    assert "quads 3/10" in shown(updated)
    reports = store.soreness_since(user_of(store).id, SINCE)
    assert [(r.area, r.severity) for r in reports] == [("quads", 3)]


async def test_a_dm_soreness_report_and_a_typed_yes_to_a_read_back(
    adapter: DiscordAdapter, fake: FakeDiscord, store: Storage
) -> None:
    (noted,) = await dm(fake, "my calves are killing me")
    assert "calves 9/10" in shown(noted)
    (proposal,) = await dm(fake, "/schedule add Mon Wed Fri 18:00")
    assert any("Save" in label for label in labels(proposal))
    (saved,) = await dm(fake, "yes")
    assert "Saved" in shown(saved)
    user = user_of(store)
    assert len(store.schedules(user.id)) == 3
    assert [(r.area, r.severity) for r in store.soreness_since(user.id, SINCE)] == [("calves", 9)]
    assert user.chat_id == str(fake.dm_channels[USER_ID])  # where nudges will go


async def test_in_a_server_only_mentions_are_answered(
    adapter: DiscordAdapter, fake: FakeDiscord, store: Storage
) -> None:
    channel = fake.guild_channel()
    ignored = await fake.push_message("calves 6/10", guild_id=fake.guild_id)
    assert ignored["_dispatched_to"] == 1  # it did reach the bot, with its content withheld
    await fake.push_message("hamstrings 4/10", guild_id=fake.guild_id, mention=True)
    await fake.wait_for(lambda: fake.bot_messages(channel))
    (answer,) = fake.bot_messages(channel)  # events are handled in order: the first got none
    assert "hamstrings 4/10" in shown(answer)
    reports = store.soreness_since(user_of(store).id, SINCE)
    assert [(r.area, r.severity) for r in reports] == [("hamstrings", 4)]
    assert (call := fake.calls_to(MESSAGES_ROUTE)[-1]).body["message_reference"]["message_id"]
    assert call.body["allowed_mentions"]["parse"] == []


async def test_state_is_per_user_across_servers_and_dms(
    adapter: DiscordAdapter, fake: FakeDiscord, store: Storage
) -> None:
    await fake.push_message("calves 6/10", guild_id=fake.guild_id, mention=True)
    await fake.wait_for(lambda: fake.bot_messages(fake.guild_channel()))
    _, (history, body_map) = await slash(fake, "history", count=2)  # summary, then the map
    assert "calves" in shown(history).lower() and "calves" in shown(body_map).lower()
    assert store.user_for("discord", str(USER_ID), "UTC").id == user_of(store).id


async def test_private_replies_are_ephemeral_in_servers_only(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    guild = fake.guild_id
    _, (settings,) = await slash(fake, "settings", guild_id=guild)
    assert ephemeral(settings)
    history, (shown_history,) = await slash(fake, "history", guild_id=guild)
    assert history.callback == 5 and history.deferred_ephemeral  # slow: deferred, privately
    assert ephemeral(shown_history)
    _, (routine,) = await slash(fake, "roll", guild_id=guild)
    assert not ephemeral(routine)
    _, (in_dm,) = await slash(fake, "settings")
    assert not ephemeral(in_dm)


async def test_a_private_answer_to_a_mention_goes_by_dm(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    channel = fake.guild_channel()
    await fake.push_message("/settings", guild_id=fake.guild_id, mention=True)
    await fake.wait_for(lambda: fake.bot_messages(channel) and fake.dms_to(USER_ID))
    (notice,) = fake.bot_messages(channel)
    assert "private chat" in shown(notice)
    (settings,) = fake.dms_to(USER_ID)
    assert "lead" in shown(settings).lower() or "quiet" in shown(settings).lower()
    fake.close_dms(OTHER_USER)
    await fake.push_message("/settings", user_id=OTHER_USER, guild_id=fake.guild_id, mention=True)
    await fake.wait_for(lambda: len(fake.bot_messages(channel)) == 2)
    assert "slash command" in shown(fake.bot_messages(channel)[1])


async def test_export_is_deferred_then_sent_as_a_file(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    interaction, (export,) = await slash(fake, "export")
    assert interaction.callback == 5
    assert fake.calls_to("PATCH /webhooks/{application_id}/{token}/messages/{message_id}")
    (attachment,) = export["attachments"]
    assert attachment["filename"].endswith(".json")
    assert json.loads(fake.uploads[attachment["id"]])["user"]["platform"] == "discord"


async def test_a_dropped_gateway_connection_is_resumed(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    await fake.drop_connections(code=1001)  # Discord going away: discord.py resumes
    await fake.wait_for(lambda: fake.resumes == 1 and fake.connected == 1)
    _, (reply,) = await slash(fake, "roll", {"minutes": 5})
    assert "5-minute" in shown(reply)
    assert len(fake.identifies) == 1


async def test_interactions_already_old_when_their_turn_comes_are_deferred_first(
    adapter: DiscordAdapter, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.adapters.discord.adapter.DEFER_AFTER", -1.0)  # "a backlog"
    command, (routine,) = await slash(fake, "roll", {"minutes": 5}, guild_id=fake.guild_id)
    assert command.callback == 5 and command.deferred_ephemeral  # fixed at defer: private
    assert "5-minute" in shown(routine)
    tap, (choose,) = await press(fake, routine, "10 min")
    assert tap.callback == 6  # a component's defer; the message edited after it
    assert tap.original is None and "10-minute" in shown(choose)
    edited = fake.messages[int(routine["id"])]
    assert edited["components"] == [] and shown(edited).endswith("→ 10 min")


async def test_a_persistent_button_works_after_a_restart(
    fake: FakeDiscord, dc_coach: Coach, store: Storage, tmp_path: Path
) -> None:
    async with new_adapter(dc_coach, fake, tmp_path).running():
        _, (noted,) = await slash(fake, "sore", {"text": "calves 7/10"})
    await fake.wait_for(lambda: fake.connected == 0)  # the first client is gone
    async with new_adapter(dc_coach, fake, tmp_path).running():  # a new client, a new process
        tap, (undone,) = await press(fake, noted, "Undo")
        assert tap.callback == 7
        assert "removed that report" in shown(undone)
    assert store.soreness_since(user_of(store).id, SINCE) == []


async def test_a_stale_button_gets_a_private_expired_line(
    adapter: DiscordAdapter, fake: FakeDiscord, store: Storage, library: Library
) -> None:
    _, (noted,) = await slash(fake, "sore", {"text": "calves 7/10"})
    old = copy.deepcopy(noted)
    old["components"][0]["components"][0]["custom_id"] = f"{TOKEN_MARK}9f"  # a lost token
    old["components"][0]["components"][1]["custom_id"] = "zz:unknown"
    for stale in (f"{TOKEN_MARK}9f", "zz:unknown"):
        tap = await fake.push_button(old, stale)
        (expired,) = await fake.replies(tap)
        assert tap.callback == 4 and tap.updated is None  # the message stays as it was
        assert ephemeral(expired)
        assert shown(expired) == library.messages["button_expired"]
    assert len(store.soreness_since(user_of(store).id, SINCE)) == 1


async def test_long_button_data_rides_on_a_token(
    adapter: DiscordAdapter, fake: FakeDiscord, dc_coach: Coach, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = "g:0:" + ",".join(f"area{n}.60" for n in range(20))  # > 100 characters
    monkeypatch.setitem(
        dc_coach.commands, "help", lambda turn, _: Reply("Go", buttons=((Button("Start", data),),))
    )
    pressed: list[str] = []
    monkeypatch.setitem(dc_coach.buttons, "g", lambda turn, arg: pressed.append(arg) or Reply("ok"))
    _, (reply,) = await slash(fake, "help")
    token = custom_id(reply, "Start")
    assert token.startswith(TOKEN_MARK) and len(token) <= 100
    _, (ok,) = await press(fake, reply, "Start")
    assert pressed == [data.removeprefix("g:")]
    assert shown(ok) == "ok"


# --------------------------------------------------------------------------- nudges


async def test_a_nudge_goes_by_dm(
    adapter: DiscordAdapter, fake: FakeDiscord, store: Storage
) -> None:
    user = user_of(store)
    assert (await adapter.send(user, Reply("Time to roll", title="Pre-workout"))).sent
    (nudge,) = fake.dms_to(USER_ID)
    assert shown(nudge) == "Pre-workout\nTime to roll"
    assert len(fake.calls_to("POST /users/@me/channels")) == 1
    user.chat_id = str(fake.dm_channels[USER_ID])  # known from their own DMs: no lookup
    assert (await adapter.send(user, Reply("again"))).sent
    assert len(fake.calls_to("POST /users/@me/channels")) == 1
    assert len(fake.dms_to(USER_ID)) == 2


async def test_a_403_on_the_dm_is_blocked_and_writes_nothing(
    adapter: DiscordAdapter, fake: FakeDiscord, store: Storage
) -> None:
    fake.close_dms(USER_ID)
    user = user_of(store)
    result = await adapter.send(user, Reply("nudge"))
    assert result.delivery is Delivery.BLOCKED
    assert "50007" in result.error and fake.token not in result.error
    assert not user_of(store).unreachable  # the scheduler's flag, not the adapter's
    user.unreachable = True
    calls = len(fake.calls)
    assert (await adapter.send(user, Reply("nudge"))).delivery is Delivery.BLOCKED
    assert len(fake.calls) == calls  # not asked again


async def test_429s_are_left_to_discord_py(
    adapter: DiscordAdapter, fake: FakeDiscord, store: Storage
) -> None:
    fake.fail_next(MESSAGES_ROUTE, 429, retry_after=0.05, times=2)
    assert (await adapter.send(user_of(store), Reply("nudge"))).sent
    assert [c.status for c in fake.calls_to(MESSAGES_ROUTE)] == [429, 429, 200]
    fake.fail_next(MESSAGES_ROUTE, 429, retry_after=120)  # longer than we let it wait
    result = await adapter.send(user_of(store), Reply("nudge"))
    assert result.delivery is Delivery.RETRY_LATER and result.retry_after == 120


async def test_a_5xx_is_retried(adapter: DiscordAdapter, fake: FakeDiscord, store: Storage) -> None:
    fake.fail_next(MESSAGES_ROUTE, 502)
    assert (await adapter.send(user_of(store), Reply("nudge"))).sent
    assert [c.status for c in fake.calls_to(MESSAGES_ROUTE)] == [502, 200]


async def test_repeated_invalid_requests_stop_the_sends(
    fake: FakeDiscord, dc_coach: Coach, store: Storage, tmp_path: Path
) -> None:
    async with new_adapter(dc_coach, fake, tmp_path, invalid_request_limit=3).running() as bot:
        for n in range(3):
            fake.close_dms(OTHER_USER + n)
            closed = user_of(store, OTHER_USER + n)
            assert (await bot.send(closed, Reply("nudge"))).delivery is Delivery.BLOCKED
        calls = len(fake.calls)
        result = await bot.send(user_of(store), Reply("nudge"))
        assert result.delivery is Delivery.RETRY_LATER and result.retry_after > 500
        assert len(fake.calls) == calls


def test_invalid_requests_count_in_a_window() -> None:
    now = [0.0]
    guard = InvalidRequests(limit=2, window=600, clock=lambda: now[0])
    guard.record(200)
    guard.record(429, scope="shared")  # Discord does not count those
    guard.record(403)
    assert guard.retry_after() == 0
    guard.record(401)
    assert guard.retry_after() == 600
    now[0] = 601
    assert guard.count == 0 and guard.retry_after() == 0


# --------------------------------------------------------------------------- failures


async def test_a_failing_handler_gets_the_error_line_and_the_bot_goes_on(
    adapter: DiscordAdapter,
    fake: FakeDiscord,
    dc_coach: Coach,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = dc_coach.command

    def broken(sender: Any, command: Command) -> Outcome:
        if command.name == "pause":
            raise RuntimeError("a bug")
        return real(sender, command)

    monkeypatch.setattr(dc_coach, "command", broken)
    _, (error,) = await slash(fake, "pause")
    assert ephemeral(error) and shown(error) == dc_coach.library.messages["error"]
    assert any(r.exc_info and r.name.startswith("bot.adapters.discord") for r in caplog.records)
    _, (fine,) = await slash(fake, "roll")
    assert "rolling routine" in shown(fine)


async def test_the_token_appears_in_no_log_record(
    fake: FakeDiscord,
    dc_coach: Coach,
    store: Storage,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("discord", "bot", "aiohttp", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    bot = new_adapter(dc_coach, fake, tmp_path)
    async with bot.running():
        for name in ("discord.http", "discord.webhook.async_", "discord.gateway"):
            caplog.set_level(logging.DEBUG, logger=name)  # start() quietens them: prove it holds
        await slash(fake, "roll", {"minutes": 10})
        await dm(fake, "calves 6/10")
        fake.fail_next(MESSAGES_ROUTE, 429, retry_after=0.01)
        fake.fail_next(MESSAGES_ROUTE, 403, code=50007)
        await bot.send(user_of(store), Reply("nudge"))
        await bot.send(user_of(store), Reply("nudge"))
    assert caplog.records
    assert any(r.name.startswith("discord.http") for r in caplog.records)
    for record in caplog.records:
        assert fake.token not in record.getMessage(), record.name
        assert fake.token not in (record.exc_text or ""), record.name
    assert fake.token not in caplog.text


async def test_a_refused_token_and_an_unreachable_api_are_startup_errors(
    fake: FakeDiscord, dc_coach: Coach, tmp_path: Path
) -> None:
    from bot.settings import StartupError

    settings = make_settings(fake, tmp_path).model_copy(
        update={"discord_bot_token": Settings(discord_bot_token="MTEx.bad.token").discord_bot_token}
    )
    with pytest.raises(StartupError, match="DISCORD_BOT_TOKEN: Discord refused the token"):
        async with DiscordAdapter(dc_coach, settings).running():
            pass
    gone = make_settings(fake, tmp_path, discord_api_base_url="http://127.0.0.1:9/api/v10")
    with pytest.raises(StartupError, match="DISCORD_API_BASE_URL: cannot reach"):
        async with DiscordAdapter(dc_coach, gone).running():
            pass


@pytest.mark.slow
async def test_a_refused_token_stops_python_m_bot_with_one_line(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": "",
        "DISCORD_BOT_TOKEN": "MTEx.REVOKED.SECRET-discord-token",
        "DISCORD_API_BASE_URL": fake.api_base_url,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "BOT_DB_PATH": str(tmp_path / "bot.sqlite3"),
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "DISCORD_BOT_TOKEN" in lines[0] and "refused" in lines[0]
    assert "REVOKED" not in result.stderr + result.stdout


def test_the_api_url_must_name_its_version() -> None:
    with pytest.raises(SettingsError, match="DISCORD_API_BASE_URL"):
        load_settings(_env_file=None, discord_api_base_url="https://discord.com/api")
    with pytest.raises(SettingsError, match="DISCORD_GATEWAY_URL"):
        load_settings(_env_file=None, discord_gateway_url="https://gateway.discord.gg")
    settings = load_settings(_env_file=None, discord_api_base_url="http://x/api/v10/")
    assert settings.discord_api_base_url == "http://x/api/v10"


async def test_the_gateway_comes_from_the_api_when_only_the_api_is_set(
    fake: FakeDiscord, dc_coach: Coach, tmp_path: Path
) -> None:
    settings = make_settings(fake, tmp_path).model_copy(update={"discord_gateway_url": None})
    async with DiscordAdapter(dc_coach, settings).running():
        assert fake.calls_to("GET /gateway/bot")
        assert fake.connected == 1


# --------------------------------------------------------------------------- rendering


def test_replies_fit_discords_limits() -> None:
    many = tuple(tuple(Button(f"Area {r}-{n}", f"ra:{r}-{n}") for n in range(7)) for r in range(6))
    long_label = Button("x" * 120, "h")
    reply = Reply("line\n" * 3000, title="T" * 300, buttons=(*many, (long_label,)))
    messages = render_reply(reply)
    for message in messages:
        assert len(message.embeds) <= 10
        assert sum(len(e.title or "") + len(e.description or "") for e in message.embeds) <= 6000
        assert all(len(e.description or "") <= 4096 for e in message.embeds)
    assert len(messages[0].embeds[0].title or "") <= 256
    rows = messages[-1].rows
    assert len(rows) <= 5 and all(len(row) <= 5 for row in rows)
    assert all(len(b.label) <= 80 for row in rows for b in row)
    assert all(not message.rows for message in messages[:-1])


def test_markdown_in_text_is_shown_as_typed() -> None:
    (message,) = render_reply(Reply("calves *really* sore_ish"))
    assert message.embeds[0].description == "calves \\*really\\* sore\\_ish"


def test_images_and_files_are_attachments() -> None:
    reply = Reply(
        "Your week",
        image=Image(PNG, "chart.png"),
        attachment=Attachment("export.json", b"{}"),
    )
    (message,) = render_reply(reply)
    assert message.embeds[-1].image.url == "attachment://chart.png"
    files = message.send_kwargs()["files"]
    assert [f.filename for f in files] == ["chart.png", "export.json"]


async def test_a_repeated_custom_id_keeps_its_first_button() -> None:
    (message,) = render_reply(
        Reply("x", buttons=((Button("Help", "h"), Button("Help again", "h")),))
    )
    view = message.send_kwargs()["view"]
    assert [item.custom_id for item in view.children] == ["h"]  # Discord refuses repeats
    assert view.is_finished()  # never tracked per message (see components.py)


def test_mentions_are_taken_out() -> None:
    assert without_mention("<@42> calves <@!42>  6/10", 42) == "calves 6/10"


def test_capabilities_are_discords() -> None:
    assert (CAPABILITIES.max_rows, CAPABILITIES.max_per_row) == (5, 5)
    assert (CAPABILITIES.max_label, CAPABILITIES.max_data) == (80, 100)
    assert CAPABILITIES.images and CAPABILITIES.files


# --------------------------------------------------------------------------- drift guard


def test_every_command_of_the_coach_is_a_slash_command_with_its_options(library: Library) -> None:
    import discord

    from bot.adapters.discord.slash import build_tree

    async def nothing(*_: Any) -> None:
        return None

    async def build() -> app_commands.CommandTree[Any]:
        return build_tree(discord.Client(intents=discord.Intents.none()), library, nothing)

    tree = asyncio.run(build())
    coach = Coach(MemoryStore(), library)
    commands = {command.name: command for command in tree.get_commands()}
    assert set(commands) == set(coach.commands) == set(library.commands)
    for name, options in OPTIONS.items():
        command = commands[name]
        assert isinstance(command, app_commands.Command)
        parameters = {p.name: p for p in command.parameters}
        assert list(parameters) == [option.name for option in options]
        for option in options:
            parameter = parameters[option.name]
            expected = {"int": "integer", "text": "string", "choice": "string"}[option.kind]
            assert parameter.type.name == expected and not parameter.required
            if option.kind == "choice":
                assert [c.value for c in parameter.choices] == list(option.choices)
    minutes = {p.name: p for p in commands["roll"].parameters}["minutes"]  # type: ignore[union-attr]
    assert (minutes.min_value, minutes.max_value) == (MIN_MINUTES, MAX_MINUTES)


# --------------------------------------------------------------------------- both platforms


def seed_due_nudges(db_path: Path, now: datetime, users: list[tuple[str, str, str]]) -> None:
    """One due pre-workout nudge for each (platform, platform id, chat id)."""
    session = (now + timedelta(minutes=30)).isoformat()
    with Storage(db_path) as store, store.transaction():
        for platform, platform_id, chat_id in users:
            user = store.user_for(platform, platform_id, "UTC")
            user.chat_id = chat_id or None
            user.onboarded = True
            store.save_user(user)
            store.enqueue_nudge(
                user.id,
                "pre_workout",
                now,
                {"ref": session, "session_at": session, "workout": "run"},
            )


@pytest.mark.slow
async def test_telegram_and_discord_run_in_one_process_each_user_gets_their_nudge(
    tmp_path: Path,
) -> None:
    start = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    db_path, log = tmp_path / "bot.sqlite3", tmp_path / "bot.log"
    telegram_chat = 4242
    seed_due_nudges(
        db_path,
        start,
        [("telegram", str(telegram_chat), str(telegram_chat)), ("discord", str(USER_ID), "")],
    )
    async with FakeTelegram() as telegram, FakeDiscord() as discord_fake:
        env = {
            **os.environ,
            "BOT_CLOCK_START": clock_starting_at(start)().isoformat(),
            "BOT_DB_PATH": str(db_path),
            "BOT_LOG_LEVEL": "DEBUG",
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_BASE_URL": telegram.base_url,
            "DISCORD_BOT_TOKEN": discord_fake.token,
            "DISCORD_API_BASE_URL": discord_fake.api_base_url,
            "DISCORD_GATEWAY_URL": discord_fake.gateway_url,
        }
        with log.open("wb") as out:
            bot = subprocess.Popen(
                [sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=out, stderr=out
            )
        try:
            await discord_fake.wait_for(
                lambda: discord_fake.dms_to(USER_ID) and telegram.calls_to("sendMessage"), 60
            )
            await discord_fake.wait_until_identified()
            _, (reply,) = await slash(discord_fake, "roll", {"minutes": 5})
        finally:
            await stop_gracefully(bot, timeout=20)
        (telegram_nudge,) = telegram.calls_to("sendMessage")
        (discord_nudge,) = discord_fake.dms_to(USER_ID)
    output = log.read_text()
    assert bot.returncode == 0, output[-2000:]
    assert telegram_nudge.params["chat_id"] == telegram_chat
    assert "roll" in shown(discord_nudge).lower()
    assert "5-minute" in shown(reply)
    with Storage(db_path) as store:
        assert store.nudge_counts()["sent"] == 2
    assert telegram.token.split(":", 1)[1] not in output
    assert discord_fake.token not in output


def test_the_privileged_intent_is_not_asked_for() -> None:
    from bot.adapters.discord.adapter import INTENTS

    assert INTENTS.value & MESSAGE_CONTENT == 0 and INTENTS.value & PRIVILEGED == 0

"""The Discord adapter: the whole coach over discord.py (≥ 2.7).

Incoming, through one `discord.Client` on the gateway:
- **Slash commands** (`slash`): one per command, typed options from
  `bot.core.commands.OPTIONS`, synced at start-up globally or to `DISCORD_GUILD_ID`. A run
  reaches the coach as `Coach.handle_command(sender, name, options)`.
- **Buttons** (`components`): every tap reaches `on_coach_button` through one dynamic item
  registered at start-up, so buttons on old messages work after a restart. The tapped
  message is edited to show the choice and loses its buttons (that edit is the
  acknowledgement); data the coach no longer knows gets an ephemeral "expired" line.
- **Messages** (`channels`): everything in a DM, mentions of the bot in servers. No
  privileged intent is asked for.

Every interaction is acknowledged within Discord's 3 seconds: the coach's turn is a few
milliseconds, so the first reply is the acknowledgement; commands whose work may be slow
(`SLOW_COMMANDS`), and interactions already `DEFER_AFTER` seconds old when their turn
comes, are deferred first (ephemerally in servers: whether an answer is ephemeral is fixed
at that moment, and it may hold personal data). A reply with a picture (a chart, a body
map) is drawn by `bot.pictures` off the event loop: a command is deferred while it draws
(Discord shows "thinking…"), a message gets the typing indicator; the PNG goes as an
attachment shown in the reply's last embed.

State is per Discord user (`Sender("discord", user id)`), the same in every server and in
DMs; a DM's channel id becomes the user's `chat_id`, where nudges go. In servers, replies
the coach marks `private` are ephemeral when answering an interaction, and go by DM when
answering a mention.

Outgoing: `DiscordAdapter.send` is the `Messenger` entry point the scheduler uses for
nudges: a DM (the channel opened when not known yet). A 403 there is `Delivery.BLOCKED`
(the scheduler marks the user unreachable; the adapter writes no state), a long 429
`RETRY_LATER`; see `limits` for rate limits and the invalid-request guard. A failing
handler is logged and answered with the error line; the bot keeps running.

Workers (several `python -m bot` on one PostgreSQL database, docs/scaling.md): with
`DISCORD_SHARD_COUNT` 1, one worker holds the `discord-gateway` role and runs the gateway,
the others log in over REST only, send nudges, and take the gateway over when it goes.
With more shards each worker runs a `discord.AutoShardedClient` with the `shard_ids` it
holds (roles `discord-shard-<i>`, shared out by `shard_round`), the worker running shard 0
syncs the commands, and their IDENTIFYs share one 5-second turn in the database.

Secrets: the token goes in discord.py's Authorization header, which nothing logs;
`redact_token_in_logs` scrubs it from any log record anyway, and discord.py's HTTP and
webhook loggers (URLs with interaction tokens, request bodies) stay at WARNING.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable, Collection
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.gateway import DiscordWebSocket

from bot.adapters.buttons import ButtonTokens
from bot.adapters.discord import endpoints
from bot.adapters.discord.channels import text_for_coach
from bot.adapters.discord.components import CoachButton
from bot.adapters.discord.limits import (
    INVALID_REQUEST_LIMIT,
    MAX_RATE_LIMIT_WAIT,
    InvalidRequests,
    delivery_of,
    describe,
)
from bot.adapters.discord.rendering import (
    CAPABILITIES,
    Outgoing,
    render_reply,
    tapped_label,
    with_choice,
)
from bot.adapters.discord.slash import build_tree
from bot.adapters.policy import log_handled, redact_token_in_logs, run_turn
from bot.core.coach import Coach
from bot.core.commands import Command, OptionValue
from bot.core.ports import Delivery, SendResult, Workers
from bot.core.records import User
from bot.core.replies import Reply
from bot.core.turn import Sender
from bot.pictures import draw_replies, draw_reply, has_pictures
from bot.settings import Settings, StartupError

log = logging.getLogger(__name__)

PLATFORM = "discord"
GATEWAY = "discord-gateway"  # the role of the one worker connected to the gateway
SHARD = "discord-shard-{}"  # with DISCORD_SHARD_COUNT > 1: the role of the worker running shard i
TAKEOVER_SECONDS = 5.0  # a sending-only worker tries to take the gateway over this often
IDENTIFY_SECONDS = 5.0  # Discord: one IDENTIFY per 5 s per bot (max_concurrency 1)
IDENTIFY_BUDGET = "discord-identify"  # sharded workers: their IDENTIFYs' shared bucket
SLOW_COMMANDS = frozenset({"export", "history"})  # the whole history read, a file built
DEFER_AFTER = 1.5  # seconds since Discord created the interaction: defer before the turn
CONNECT_TIMEOUT = 60.0
QUIET_LOGGERS = {
    "discord.http": logging.WARNING,  # request bodies, and URLs with interaction tokens
    "discord.webhook.async_": logging.WARNING,  # the same for interaction answers
    "discord.client": logging.WARNING,  # "logging in using static token" and the like
}
INTENTS = discord.Intents(guilds=True, guild_messages=True, dm_messages=True)
"""Servers, and messages in servers and DMs: none of them privileged."""


def fair_share(shard_count: int, live_workers: int) -> int:
    """How many shards one worker runs at most: ceil(shards / live workers)."""
    return -(-shard_count // max(1, live_workers))


def shard_round(
    shard_count: int, held: Collection[int], live_workers: int, try_take: Callable[[int], bool]
) -> tuple[list[int], list[int]]:
    """One worker's round of the shards: (taken, to give up). It keeps its lowest shards up
    to its fair share and gives up the rest (a worker joined: the newcomer takes them), then
    tries the free ones in order, 0 first, until it holds its share (a worker died: its
    shards go to the survivors). Deterministic; every worker runs the same rule."""
    share = fair_share(shard_count, live_workers)
    give_up = sorted(held)[share:]
    kept = len(held) - len(give_up)
    taken: list[int] = []
    for shard in range(shard_count):
        if kept + len(taken) >= share:
            break
        if shard not in held and try_take(shard):
            taken.append(shard)
    return taken, give_up


class CoachClient(discord.Client):
    """discord.py's client with the adapter's handlers, command tree and buttons."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(**options)
        self.adapter = adapter
        guild = adapter.guild
        self.tree = build_tree(self, adapter.coach.library, adapter.on_command, guild)
        self.tree.on_error = adapter.on_tree_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        """After login, before the gateway: buttons registered, commands synced."""
        self.add_dynamic_items(CoachButton)
        if self.adapter.shard_count == 1:  # sharded: the worker running shard 0 syncs
            await self.adapter.sync_commands()

    async def on_connect(self) -> None:
        self.adapter.connected.set()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_coach_button(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        await self.adapter.on_button(interaction, custom_id)


class ShardedCoachClient(discord.AutoShardedClient, CoachClient):
    """The same with DISCORD_SHARD_COUNT > 1: the shards in `shard_ids` on this worker."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Discord takes one IDENTIFY per 5 s from the whole bot, not per process."""
        await self.adapter.before_identify(initial=initial)


class DiscordAdapter:
    """The coach on Discord; also the `Messenger` the scheduler sends nudges through."""

    platform = PLATFORM
    capabilities = CAPABILITIES

    def __init__(
        self,
        coach: Coach,
        settings: Settings,
        *,
        guild_ready_timeout: float = 2.0,
        invalid_request_limit: int = INVALID_REQUEST_LIMIT,
        connect_timeout: float = CONNECT_TIMEOUT,
        workers: Workers | None = None,
        takeover_seconds: float = TAKEOVER_SECONDS,
        identify_seconds: float = IDENTIFY_SECONDS,
    ) -> None:
        if not settings.discord_token:
            raise ValueError("DISCORD_BOT_TOKEN is not set")
        # One of several workers on one database: one runs the gateway, all send over REST.
        self.workers = workers
        self.takeover_seconds = takeover_seconds
        self._takeover: asyncio.Task[None] | None = None
        self.shard_count = settings.discord_shard_count
        self.identify_seconds = identify_seconds
        self.shards: set[int] = set()  # sharded: the shards this worker runs
        self._synced = False
        self.coach = coach
        self.settings = settings
        self.token = settings.discord_token
        self.guild_ready_timeout = guild_ready_timeout
        self.connect_timeout = connect_timeout
        self.messages = coach.library.messages
        self.expired = Reply(text=self.messages["button_expired"])  # missing: fail at start-up
        self.guild = (
            discord.Object(settings.discord_guild_id) if settings.discord_guild_id else None
        )
        self.tokens = ButtonTokens(CAPABILITIES.max_data or 100)
        self.invalid = InvalidRequests(invalid_request_limit)
        self.client: CoachClient | None = None
        self.connected = asyncio.Event()
        self.replies_missed = 0  # replies Discord would not take, since start
        self._task: asyncio.Task[None] | None = None
        self._undo: list[Any] = []
        self._turns: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    # --- lifecycle -------------------------------------------------------------------

    def build_client(self) -> CoachClient:
        # The bot has no voice: discord.py's warnings about voice libraries would only
        # clutter the log (and a one-line start-up error).
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        options: dict[str, Any] = {}
        kind: type[CoachClient] = CoachClient
        if self.shard_count > 1:  # shard_ids filled in before it connects
            kind = ShardedCoachClient
            options = {"shard_count": self.shard_count, "shard_ids": []}
        return kind(
            self,
            **options,
            intents=INTENTS,
            guild_ready_timeout=self.guild_ready_timeout,
            max_ratelimit_timeout=MAX_RATE_LIMIT_WAIT,
            http_trace=self.invalid.trace_config(),
            allowed_mentions=discord.AllowedMentions.none(),
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
            max_messages=None,
        )

    async def start(self) -> None:
        """Log in (buttons registered, commands synced), connect to the gateway and return
        once Discord has said READY."""
        quiet_discord_loggers()
        self._undo.append(redact_token_in_logs(self.token))
        where = endpoints.Endpoints.from_settings(self.settings)
        self._undo.append(endpoints.point_discord_py_at(where))
        self.connected.clear()
        client = self.client = self.build_client()
        await client.login(self.token)
        if where.gateway is None:
            await endpoints.use_the_apis_gateway(client.http)
        if self.shard_count > 1:
            await self._shard_round()
            self._takeover = asyncio.create_task(self._keep_shards(), name="dc-shards")
            if not self.shards:
                log.info("Discord adapter logged in (sending only: other workers run the shards)")
            return
        if not await self._may_connect():
            self._takeover = asyncio.create_task(self._take_over_gateway(), name="dc-takeover")
            log.info("Discord adapter logged in (sending only: another worker runs the gateway)")
            return
        await self._connect()

    async def _may_connect(self) -> bool:
        """Only one worker runs the gateway (the events would otherwise be handled twice)."""
        if self.workers is None:
            return True
        return await asyncio.to_thread(self.workers.try_role, GATEWAY)

    async def _take_over_gateway(self) -> None:
        """A sending-only worker: connect as soon as the gateway's worker is gone."""
        while True:
            await asyncio.sleep(self.takeover_seconds)
            try:
                if await self._may_connect():
                    await self._connect()
                    return
            except Exception:
                log.warning("Discord: could not take over the gateway; trying again", exc_info=True)

    async def _keep_shards(self) -> None:
        """Sharded: a round of the shards every `takeover_seconds` (a dead worker's shards
        taken over, some given to a worker that joined)."""
        while True:
            await asyncio.sleep(self.takeover_seconds)
            try:
                await self._shard_round()
            except Exception:
                log.warning("Discord: a round of the shards failed; trying again", exc_info=True)

    async def before_identify(self, *, initial: bool) -> None:
        """Sharded: wait for this IDENTIFY's turn. Several workers share one bucket in the
        database (one IDENTIFY per `identify_seconds` from all of them: a worker taking a
        dead one's shard while another starts would otherwise break Discord's limit);
        alone, discord.py's own spacing (none before the first)."""
        workers = self.workers
        if workers is None:
            if not initial:
                await asyncio.sleep(self.identify_seconds)
            return
        rate = 1.0 / self.identify_seconds
        try:
            while wait := await asyncio.to_thread(workers.take_send_token, IDENTIFY_BUDGET, rate):
                await asyncio.sleep(wait)
        except Exception:  # the database away: an error here would end every shard
            log.warning("Discord: no shared IDENTIFY turn; waiting %.0f s", self.identify_seconds)
            await asyncio.sleep(self.identify_seconds)

    def _claim_shards(self) -> tuple[list[int], list[int]]:
        workers = self.workers
        if workers is None:  # one process: every shard is this one's
            return shard_round(self.shard_count, self.shards, 1, lambda _: True)
        live = len(workers.live_workers())
        return shard_round(
            self.shard_count, self.shards, live, lambda i: workers.try_role(SHARD.format(i))
        )

    async def _shard_round(self) -> None:
        """Take this worker's share of the shards and give up what is beyond it; connect
        and disconnect them on the one `AutoShardedClient`."""
        client = self.client
        assert isinstance(client, ShardedCoachClient)
        taken, give_up = await asyncio.to_thread(self._claim_shards)
        # A shard still waiting for its IDENTIFY turn is given up at a later round, once
        # connected: its lock must not go while its IDENTIFY may still come.
        give_up = [shard for shard in give_up if client.get_shard(shard) is not None]
        for shard in give_up:  # closed before the lock goes: never two sessions of a shard
            info = client.get_shard(shard)
            if info is not None:
                await info.disconnect()
            self.shards.discard(shard)
            if self.workers is not None:
                await asyncio.to_thread(self.workers.release_role, SHARD.format(shard))
        self.shards.update(taken)
        if taken or give_up:
            log.info(
                "Discord: running shards %s of %d (took %s, gave up %s)",
                sorted(self.shards),
                self.shard_count,
                taken,
                give_up,
            )
        if not taken:
            return
        if 0 in taken and not self._synced:
            await self.sync_commands()
        if self._task is None:  # the first shards: the gateway starts with them
            client.shard_ids = sorted(self.shards)
            await self._connect()
            return
        for shard in taken:
            info = client.get_shard(shard)
            if info is not None:  # given up before, now back
                await info.connect()
            else:
                assert client.shard_ids is not None
                client.shard_ids.append(shard)  # also the state's list (its READY count)
                await client.launch_shard(DiscordWebSocket.DEFAULT_GATEWAY, shard)

    async def _connect(self) -> None:
        """Connect to the gateway and return once Discord has said READY."""
        client = self.client
        assert client is not None
        self._task = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway")
        ready = asyncio.create_task(self.connected.wait())
        try:
            await asyncio.wait(
                {ready, self._task},
                timeout=self.connect_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            ready.cancel()
        if self._task.done():
            self._task.result()  # the gateway refused us: raise why
        if not self.connected.is_set():
            raise TimeoutError(f"no READY from the Discord gateway in {self.connect_timeout:.0f} s")
        user = client.user
        log.info("Discord adapter running as %s (%s)", user, user.id if user else "?")
        settle_long_lived_objects()

    async def stop(self) -> None:
        """Close the gateway and HTTP session; put discord.py's URLs and logging back."""
        if self._takeover is not None:
            self._takeover.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._takeover
            self._takeover = None
        try:
            if self.client is not None:
                await self.client.close()
            if self._task is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(self._task, 10)
        finally:
            self._task = None
            await self._give_up_shards()
            while self._undo:
                self._undo.pop()()

    async def _give_up_shards(self) -> None:
        """Stopped: this worker's shards are free for the others at once."""
        shards, self.shards = self.shards, set()
        if self.workers is None:
            return
        for shard in sorted(shards):
            with contextlib.suppress(Exception):  # the database away: its locks go with it
                await asyncio.to_thread(self.workers.release_role, SHARD.format(shard))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[DiscordAdapter]:
        """Started for the duration of the block, stopped after it (even on errors). A
        refused token or an unreachable Discord is a `StartupError`, one line."""
        try:
            await self.start()
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await self.stop()
            error = self._startup_error(exc)
            if error is not None:
                raise error from None
            raise
        try:
            yield self
        finally:
            await self.stop()

    def _startup_error(self, exc: BaseException) -> StartupError | None:
        log.debug("Discord start-up failed: %s", describe(exc, self.token))
        if isinstance(exc, discord.LoginFailure) or (
            isinstance(exc, discord.ConnectionClosed) and exc.code == 4004
        ):
            return StartupError(
                "DISCORD_BOT_TOKEN: Discord refused the token (reset or mistyped); copy the "
                "current one from the Developer Portal (Bot, Reset Token)"
            )
        if isinstance(exc, discord.PrivilegedIntentsRequired):
            return StartupError("DISCORD_BOT_TOKEN: Discord refused the intents the bot asked for")
        if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError | discord.GatewayNotFound):
            where = self.settings.discord_api_base_url or endpoints.DISCORD_API
            return StartupError(
                f"DISCORD_API_BASE_URL: cannot reach Discord at {where} "
                f"({type(exc).__name__}); check the address and this machine's network or proxy"
            )
        return None

    async def sync_commands(self) -> None:
        """Publish the slash commands: to `DISCORD_GUILD_ID` (at once, for development) or
        globally. A failure is logged; the commands Discord has stay usable."""
        assert self.client is not None
        try:
            synced = await self.client.tree.sync(guild=self.guild)
        except discord.HTTPException as exc:
            log.error("Discord: could not sync the slash commands: %s", describe(exc, self.token))
            return
        self._synced = True
        where = f"to guild {self.guild.id}" if self.guild else "globally"
        log.info("Discord: %d slash commands synced %s", len(synced), where)

    # --- incoming --------------------------------------------------------------------

    def sender_of(self, interaction: discord.Interaction[Any]) -> Sender:
        """Who is talking: the user, in their DM (private) or a server channel."""
        channel = interaction.channel
        private = interaction.guild_id is None and getattr(channel, "type", None) in (
            discord.ChannelType.private,
            None,
        )
        channel_id = interaction.channel_id
        return Sender(
            PLATFORM,
            str(interaction.user.id),
            chat_id=str(channel_id) if channel_id is not None else None,
            private=private,
        )

    async def on_command(
        self, interaction: discord.Interaction[Any], name: str, options: dict[str, OptionValue]
    ) -> None:
        """A slash command: to the coach as a structured command, replies back."""
        started = time.perf_counter()
        try:
            deferred = False
            if name in SLOW_COMMANDS or _age(interaction) > DEFER_AFTER:
                await interaction.response.defer(
                    ephemeral=interaction.guild_id is not None, thinking=True
                )
                deferred = True
            sender = self.sender_of(interaction)
            command = Command(name, dict(options))
            outcome = await run_turn(self.coach, self.coach.command, sender, command)
            if has_pictures(outcome.replies) and not deferred:  # "thinking…" while it draws
                private = any(reply.private for reply in outcome.replies)
                await interaction.response.defer(
                    ephemeral=private and interaction.guild_id is not None, thinking=True
                )
                deferred = True
            await self.answer_interaction(interaction, sender, outcome.replies, deferred=deferred)
            log_handled(PLATFORM, "command", outcome.handled_as, started)
        except Exception as exc:
            await self.failed(interaction, exc)

    async def on_button(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        """A tap: the coach's answer; the tapped message shows the choice, without buttons."""
        started = time.perf_counter()
        try:
            if _age(interaction) > DEFER_AFTER:
                await interaction.response.defer()  # a component's defer: the message stays
            sender = self.sender_of(interaction)
            data = self.tokens.decode(custom_id)  # "" for a token from before a restart
            outcome = await run_turn(self.coach, self.coach.press, sender, data)
            if outcome.replies == [self.expired]:
                await self._expired(interaction)
            else:
                await self.show_choice(interaction, custom_id)
                await self.answer_interaction(interaction, sender, outcome.replies, deferred=False)
            log_handled(PLATFORM, "button", outcome.handled_as, started)
        except Exception as exc:
            await self.failed(interaction, exc)

    async def _expired(self, interaction: discord.Interaction[Any]) -> None:
        """Only the person who tapped sees it; the message stays as it is for the others."""
        outgoing = render_reply(self.expired)[0].send_kwargs()
        if interaction.response.is_done():
            await interaction.followup.send(ephemeral=True, **outgoing)
        else:
            await interaction.response.send_message(ephemeral=True, **outgoing)

    async def show_choice(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        """Edit the tapped message: the choice under its text, no buttons. This is the
        acknowledgement (or follows a defer); if the edit is refused, the tap is still
        answered."""
        message = interaction.message
        embeds = with_choice(message, tapped_label(message, custom_id)) if message else []
        try:
            if interaction.response.is_done():
                await interaction.edit_original_response(embeds=embeds, view=None)
            else:
                await interaction.response.edit_message(embeds=embeds, view=None)
        except discord.HTTPException as exc:
            log.info("Discord: could not edit a tapped message: %s", describe(exc, self.token))
            if not interaction.response.is_done():
                await interaction.response.defer()

    async def on_message(self, message: discord.Message) -> None:
        """A DM, or a server message that mentions the bot: to the coach, replies back.
        One person's messages are answered one at a time, in order."""
        client = self.client
        if client is None or client.user is None:
            return
        text = text_for_coach(message, client.user.id)
        if text is None:
            return
        author = message.author
        sender = Sender(
            PLATFORM, str(author.id), chat_id=str(message.channel.id), private=message.guild is None
        )
        lock = self._turns.get(author.id)
        if lock is None:
            lock = self._turns[author.id] = asyncio.Lock()
        async with lock:
            started = time.perf_counter()
            try:
                outcome = await run_turn(self.coach, self.coach.respond, sender, text)
                replies = await draw_replies(
                    outcome.replies, showing=lambda: _typing(message.channel, self.token)
                )
                await self.answer_message(message, sender, replies)
                log_handled(PLATFORM, "message", outcome.handled_as, started)
            except Exception:
                log.exception("Discord: a message from a user failed")
                with contextlib.suppress(Exception):  # Discord out of reach: logged above
                    await message.channel.send(embeds=[_error_embed(self.messages["error"])])

    async def on_tree_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """A command discord.py could not run (unknown to the tree, a failed transform)."""
        await self.failed(interaction, error)

    async def failed(self, interaction: discord.Interaction[Any], error: BaseException) -> None:
        """Log a failed interaction (type and id, never its token) and say sorry to the
        user, ephemerally."""
        if isinstance(error, discord.Forbidden):
            log.warning("Discord interaction %s: forbidden (%s)", interaction.id, error)
            return
        log.error(
            "Discord interaction %s (%s) failed",
            interaction.id,
            interaction.type.name,
            exc_info=(type(error), error, error.__traceback__),
        )
        embeds = [_error_embed(self.messages["error"])]
        try:
            if interaction.response.is_done():
                await interaction.followup.send(embeds=embeds, ephemeral=True)
            else:
                await interaction.response.send_message(embeds=embeds, ephemeral=True)
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("Discord: could not send the error message: %s", describe(exc, self.token))

    # --- outgoing --------------------------------------------------------------------

    async def answer_interaction(
        self,
        interaction: discord.Interaction[Any],
        sender: Sender,
        replies: list[Reply],
        *,
        deferred: bool,
    ) -> None:
        """A turn's replies in order: the first as the response (or into the deferred one),
        the rest as followups; each ephemeral in a server when it is private."""
        first = True
        for reply in replies:
            ephemeral = reply.private and not sender.private
            drawn = await draw_reply(reply)  # acknowledged already: deferred, or a tap's edit
            for outgoing in render_reply(drawn, self.tokens):
                if first and deferred:
                    await interaction.edit_original_response(**outgoing.edit_kwargs())
                elif first and not interaction.response.is_done():
                    await interaction.response.send_message(
                        ephemeral=ephemeral, **outgoing.send_kwargs()
                    )
                else:
                    await interaction.followup.send(ephemeral=ephemeral, **outgoing.send_kwargs())
                first = False

    async def answer_message(
        self, message: discord.Message, sender: Sender, replies: list[Reply]
    ) -> None:
        """Replies to a message, in its channel; private ones in a server go by DM. One
        Discord would not take (after discord.py's retries) is counted and logged, and the
        rest of the turn is dropped: the state is saved already, and the user can ask again."""
        for index, reply in enumerate(replies):
            try:
                if reply.private and not sender.private:
                    await self._privately(message, reply)
                else:
                    reference = message if index == 0 and message.guild is not None else None
                    await self.deliver(message.channel, reply, reference=reference)
            except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
                self.replies_missed += len(replies) - index
                log.warning(
                    "Discord: a reply could not be delivered (%s); %d replies missed so far",
                    describe(exc, self.token),
                    self.replies_missed,
                )
                return

    async def _privately(self, message: discord.Message, reply: Reply) -> None:
        """A personal reply asked for in a server: by DM, and a line in the channel."""
        try:
            channel = await message.author.create_dm()
            await self.deliver(channel, reply)
        except discord.Forbidden:  # DMs closed to the bot
            notice = self.messages["private_dms_closed"]
        else:
            notice = self.messages["private_sent"]
        await self.deliver(message.channel, Reply(text=notice), reference=message)

    async def send(self, user: User, reply: Reply) -> SendResult:
        """Push a reply nobody asked for (a nudge) by DM. The `Messenger` protocol."""
        if user.unreachable:
            return SendResult(Delivery.BLOCKED, error="the user does not take DMs from the bot")
        wait = self.invalid.retry_after()
        if wait:
            return SendResult(
                Delivery.RETRY_LATER, retry_after=wait, error="too many invalid requests"
            )
        client = self.client
        if client is None or client.is_closed():
            return SendResult(Delivery.RETRY_LATER, retry_after=5.0, error="not connected")
        try:
            channel = await self.dm_channel(client, user)
            await self.deliver(channel, reply)
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            return delivery_of(exc, self.token)
        return SendResult(Delivery.SENT)

    async def dm_channel(self, client: discord.Client, user: User) -> discord.abc.Messageable:
        """The user's DM channel: known from their own DMs (`chat_id`), else opened."""
        if user.chat_id and user.chat_id.isdigit():
            return client.get_partial_messageable(
                int(user.chat_id), type=discord.ChannelType.private
            )
        return await client.create_dm(discord.Object(int(user.platform_id)))

    async def deliver(
        self,
        channel: discord.abc.Messageable,
        reply: Reply,
        *,
        reference: discord.Message | None = None,
    ) -> None:
        """Render and send one reply (usually one message), its picture drawn first."""
        reply = await draw_reply(reply)
        for index, outgoing in enumerate(render_reply(reply, self.tokens)):
            await _send(channel, outgoing, reference if index == 0 else None)


async def _send(
    channel: discord.abc.Messageable, outgoing: Outgoing, reference: discord.Message | None
) -> None:
    kwargs = outgoing.send_kwargs()
    if reference is not None:
        kwargs["reference"] = reference
        kwargs["mention_author"] = False
    await channel.send(**kwargs)


@contextlib.asynccontextmanager
async def _typing(channel: discord.abc.Messageable, token: str) -> AsyncIterator[None]:
    """Discord's typing indicator in `channel` for as long as the block runs; a channel
    that refuses it changes nothing else."""
    typing = channel.typing()
    try:
        await typing.__aenter__()
    except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.info("Discord: could not show the typing indicator: %s", describe(exc, token))
        yield
        return
    try:
        yield
    finally:
        await typing.__aexit__(None, None, None)


def _age(interaction: discord.Interaction[Any]) -> float:
    """Seconds since Discord created the interaction (its id says when)."""
    return (discord.utils.utcnow() - interaction.created_at).total_seconds()


def _error_embed(text: str) -> discord.Embed:
    return render_reply(Reply(text=text))[0].embeds[0]


_settled = False


def settle_long_lived_objects() -> None:
    """Once per process, after the first start: what start-up loaded lives as long as the
    process, so the garbage collector stops walking it (as the Telegram adapter does; a
    later start, in tests, would freeze their garbage too)."""
    global _settled  # noqa: PLW0603 - one process, one settling
    if not _settled:
        _settled = True
        gc.collect()
        gc.freeze()


def quiet_discord_loggers() -> None:
    """discord.py's HTTP and webhook loggers print URLs (interaction tokens in them) and
    request bodies at DEBUG: they stay at WARNING, and so does its client's chatter."""
    for name, level in QUIET_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < level:
            logger.setLevel(level)

"""A fake Discord for tests and benchmarks: the gateway (a websocket) and the REST API.

Point a real ``discord.Client`` at it (the adapter does this from its settings, see
bot/adapters/discord/endpoints.py)::

    async with FakeDiscord() as fake:
        settings = Settings(discord_bot_token=fake.token,
                            discord_api_base_url=fake.api_base_url,
                            discord_gateway_url=fake.gateway_url)
        ...
        interaction = await fake.push_slash("roll", {"minutes": 10, "workout": "run"})
        (reply,) = await fake.replies(interaction)

The gateway speaks what discord.py 2.7 needs of it: HELLO, IDENTIFY -> READY (the bot user,
the guilds as unavailable, ``session_id``, ``resume_gateway_url``, ``application{id,
flags}``) and then a GUILD_CREATE per guild, heartbeats answered with ACKs, RESUME of a
closed session -> RESUMED (an unknown one: INVALID_SESSION), and the dispatches tests push
(INTERACTION_CREATE, MESSAGE_CREATE). Sharding is honoured as Discord does it: IDENTIFY's
``shard: [id, count]`` (default ``[0, 1]``) is echoed in READY, and a connection gets only
the guilds, and the guild events, of its shard (``(guild_id >> 22) % count``); DMs go to
shard 0. ``GET /gateway/bot`` recommends ``shard_count`` shards (1 unless set).
Transport compression is what the client asks for in the URL: discord.py asks for
``zlib-stream`` unless ``zstandard`` is importable; zlib-stream frames are one zlib
stream per connection, each message ending in a Z_SYNC_FLUSH. ``zstd-stream`` is refused
(close 4000, saying why): install nothing that makes discord.py ask for it without
teaching the fake first.

Like Discord, the gateway sends only what the identified intents ask for: guild messages
need GUILD_MESSAGES, DMs need DIRECT_MESSAGES, and without the privileged MESSAGE_CONTENT
intent a guild message that does not mention the bot arrives with empty content. Asking
for a privileged intent the application does not have closes the connection with 4014.

The REST routes are the ones the adapter uses: who am I, the application, command sync
(global and per guild), the interaction callback (``?with_response=1``), followups and the
original response, DM channels, messages and their edits. Every request is recorded as a
:class:`Call`. Discord's limits are checked with its own 400 answers (5 action rows of 5
buttons, labels <= 80, custom_id <= 100 and unique in a message, embed sizes, 2,000
characters of content), and the interaction rules too: one acknowledgement each, within
``ack_window`` seconds of the push (else 10062 "Unknown interaction"), followups only
after it. Faults are injected with :meth:`FakeDiscord.fail_next` (429 with ``retry_after``
and the ``X-RateLimit-*`` and ``Via`` headers discord.py reads, 5xx, 403) and
:meth:`FakeDiscord.close_dms` (403 50007 on a user's DMs).
The typing indicator (``POST /channels/{channel_id}/typing``) is recorded and answered 204.

Secrets: the bot token is checked in the ``Authorization`` header and never recorded;
interaction tokens in paths are recorded as ``{token}``; aiohttp's access log is off.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import itertools
import json
import secrets
import socket
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

PAYLOAD_DIR = Path(__file__).parent / "payloads" / "discord"
API_VERSION = 10
DISCORD_EPOCH_MS = 1_420_070_400_000
EPHEMERAL = 1 << 6

JSONDict = dict[str, Any]

# Intents (bit values from Discord's docs).
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

# Gateway opcodes.
DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = (
    0,
    1,
    2,
    6,
    7,
    9,
    10,
    11,
)

# Limits Discord enforces on messages.
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_TOTAL = 6000
MAX_ROWS = 5
MAX_PER_ROW = 5
MAX_LABEL = 80
MAX_CUSTOM_ID = 100

# Interaction callback types.
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
CALLBACK_TYPES = (PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE)

# Application command option types.
OPTION_STRING, OPTION_INTEGER = 3, 4

USER_ID = 1300000000000000001  # the sample user, Alex (payloads/discord/user_alex.json)


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class UploadedFile:
    """A file part of a multipart request (``files[n]``)."""

    field: str
    filename: str | None
    content_type: str
    data: bytes = field(repr=False)


@dataclass(slots=True)
class Call:
    """One request the fake received.

    ``route`` is the route's template, e.g. ``"POST /channels/{channel_id}/messages"``;
    ``path`` has the ids filled in, with interaction tokens as ``{token}``. ``body`` is the
    JSON payload (``payload_json`` of a multipart request). ``status`` and ``result`` are
    set when the fake answers.
    """

    route: str
    path: str
    query: dict[str, str]
    body: Any
    at: float
    files: list[UploadedFile] = field(default_factory=list)
    status: int | None = None
    result: Any = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(slots=True)
class Fault:
    """An error answer for the next ``remaining`` requests to ``route`` (or ``"*"``)."""

    route: str
    status: int
    message: str
    code: int = 0
    retry_after: float | None = None
    is_global: bool = False
    channel_id: int | None = None
    remaining: int = 1
    via: bool = True  # a 429 from Discord has `Via`; without it, Cloudflare's ban

    def matches(self, route: str, params: dict[str, str]) -> bool:
        if self.route not in ("*", route):
            return False
        return self.channel_id is None or params.get("channel_id") == str(self.channel_id)


@dataclass(slots=True)
class Interaction:
    """An interaction the fake pushed, and what the bot answered to it."""

    id: int
    token: str
    payload: JSONDict
    pushed_at: float
    channel_id: int
    guild_id: int | None
    user_id: int
    callback: int | None = None  # the callback type the bot answered with
    deferred_ephemeral: bool = False
    original: JSONDict | None = None  # the message of the response (type 4 or 5)
    followups: list[JSONDict] = field(default_factory=list)
    updated: JSONDict | None = None  # the component's message after an UPDATE_MESSAGE

    @property
    def acknowledged(self) -> bool:
        return self.callback is not None

    @property
    def messages(self) -> list[JSONDict]:
        """What the user saw in answer: the original response (once it has content), then
        the followups."""
        shown = [self.original] if self.original is not None and _has_body(self.original) else []
        return shown + self.followups


class ApiError(Exception):
    """Raised by a route handler to answer with Discord's error JSON."""

    def __init__(self, status: int, code: int, message: str, errors: JSONDict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors


class _GatewaySession:
    """One websocket connection: its compression, sequence and identity."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.compress = compress
        self.deflate = zlib.compressobj() if compress == "zlib-stream" else None
        self.seq = 0
        self.session_id: str | None = None
        self.intents = 0
        self.shard = (0, 1)  # (shard id, shard count), from IDENTIFY
        self.identified = asyncio.Event()
        self.lock = asyncio.Lock()

    def gets(self, guild_id: int | None) -> bool:
        """Whether this connection's shard gets the events of `guild_id` (None: a DM), as
        Discord routes them: guild events to shard (guild_id >> 22) % count, DMs to 0."""
        shard, count = self.shard
        return shard_of(guild_id, count) == shard

    async def send(self, payload: JSONDict) -> None:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        async with self.lock:  # one zlib stream: frames must go out in the order compressed
            if self.ws.closed:
                return
            if self.deflate is not None:
                data = self.deflate.compress(text.encode()) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard Discord sends a guild's events on; DMs go to shard 0."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


# --------------------------------------------------------------------------- payloads


@functools.cache
def _payload_text(name: str) -> str:
    return (PAYLOAD_DIR / f"{name.removesuffix('.json')}.json").read_text(encoding="utf-8")


def load_payload(name: str) -> JSONDict:
    """A fresh copy of ``tests/fakes/payloads/discord/<name>.json``."""
    result: JSONDict = json.loads(_payload_text(name))
    return result


def _has_body(message: JSONDict) -> bool:
    return bool(message.get("content") or message.get("embeds") or message.get("attachments"))


def _json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON as Discord sends it: `Content-Type: application/json`, no charset (discord.py
    compares the header to exactly that before it parses a body)."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def _error_response(
    status: int, code: int, message: str, errors: JSONDict | None = None
) -> web.Response:
    body: JSONDict = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return _json_response(body, status=status)


# --------------------------------------------------------------------------- the server


class FakeDiscord:
    """An in-process fake of Discord on ``127.0.0.1`` (a random free port).

    Use ``async with FakeDiscord() as fake`` or ``await fake.start()`` / ``stop()``. All
    methods are meant to be called from the event loop the server runs on.
    """

    def __init__(
        self,
        token: str = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GfAkEd.fake-discord-bot-token-0123456789abcdef",
        *,
        guilds: Iterable[JSONDict] | None = None,
        privileged_intents: int = 0,
        ack_window: float = 3.0,
        heartbeat_interval_ms: int = 41_250,
        latency: float = 0.0,
        shard_count: int = 1,
    ) -> None:
        self.token = token
        #: The shards `GET /gateway/bot` recommends.
        self.shard_count = shard_count
        #: The privileged intents the application has switched on in the developer portal.
        self.privileged_intents = privileged_intents
        #: Seconds within which an interaction must be acknowledged (Discord: 3).
        self.ack_window = ack_window
        self.heartbeat_interval_ms = heartbeat_interval_ms
        #: Seconds every REST answer takes, like a network round trip.
        self.latency = latency

        self.bot_user = load_payload("user_me")
        self.bot_id = int(self.bot_user["id"])
        self.application = load_payload("application")
        self.application_id = int(self.application["id"])
        self.guilds: dict[int, JSONDict] = {}
        for guild in guilds if guilds is not None else [load_payload("guild_create")]:
            self.guilds[int(guild["id"])] = guild
        self.users: dict[int, JSONDict] = {USER_ID: load_payload("user_alex")}

        self.url = ""
        self.api_base_url = ""
        self.gateway_url = ""

        #: Every REST request, in arrival order.
        self.calls: list[Call] = []
        #: The IDENTIFY payloads received, the token replaced by whether it was right.
        self.identifies: list[JSONDict] = []
        #: When each of them came (time.monotonic()): Discord takes one per 5 s per bot.
        self.identified_at: list[float] = []
        #: The query of every gateway connection (v, encoding, compress).
        self.gateway_queries: list[dict[str, str]] = []
        self.heartbeats = 0
        #: Synced commands: global ones under None, guild ones under the guild id.
        self.commands: dict[int | None, list[JSONDict]] = {}
        self.interactions: dict[int, Interaction] = {}
        #: Every message the bot created or edited, by id (the latest version).
        self.messages: dict[int, JSONDict] = {}
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        #: The bytes of every uploaded file, by attachment id.
        self.uploads: dict[str, bytes] = {}

        self._sessions: list[_GatewaySession] = []
        #: session id -> (session id, intents, last sequence, shard): what a RESUME picks up.
        self._known_sessions: dict[str, tuple[str, int, int, tuple[int, int]]] = {}
        #: RESUMEs answered with RESUMED.
        self.resumes = 0
        self._ids = itertools.count()
        self._faults: list[Fault] = []
        self._closed_dms: set[int] = set()
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:  # never the token
        return f"FakeDiscord(url={self.url!r})"

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        base = f"/api/v{API_VERSION}"
        for method, route, handler in (
            ("GET", "/users/@me", self._get_me),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("PUT", "/applications/{application_id}/commands", self._put_commands),
            ("GET", "/applications/{application_id}/commands", self._get_commands),
            (
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._put_commands,
            ),
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._get_commands,
            ),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{application_id}/{token}", self._followup),
            (
                "PATCH",
                "/webhooks/{application_id}/{token}/messages/{message_id}",
                self._edit_webhook_message,
            ),
            ("POST", "/users/@me/channels", self._create_dm),
            ("POST", "/channels/{channel_id}/messages", self._create_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message),
            ("POST", "/channels/{channel_id}/typing", self._typing),
        ):
            app.router.add_route(method, base + route, self._wrap(f"{method} {route}", handler))
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self.url = f"http://127.0.0.1:{port}"
        self.api_base_url = f"{self.url}/api/v{API_VERSION}"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"

    async def stop(self) -> None:
        if self._runner is None:
            return
        for session in list(self._sessions):
            with contextlib.suppress(Exception):
                await session.ws.close(code=1001)
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ----------------------------------------------------------------- the gateway

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        self.gateway_queries.append(query)
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        compress = query.get("compress")
        if query.get("v") != str(API_VERSION) or query.get("encoding", "json") != "json":
            await ws.close(code=4012, message=b"Invalid API version or encoding")
            return ws
        if compress not in (None, "zlib-stream"):
            # discord.py asks for zstd-stream when `zstandard` is importable.
            await ws.close(code=4000, message=b"fake Discord: only zlib-stream is implemented")
            return ws
        session = _GatewaySession(ws, compress)
        self._sessions.append(session)
        try:
            await session.send(
                {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
            )
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                await self._gateway_message(session, json.loads(message.data))
        finally:
            self._sessions.remove(session)
            if session.session_id is not None:
                self._known_sessions[session.session_id] = (
                    session.session_id,
                    session.intents,
                    session.seq,
                    session.shard,
                )
            self._changed.set()
        return ws

    async def _gateway_message(self, session: _GatewaySession, payload: JSONDict) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            self.heartbeats += 1
            await session.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(session, data or {})
        elif op == RESUME:
            await self._resume(session, data or {})

    async def _identify(self, session: _GatewaySession, data: JSONDict) -> None:
        recorded = {k: v for k, v in data.items() if k != "token"}
        recorded["token_ok"] = data.get("token") == self.token
        self.identifies.append(recorded)
        self.identified_at.append(time.monotonic())
        if not recorded["token_ok"]:
            await session.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED & ~self.privileged_intents:
            await session.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = data.get("shard", [0, 1])
        if (
            not isinstance(shard, list)
            or len(shard) != 2
            or not all(isinstance(n, int) for n in shard)
            or not 0 <= shard[0] < shard[1]
        ):
            await session.ws.close(code=4010, message=b"Invalid shard.")
            return
        session.shard = (shard[0], shard[1])
        session.intents = intents
        session.session_id = secrets.token_hex(16)
        guilds = [guild for gid, guild in self.guilds.items() if session.gets(gid)]
        ready = {
            "v": API_VERSION,
            "user": self.bot_user,
            "guilds": [{"id": str(guild["id"]), "unavailable": True} for guild in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application["flags"]},
            "private_channels": [],
            "relationships": [],
            "user_settings": {},
            "presences": [],
            "shard": list(session.shard),
        }
        await self._dispatch_to(session, "READY", ready)
        if intents & GUILDS:
            for guild in guilds:
                await self._dispatch_to(session, "GUILD_CREATE", guild)
        session.identified.set()
        self._changed.set()

    async def _resume(self, session: _GatewaySession, data: JSONDict) -> None:
        if data.get("token") != self.token:
            await session.ws.close(code=4004, message=b"Authentication failed.")
            return
        known = self._known_sessions.get(str(data.get("session_id")))
        if known is None:
            await session.send({"op": INVALID_SESSION, "d": False})
            return
        self.resumes += 1
        session.session_id, session.intents, session.seq, session.shard = known
        await self._dispatch_to(session, "RESUMED", {})
        session.identified.set()
        self._changed.set()

    async def _dispatch_to(self, session: _GatewaySession, event: str, data: JSONDict) -> None:
        session.seq += 1
        await session.send({"op": DISPATCH, "t": event, "s": session.seq, "d": data})

    async def dispatch(self, event: str, data: JSONDict, intent: int | None = None) -> int:
        """Send a dispatch to every identified connection that asked for ``intent`` and
        whose shard gets the event (its ``guild_id``'s; shard 0 without one); returns to
        how many."""
        guild_id = int(data["guild_id"]) if data.get("guild_id") else None
        sent = 0
        for session in list(self._sessions):
            if not session.gets(guild_id):
                continue
            if session.identified.is_set() and (intent is None or session.intents & intent):
                await self._dispatch_to(session, event, data)
                sent += 1
        return sent

    async def wait_until_identified(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until ``count`` connections have identified (READY sent)."""
        await self.wait_for(
            lambda: sum(s.identified.is_set() for s in self._sessions) >= count, timeout
        )

    @property
    def connected(self) -> int:
        """Identified gateway connections now open."""
        return sum(s.identified.is_set() and not s.ws.closed for s in self._sessions)

    @property
    def shards_connected(self) -> list[list[int]]:
        """The [shard id, count] of each identified connection now open, sorted."""
        return sorted(
            list(s.shard) for s in self._sessions if s.identified.is_set() and not s.ws.closed
        )

    async def drop_connections(self, code: int = 1001) -> None:
        """Close every gateway connection from the server side (a restart of Discord's)."""
        for session in list(self._sessions):
            await session.ws.close(code=code)

    # ----------------------------------------------------------------- ids, users

    def snowflake(self) -> int:
        """A new id with the current time in it, as Discord makes them."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._ids) & 0x3FFFFF)

    def user(self, user_id: int = USER_ID, name: str | None = None) -> JSONDict:
        """The user object of ``user_id`` (made up, and then kept, for a new id)."""
        if user_id not in self.users:
            sample = load_payload("user_alex")
            handle = name or f"user{user_id % 10_000}"
            sample.update(id=str(user_id), username=handle, global_name=handle)
            self.users[user_id] = sample
        return self.users[user_id]

    def dm_channel_of(self, user_id: int) -> int:
        """The DM channel between the bot and ``user_id`` (created on first use)."""
        if user_id not in self.dm_channels:
            self.dm_channels[user_id] = self.snowflake()
        return self.dm_channels[user_id]

    def guild_channel(self, guild_id: int | None = None) -> int:
        guild = self.guilds[guild_id] if guild_id else next(iter(self.guilds.values()))
        return int(guild["channels"][0]["id"])

    @property
    def guild_id(self) -> int:
        """The first guild's id."""
        return next(iter(self.guilds))

    def _member(self, user_id: int) -> JSONDict:
        member = load_payload("member")
        member["user"] = self.user(user_id)
        return member

    # ----------------------------------------------------------------- pushing events

    async def push_slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user_id: int = USER_ID,
        guild_id: int | None = None,
    ) -> Interaction:
        """A user runs ``/name`` with ``options``, in a DM (default) or in ``guild_id``.

        The command must have been synced (globally, or to that guild), and the options are
        checked against it as Discord does: unknown names, wrong types, values outside a
        choice list or min/max are refused here, since Discord would not send them.
        """
        command = self._command(name, guild_id)
        if command is None:
            raise AssertionError(f"/{name} was never synced (global or to guild {guild_id})")
        data: JSONDict = {
            "id": command["id"],
            "name": name,
            "type": 1,
            "options": self._options(command, options or {}),
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        payload = load_payload("interaction_command")
        payload["data"] = data
        return await self._push_interaction(payload, user_id, guild_id)

    async def push_button(
        self,
        message: JSONDict,
        custom_id: str,
        *,
        user_id: int = USER_ID,
    ) -> Interaction:
        """A user presses the button ``custom_id`` on ``message`` (one the bot sent)."""
        ids = [
            c.get("custom_id") for row in message.get("components", []) for c in row["components"]
        ]
        if custom_id not in ids:
            raise AssertionError(f"no button {custom_id!r} on that message: {ids}")
        payload = load_payload("interaction_component")
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        payload["message"] = copy.deepcopy(message)
        guild_id = int(message["guild_id"]) if message.get("guild_id") else None
        return await self._push_interaction(
            payload, user_id, guild_id, channel_id=int(message["channel_id"])
        )

    async def push_interaction_payload(self, payload: JSONDict) -> Interaction:
        """Dispatch a hand-made interaction (for cases the helpers do not build)."""
        return await self._push_interaction(payload, USER_ID, None)

    async def _push_interaction(
        self,
        payload: JSONDict,
        user_id: int,
        guild_id: int | None,
        channel_id: int | None = None,
    ) -> Interaction:
        interaction_id = self.snowflake()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        if channel_id is None:
            channel_id = self.guild_channel(guild_id) if guild_id else self.dm_channel_of(user_id)
        payload.update(
            id=str(interaction_id),
            application_id=str(self.application_id),
            token=token,
            channel_id=str(channel_id),
        )
        if guild_id:
            payload["guild_id"] = str(guild_id)
            payload["member"] = self._member(user_id)
            payload["channel"] = {"id": str(channel_id), "type": 0, "guild_id": str(guild_id)}
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["authorizing_integration_owners"] = {"0": str(guild_id)}
            payload["context"] = 0
        else:
            payload["user"] = self.user(user_id)
            payload["channel"] = {
                "id": str(channel_id),
                "type": 1,
                "recipients": [self.user(user_id)],
            }
            payload["authorizing_integration_owners"] = {"0": str(self.bot_id)}
            payload["context"] = 1
        record = Interaction(
            interaction_id, token, payload, time.monotonic(), channel_id, guild_id, user_id
        )
        self.interactions[interaction_id] = record
        if not await self.dispatch("INTERACTION_CREATE", payload):
            raise AssertionError("no gateway connection has identified: nobody would get it")
        return record

    async def push_message(
        self,
        text: str,
        *,
        user_id: int = USER_ID,
        guild_id: int | None = None,
        mention: bool = False,
    ) -> JSONDict:
        """A user writes ``text`` in a DM (default), or in ``guild_id``'s channel; with
        ``mention`` it starts with ``<@bot>``. Returns the MESSAGE_CREATE data as sent."""
        message = load_payload("message_create")
        message_id = self.snowflake()
        author = self.user(user_id)
        content = f"<@{self.bot_id}> {text}" if mention else text
        message.update(id=str(message_id), author=author, content=content)
        if mention:
            message["mentions"] = [{**self.bot_user, "member": load_payload("member")}]
        if guild_id:
            message["guild_id"] = str(guild_id)
            message["channel_id"] = str(self.guild_channel(guild_id))
            member = load_payload("member")
            message["member"] = member
            intent = GUILD_MESSAGES
        else:
            message["channel_id"] = str(self.dm_channel_of(user_id))
            intent = DIRECT_MESSAGES
        sent = 0
        for session in list(self._sessions):
            if not session.identified.is_set() or not session.intents & intent:
                continue
            if not session.gets(guild_id):
                continue
            shown = message
            if guild_id and not mention and not session.intents & MESSAGE_CONTENT:
                shown = {**message, "content": "", "embeds": [], "attachments": []}
            await self._dispatch_to(session, "MESSAGE_CREATE", shown)
            sent += 1
        message["_dispatched_to"] = sent
        return message

    # ----------------------------------------------------------------- inspecting

    def calls_to(self, route: str) -> list[Call]:
        """Calls to ``route`` ("POST /channels/{channel_id}/messages"), in arrival order."""
        return [call for call in self.calls if call.route == route]

    def bot_messages(self, channel_id: int | None = None) -> list[JSONDict]:
        """Messages the bot posted (interaction answers included), oldest first."""
        return [
            m
            for m in self.messages.values()
            if channel_id is None or int(m["channel_id"]) == channel_id
        ]

    def dms_to(self, user_id: int) -> list[JSONDict]:
        """Messages the bot posted in its DM channel with ``user_id`` outside interactions."""
        channel = self.dm_channels.get(user_id)
        return [
            m
            for m in self.messages.values()
            if channel is not None
            and int(m["channel_id"]) == channel
            and not m.get("interaction_id")
        ]

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0) -> None:
        """Wait until ``condition()`` is true (re-checked after every answer or dispatch)."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("condition not met in time")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))

    async def replies(
        self, interaction: Interaction, count: int = 1, timeout: float = 10.0
    ) -> list[JSONDict]:
        """Wait for ``count`` messages in answer to ``interaction``; returns them all."""
        await self.wait_for(lambda: len(interaction.messages) >= count, timeout)
        return interaction.messages

    # ----------------------------------------------------------------- faults

    def fail_next(
        self,
        route: str,
        status: int,
        *,
        times: int = 1,
        code: int = 0,
        message: str | None = None,
        retry_after: float | None = None,
        is_global: bool = False,
        channel_id: int | None = None,
        via: bool = True,
    ) -> None:
        """Answer the next ``times`` requests to ``route`` (or ``"*"``) with ``status``.

        A 429 carries ``retry_after`` (default 0.05 s) in the body and the headers Discord
        sends with it (``Retry-After``, ``X-RateLimit-*``, ``Via``; ``via=False`` leaves
        ``Via`` out, as Cloudflare's ban does).
        """
        default = {
            403: "Missing Access",
            429: "You are being rate limited.",
            500: "500: Internal Server Error",
            502: "502: Bad Gateway",
        }.get(status, f"{status}: error")
        if status == 429 and retry_after is None:
            retry_after = 0.05
        self._faults.append(
            Fault(
                route,
                status,
                message or default,
                code,
                retry_after,
                is_global,
                channel_id,
                times,
                via,
            )
        )

    def close_dms(self, user_id: int) -> None:
        """``user_id`` does not accept DMs from the bot: posting in their DM channel is 403
        50007 "Cannot send messages to this user" (opening the channel still works)."""
        self._closed_dms.add(user_id)

    def _take_fault(self, route: str, params: dict[str, str]) -> Fault | None:
        for fault in self._faults:
            if fault.matches(route, params):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # ----------------------------------------------------------------- REST plumbing

    def _wrap(self, route: str, handler: Callable[[web.Request, Call], Any]) -> Any:
        authed = not route.split(" ", 1)[1].startswith(("/interactions/", "/webhooks/"))

        async def handle(request: web.Request) -> web.StreamResponse:
            params = dict(request.match_info)
            path = request.path
            if "token" in params:
                path = path.replace(params["token"], "{token}")
            body, files = await _read_body(request)
            call = Call(route, path, dict(request.query), body, time.monotonic(), files)
            self.calls.append(call)
            try:
                if self.latency:
                    await asyncio.sleep(self.latency)
                if authed and request.headers.get("Authorization") != f"Bot {self.token}":
                    raise ApiError(401, 0, "401: Unauthorized")
                fault = self._take_fault(route, params)
                if fault is not None:
                    return self._fault_response(call, fault)
                result = (
                    await handler(request, call)
                    if asyncio.iscoroutinefunction(handler)
                    else handler(request, call)
                )
            except ApiError as exc:
                call.status, call.result = exc.status, {"code": exc.code, "message": exc.message}
                return _error_response(exc.status, exc.code, exc.message, exc.errors)
            finally:
                self._changed.set()
            if result is None:
                call.status = 204
                return web.Response(status=204, headers=_bucket_headers(route))
            call.status, call.result = 200, result
            return _json_response(result, headers=_bucket_headers(route))

        return handle

    def _fault_response(self, call: Call, fault: Fault) -> web.Response:
        call.status = fault.status
        call.result = {"code": fault.code, "message": fault.message}
        if fault.status != 429:
            return _error_response(fault.status, fault.code, fault.message)
        retry_after = fault.retry_after or 0.0
        body = {"message": fault.message, "retry_after": retry_after, "global": fault.is_global}
        headers = {
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": _bucket(call.route),
            "X-RateLimit-Scope": "global" if fault.is_global else "user",
        }
        if fault.is_global:
            headers["X-RateLimit-Global"] = "true"
        if fault.via:
            headers["Via"] = "1.1 google"
        return _json_response(body, status=429, headers=headers)

    # ----------------------------------------------------------------- routes

    def _get_me(self, request: web.Request, call: Call) -> JSONDict:
        return self.bot_user

    def _get_application(self, request: web.Request, call: Call) -> JSONDict:
        return self.application

    def _get_gateway(self, request: web.Request, call: Call) -> JSONDict:
        return {"url": self.gateway_url}

    def _get_gateway_bot(self, request: web.Request, call: Call) -> JSONDict:
        return {
            "url": self.gateway_url,
            "shards": self.shard_count,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14_400_000,
                "max_concurrency": 1,
            },
        }

    def _scope(self, request: web.Request) -> int | None:
        if int(request.match_info["application_id"]) != self.application_id:
            raise ApiError(403, 50001, "Missing Access")
        guild = request.match_info.get("guild_id")
        if guild is None:
            return None
        if int(guild) not in self.guilds:
            raise ApiError(403, 50001, "Missing Access")
        return int(guild)

    def _put_commands(self, request: web.Request, call: Call) -> list[JSONDict]:
        scope = self._scope(request)
        if not isinstance(call.body, list) or len(call.body) > 100:
            raise ApiError(400, 50035, "Invalid Form Body")
        synced = []
        for command in call.body:
            _check_command(command)
            stored = {
                **command,
                "id": str(self.snowflake()),
                "application_id": str(self.application_id),
                "version": str(self.snowflake()),
                "type": command.get("type", 1),
            }
            if scope is not None:
                stored["guild_id"] = str(scope)
            synced.append(stored)
        self.commands[scope] = synced
        return synced

    def _get_commands(self, request: web.Request, call: Call) -> list[JSONDict]:
        return self.commands.get(self._scope(request), [])

    def _command(self, name: str, guild_id: int | None) -> JSONDict | None:
        scopes: list[int | None] = [guild_id, None] if guild_id else [None]
        for scope in scopes:
            for command in self.commands.get(scope, []):
                if command["name"] == name:
                    return command
        return None

    def _options(self, command: JSONDict, given: dict[str, Any]) -> list[JSONDict]:
        declared = {option["name"]: option for option in command.get("options", [])}
        options = []
        for name, value in given.items():
            option = declared.get(name)
            if option is None:
                raise AssertionError(f"/{command['name']} has no option {name!r}")
            kind = option["type"]
            if kind == OPTION_INTEGER and (not isinstance(value, int) or isinstance(value, bool)):
                raise AssertionError(f"{name} takes an integer")
            if kind == OPTION_STRING and not isinstance(value, str):
                raise AssertionError(f"{name} takes a string")
            choices = [choice["value"] for choice in option.get("choices", [])]
            if choices and value not in choices:
                raise AssertionError(f"{name}: {value!r} is not one of {choices}")
            if "min_value" in option and value < option["min_value"]:
                raise AssertionError(f"{name}: below {option['min_value']}")
            if "max_value" in option and value > option["max_value"]:
                raise AssertionError(f"{name}: above {option['max_value']}")
            options.append({"name": name, "type": kind, "value": value})
        for option in declared.values():
            if option.get("required") and option["name"] not in given:
                raise AssertionError(f"{option['name']} is required")
        return options

    def _interaction(self, request: web.Request) -> Interaction:
        interaction = self.interactions.get(int(request.match_info["interaction_id"]))
        if interaction is None or interaction.token != request.match_info["token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        return interaction

    def _callback(self, request: web.Request, call: Call) -> JSONDict | None:
        interaction = self._interaction(request)
        if interaction.acknowledged:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - interaction.pushed_at > self.ack_window:
            raise ApiError(404, 10062, "Unknown interaction")
        body = call.body if isinstance(call.body, dict) else {}
        kind, data = body.get("type"), body.get("data") or {}
        if kind not in (
            PONG,
            CHANNEL_MESSAGE,
            DEFERRED_CHANNEL_MESSAGE,
            DEFERRED_UPDATE,
            UPDATE_MESSAGE,
        ):
            raise ApiError(400, 50035, "Invalid Form Body")
        message: JSONDict | None = None
        if kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            if kind == CHANNEL_MESSAGE:
                _check_message(data, call.files)
            else:
                interaction.deferred_ephemeral = bool(int(data.get("flags", 0)) & EPHEMERAL)
                data = {"flags": data.get("flags", 0)}
            message = self._new_message(interaction.channel_id, data, call.files, interaction)
            interaction.original = message
        elif kind in (UPDATE_MESSAGE, DEFERRED_UPDATE):
            source = interaction.payload.get("message")
            if source is None:
                raise ApiError(400, 40043, "Interaction has no message to update")
            if kind == UPDATE_MESSAGE:
                _check_message(data, call.files, partial=True)
                current = self.messages.get(int(source["id"]), source)
                message = self._edited(current, data, call.files)
                interaction.updated = message
        interaction.callback = kind
        if call.query.get("with_response") not in ("1", "true", "True"):
            return None
        reply: JSONDict = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.payload["type"],
                "response_message_id": message["id"] if message else None,
                "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(
                    message and int(message.get("flags", 0)) & EPHEMERAL
                ),
            }
        }
        if message is not None:
            reply["resource"] = {"type": kind, "message": message}
        return reply

    def _webhook_interaction(self, request: web.Request) -> Interaction:
        if int(request.match_info["application_id"]) != self.application_id:
            raise ApiError(404, 10015, "Unknown Webhook")
        token = request.match_info["token"]
        for interaction in self.interactions.values():
            if interaction.token == token:
                if not interaction.acknowledged:
                    raise ApiError(404, 10015, "Unknown Webhook")
                return interaction
        raise ApiError(404, 10015, "Unknown Webhook")

    def _followup(self, request: web.Request, call: Call) -> JSONDict | None:
        interaction = self._webhook_interaction(request)
        body = call.body if isinstance(call.body, dict) else {}
        _check_message(body, call.files)
        message = self._new_message(interaction.channel_id, body, call.files, interaction)
        interaction.followups.append(message)
        return message if call.query.get("wait") in ("true", "1", "True") else None

    def _edit_webhook_message(self, request: web.Request, call: Call) -> JSONDict:
        interaction = self._webhook_interaction(request)
        target = request.match_info["message_id"]
        body = call.body if isinstance(call.body, dict) else {}
        _check_message(body, call.files, partial=True)
        source = interaction.payload.get("message")
        if target == "@original" and interaction.original is None and source is not None:
            current = self.messages.get(int(source["id"]), source)  # a component's message
            interaction.updated = self._edited(current, body, call.files)
            return interaction.updated
        if target == "@original":
            if interaction.original is None:
                raise ApiError(404, 10008, "Unknown Message")
            interaction.original = self._edited(interaction.original, body, call.files)
            return interaction.original
        for index, followup in enumerate(interaction.followups):
            if followup["id"] == target:
                interaction.followups[index] = self._edited(followup, body, call.files)
                return interaction.followups[index]
        raise ApiError(404, 10008, "Unknown Message")

    def _create_dm(self, request: web.Request, call: Call) -> JSONDict:
        body = call.body if isinstance(call.body, dict) else {}
        user_id = int(body.get("recipient_id", 0))
        if not user_id:
            raise ApiError(400, 50035, "Invalid Form Body")
        return {
            "id": str(self.dm_channel_of(user_id)),
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [self.user(user_id)],
        }

    def _create_message(self, request: web.Request, call: Call) -> JSONDict:
        channel_id = int(request.match_info["channel_id"])
        for user_id, channel in self.dm_channels.items():
            if channel == channel_id and user_id in self._closed_dms:
                raise ApiError(403, 50007, "Cannot send messages to this user")
        known = channel_id in self.dm_channels.values() or any(
            channel_id == int(c["id"]) for g in self.guilds.values() for c in g["channels"]
        )
        if not known:
            raise ApiError(404, 10003, "Unknown Channel")
        body = call.body if isinstance(call.body, dict) else {}
        _check_message(body, call.files)
        return self._new_message(channel_id, body, call.files, None)

    def _edit_message(self, request: web.Request, call: Call) -> JSONDict:
        message = self.messages.get(int(request.match_info["message_id"]))
        if message is None or message["channel_id"] != request.match_info["channel_id"]:
            raise ApiError(404, 10008, "Unknown Message")
        body = call.body if isinstance(call.body, dict) else {}
        _check_message(body, call.files, partial=True)
        return self._edited(message, body, call.files)

    # ----------------------------------------------------------------- messages

    def _guild_of_channel(self, channel_id: int) -> int | None:
        for guild_id, guild in self.guilds.items():
            if any(int(c["id"]) == channel_id for c in guild["channels"]):
                return guild_id
        return None

    def _new_message(
        self,
        channel_id: int,
        data: JSONDict,
        files: list[UploadedFile],
        interaction: Interaction | None,
    ) -> JSONDict:
        message = load_payload("message_create")
        message_id = self.snowflake()
        message.update(
            id=str(message_id),
            channel_id=str(channel_id),
            author=self.bot_user,
            content=data.get("content") or "",
            embeds=[],
            components=data.get("components") or [],
            flags=int(data.get("flags") or 0),
            timestamp=time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime()),
            nonce=None,
        )
        guild_id = self._guild_of_channel(channel_id)
        if guild_id is not None:
            message["guild_id"] = str(guild_id)
        message["attachments"] = self._attachments(channel_id, data, files)
        message["embeds"] = self._embeds(data.get("embeds") or [], message["attachments"])
        if interaction is not None:
            message["interaction_id"] = str(interaction.id)  # the fake's own marker
            message["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.payload["type"],
                "user": self.user(interaction.user_id),
                "authorizing_integration_owners": interaction.payload[
                    "authorizing_integration_owners"
                ],
            }
            message["webhook_id"] = str(self.application_id)
        self.messages[message_id] = message
        return message

    @staticmethod
    def _typing(request: web.Request, call: Call) -> None:
        """The typing indicator: recorded (``calls_to``), answered 204 as Discord does."""
        return None

    def _edited(self, message: JSONDict, data: JSONDict, files: list[UploadedFile]) -> JSONDict:
        edited = copy.deepcopy(message)
        if "content" in data:
            edited["content"] = data["content"] or ""
        if "components" in data:
            edited["components"] = data["components"] or []
        if "attachments" in data or files:
            edited["attachments"] = self._attachments(int(message["channel_id"]), data, files)
        if "embeds" in data:
            edited["embeds"] = self._embeds(data["embeds"] or [], edited["attachments"])
        if "flags" in data and data["flags"] is not None:
            edited["flags"] = (int(message.get("flags", 0)) & EPHEMERAL) | int(data["flags"])
        edited["edited_timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())
        self.messages[int(edited["id"])] = edited
        return edited

    def _attachments(
        self, channel_id: int, data: JSONDict, files: list[UploadedFile]
    ) -> list[JSONDict]:
        kept = [a for a in data.get("attachments") or [] if "url" in a]
        uploaded = []
        for upload in files:
            attachment_id = self.snowflake()
            filename = upload.filename or "file"
            url = f"{self.url}/attachments/{channel_id}/{attachment_id}/{filename}"
            uploaded.append(
                {
                    "id": str(attachment_id),
                    "filename": filename,
                    "size": len(upload.data),
                    "url": url,
                    "proxy_url": url,
                    "content_type": upload.content_type,
                }
            )
            self.uploads[str(attachment_id)] = upload.data
        return kept + uploaded

    @staticmethod
    def _embeds(embeds: list[JSONDict], attachments: list[JSONDict]) -> list[JSONDict]:
        by_name = {a["filename"]: a["url"] for a in attachments}
        shown = []
        for given in embeds:
            embed = {**given, "type": "rich"}
            image = embed.get("image")
            if image and str(image.get("url", "")).startswith("attachment://"):
                name = image["url"].removeprefix("attachment://")
                embed["image"] = {**image, "url": by_name.get(name, image["url"])}
            shown.append(embed)
        return shown


# --------------------------------------------------------------------------- helpers


async def _read_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    """The JSON payload and uploaded files of a request (JSON or multipart)."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        body: Any = None
        files: list[UploadedFile] = []
        async for part in reader:
            if not isinstance(part, aiohttp.BodyPartReader):
                continue
            data = await part.read()
            if part.name == "payload_json":
                body = json.loads(data)
            else:
                files.append(
                    UploadedFile(
                        part.name or "",
                        part.filename,
                        part.headers.get("Content-Type", "application/octet-stream"),
                        bytes(data),
                    )
                )
        return body, files
    if not request.can_read_body:
        return None, []
    raw = await request.read()
    if not raw:
        return None, []
    return json.loads(raw), []


def _bucket(route: str) -> str:
    return f"{zlib.crc32(route.encode()):08x}"


def _bucket_headers(route: str) -> dict[str, str]:
    """The rate-limit headers of a normal answer: a roomy bucket, never exhausted here."""
    return {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": "49",
        "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
        "X-RateLimit-Reset-After": "1.000",
        "X-RateLimit-Bucket": _bucket(route),
    }


def _invalid(field_path: str, message: str) -> ApiError:
    return ApiError(
        400,
        50035,
        "Invalid Form Body",
        {field_path: {"_errors": [{"code": "BASE_TYPE_INVALID", "message": message}]}},
    )


def _check_message(data: JSONDict, files: list[UploadedFile], partial: bool = False) -> None:
    """Discord's limits on a message body; ApiError 50035 for the first one broken."""
    content = data.get("content") or ""
    if len(content) > MAX_CONTENT:
        raise _invalid("content", f"Must be {MAX_CONTENT} or fewer in length.")
    embeds = data.get("embeds") or []
    if len(embeds) > MAX_EMBEDS:
        raise _invalid("embeds", f"Must be {MAX_EMBEDS} or fewer in length.")
    total = 0
    for index, embed in enumerate(embeds):
        title, description = embed.get("title") or "", embed.get("description") or ""
        if len(title) > MAX_EMBED_TITLE:
            raise _invalid(f"embeds.{index}.title", "Must be 256 or fewer in length.")
        if len(description) > MAX_EMBED_DESCRIPTION:
            raise _invalid(f"embeds.{index}.description", "Must be 4096 or fewer in length.")
        total += len(title) + len(description)
    if total > MAX_EMBED_TOTAL:
        raise _invalid("embeds", "Embed size exceeds maximum size of 6000")
    rows = data.get("components") or []
    if len(rows) > MAX_ROWS:
        raise _invalid("components", f"Must be {MAX_ROWS} or fewer in length.")
    seen: set[str] = set()
    for r, row in enumerate(rows):
        buttons = row.get("components") or []
        if row.get("type") != 1 or not 1 <= len(buttons) <= MAX_PER_ROW:
            raise _invalid(f"components.{r}", "An action row holds 1 to 5 buttons.")
        for b, button in enumerate(buttons):
            where = f"components.{r}.components.{b}"
            label, custom_id = button.get("label") or "", button.get("custom_id")
            if len(label) > MAX_LABEL:
                raise _invalid(f"{where}.label", f"Must be {MAX_LABEL} or fewer in length.")
            if button.get("style") != 5:  # a link button has a url, the others a custom_id
                if not custom_id or len(custom_id) > MAX_CUSTOM_ID:
                    raise _invalid(f"{where}.custom_id", "Must be 1 to 100 in length.")
                if custom_id in seen:
                    raise ApiError(
                        400,
                        50035,
                        "Invalid Form Body",
                        {where: {"_errors": [{"code": "COMPONENT_CUSTOM_ID_DUPLICATED"}]}},
                    )
                seen.add(custom_id)
    if not partial and not (content or embeds or files or data.get("attachments")):
        raise ApiError(400, 50006, "Cannot send an empty message")


def _check_command(command: JSONDict) -> None:
    name = command.get("name", "")
    if not (1 <= len(name) <= 32 and name == name.lower()):
        raise _invalid("name", "Command names are 1-32 lower-case characters.")
    if not 1 <= len(command.get("description", "")) <= 100:
        raise _invalid(f"{name}.description", "Must be between 1 and 100 in length.")
    for option in command.get("options", []):
        if not 1 <= len(option.get("description", "")) <= 100:
            raise _invalid(f"{name}.options.{option.get('name')}", "Description 1-100 long.")
        if len(option.get("choices", [])) > 25:
            raise _invalid(f"{name}.options.{option.get('name')}", "At most 25 choices.")

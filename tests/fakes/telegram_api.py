"""A fake Telegram Bot API server for tests and benchmarks.

Point a real python-telegram-bot ``Bot``/``Application`` at it::

    async with FakeTelegram() as fake:
        app = (
            ApplicationBuilder()
            .token(fake.token)
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        fake.push_text("/start")
        ...
        await fake.wait_for_calls("sendMessage", 1)

The server speaks the subset of the Bot API the bot uses (``getMe``, ``getUpdates`` with
long polling, ``sendMessage``, ``sendPhoto``, message edits, callback answers, commands,
webhooks), records every request as a :class:`Call`, and can inject faults (429 flood
control, 403 blocked users, 5xx) and delays.

Request encodings it accepts are the ones the Bot API accepts: query string,
``application/x-www-form-urlencoded`` (what PTB sends for requests without files),
``multipart/form-data`` (what PTB sends when a file is uploaded) and ``application/json``.
Form values are strings; they are decoded back into ints, bools, dicts and lists (for
example ``reply_markup``) before being recorded. Free-text parameters (``text``,
``caption``, ...) are never decoded.

The token appears in every request path; the fake never logs paths (aiohttp's access log
is off) and never puts the token in a record, ``repr`` or error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import re
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web

PAYLOAD_DIR = Path(__file__).parent / "payloads" / "telegram"

JSONDict = dict[str, Any]

#: Bot API limits the fake enforces with the same 400 errors Telegram returns.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: invalid request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

# Parameters whose string value is free text or an identifier and must never be JSON-decoded.
_RAW_STRING_KEYS = frozenset(
    {
        "text",
        "caption",
        "data",
        "callback_query_id",
        "inline_message_id",
        "url",
        "query",
        "title",
        "description",
        "short_description",
        "name",
        "parse_mode",
        "action",
        "emoji",
        "secret_token",
        "ip_address",
        "language_code",
        "photo",
        "document",
        "audio",
        "video",
        "voice",
        "animation",
        "sticker",
        "file_id",
        "business_connection_id",
        "message_effect_id",
        "username",
        "first_name",
        "last_name",
    }
)
_JSON_SCALAR = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class UploadedFile:
    """A file part of a multipart request (e.g. the ``photo`` of ``sendPhoto``)."""

    name: str
    filename: str | None
    content_type: str
    size: int
    data: bytes = field(repr=False)


@dataclass(slots=True)
class Call:
    """One request the fake received.

    ``params`` holds the decoded parameters (uploaded files appear as :class:`UploadedFile`).
    ``status`` and ``result`` are filled in when the fake answers; ``status`` is ``None``
    while the request is still being handled (e.g. a long poll or an injected delay).
    """

    method: str
    params: JSONDict
    at: float
    http_method: str = "POST"
    encoding: str = "none"  # "none" | "query" | "form" | "multipart" | "json"
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int | None = None
    result: Any = None
    held: bool = False  # carried out, answer held back (`FakeTelegram.hold_answers`)


@dataclass(slots=True)
class Fault:
    """An error answer for the next ``remaining`` matching requests."""

    method: str  # lower-cased method name, or "*" for any method
    status: int
    description: str
    retry_after: int | None = None
    chat_id: int | str | None = None
    remaining: int = 1

    def matches(self, method_key: str, params: JSONDict) -> bool:
        if self.method not in ("*", method_key):
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id


@dataclass(slots=True)
class Delay:
    """A pause before answering the next ``remaining`` matching requests."""

    method: str  # lower-cased method name, or "*"
    seconds: float
    remaining: int = 1


class ApiError(Exception):
    """Raised by a method handler to answer with ``{"ok": false, ...}``."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


# --------------------------------------------------------------------------- payloads


@functools.cache
def _payload_text(name: str) -> str:
    stem = name.removesuffix(".json")
    return (PAYLOAD_DIR / f"{stem}.json").read_text(encoding="utf-8")


def load_payload(name: str) -> JSONDict:
    """Return a fresh copy of the sample payload ``tests/fakes/payloads/telegram/<name>.json``.

    Available: ``get_me_result``, ``update_private_text``, ``update_command``,
    ``update_group_text``, ``update_group_mention``, ``update_callback_query``.
    """
    result: JSONDict = json.loads(_payload_text(name))
    return result


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _decode_value(key: str, value: Any) -> Any:
    if not isinstance(value, str) or not value or key in _RAW_STRING_KEYS:
        return value
    if value[0] in "{[" or _JSON_SCALAR.fullmatch(value):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _without_reply(message: JSONDict) -> JSONDict:
    """A shallow copy of ``message`` without ``reply_to_message`` (Telegram nests one level)."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _error_body(status: int, description: str, parameters: JSONDict | None = None) -> JSONDict:
    body: JSONDict = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def _json_response(status: int, body: JSONDict) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        content_type="application/json",
    )


# --------------------------------------------------------------------------- the server


class FakeTelegram:
    """An in-process fake of the Telegram Bot API on ``127.0.0.1`` (random free port).

    Use ``await fake.start()`` / ``await fake.stop()`` or ``async with FakeTelegram() as fake``.
    All methods that touch state are meant to be called from the event loop the server runs
    on; :meth:`push_update` may also be called from another thread.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "recovery_coach_bot",
        latency: float = 0.0,
    ) -> None:
        self.token = token
        #: Seconds every answer (but a long poll's wait) takes, like a real network round
        #: trip: the real Bot API is ~50-150 ms away. Requests overlap, as they would.
        self.latency = latency
        self.bot_username = bot_username
        bot_id_text = token.split(":", 1)[0]
        self.bot_id = int(bot_id_text) if bot_id_text.isdigit() else 123456

        me = load_payload("get_me_result")
        me.update(id=self.bot_id, username=bot_username)
        #: The ``getMe`` result.
        self.me: JSONDict = me
        #: ``from`` of every message the bot sends.
        self.bot_user: JSONDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": me["first_name"],
            "username": bot_username,
        }

        self.url = ""
        self.base_url = ""
        self.base_file_url = ""

        #: Every request, in arrival order.
        self.calls: list[Call] = []
        #: Set by ``setWebhook``, cleared by ``deleteWebhook``: the recorded params.
        self.webhook: JSONDict | None = None
        #: Commands by (scope JSON, language_code), as set by ``setMyCommands``.
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}

        self._by_method: dict[str, list[Call]] = {}
        self._answered: Counter[str] = Counter()
        self._waiters: list[tuple[str, int, asyncio.Future[None]]] = []

        self._updates: deque[JSONDict] = deque()
        self._next_update_id = 512_000_001
        self._update_arrived = asyncio.Event()
        self._closing = asyncio.Event()

        self._chats: dict[int | str, JSONDict] = {}
        self._next_message_id: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], JSONDict] = {}
        self._last_bot_message: dict[int | str, JSONDict] = {}
        self._callback_ids = itertools.count(4382017265478300001)
        self._file_ids = itertools.count(1)

        self._faults: list[Fault] = []
        self._delays: list[Delay] = []
        self._held: set[str] = set()
        self._release = asyncio.Event()
        self._blocked: set[int | str] = set()
        self._stubs: dict[str, Any] = {}

        self._handlers: dict[str, tuple[str, Callable[[JSONDict], Any]]] = {}
        for name, handler in (
            ("getMe", self._get_me),
            ("sendMessage", self._send_message),
            ("sendPhoto", self._send_photo),
            ("editMessageText", self._edit_message_text),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("answerCallbackQuery", self._true),
            ("sendChatAction", self._true),
            ("deleteMessage", self._delete_message),
            ("setMyCommands", self._set_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("close", self._true),
            ("logOut", self._true),
        ):
            self._handlers[name.lower()] = (name, handler)

        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def __repr__(self) -> str:  # never show the token
        return f"FakeTelegram(url={self.url!r}, bot_username={self.bot_username!r})"

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start serving on a random free port of 127.0.0.1."""
        if self._runner is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._closing.clear()

        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._handle_file)
        # access_log=None: the access log would print every path, and every path has the token.
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self.url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.url}/bot"
        self.base_file_url = f"{self.url}/file/bot"

    async def stop(self) -> None:
        """Answer pending long polls and delays at once, then shut the server down."""
        if self._runner is None:
            return
        self._closing.set()
        self._update_arrived.set()
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

    # ----------------------------------------------------------------- inspecting calls

    def calls_to(self, method: str) -> list[Call]:
        """Calls to ``method`` (case-insensitive, like the Bot API), in arrival order."""
        return list(self._by_method.get(method.lower(), ()))

    def sent_messages(self, chat_id: int | str | None = None) -> list[JSONDict]:
        """Params of the successful ``sendMessage``/``sendPhoto`` calls, in arrival order.

        Calls answered with an error (a fault, a blocked user) are not included; see
        :meth:`calls_to` for every attempt.
        """
        return [
            call.params
            for call in self.calls
            if call.status == 200
            and call.method in ("sendMessage", "sendPhoto")
            and (chat_id is None or call.params.get("chat_id") == chat_id)
        ]

    async def wait_for_calls(self, method: str, count: int, timeout: float = 5.0) -> list[Call]:
        """Wait until at least ``count`` calls to ``method`` have been answered.

        Returns :meth:`calls_to` (which may also hold calls still in flight). Raises
        ``TimeoutError`` saying how many calls arrived if ``timeout`` passes first.
        """
        key = method.lower()
        if self._answered[key] < count:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            waiter = (key, count, future)
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(future, timeout)
            except TimeoutError:
                raise TimeoutError(
                    f"{method}: {self._answered[key]} of {count} calls answered within {timeout}s"
                ) from None
            finally:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
        return self.calls_to(method)

    def clear_calls(self) -> None:
        """Forget recorded calls (e.g. between benchmark rounds); state and queues stay."""
        self.calls.clear()
        self._by_method.clear()
        self._answered.clear()

    # ----------------------------------------------------------------- pushing updates

    @property
    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed by a ``getUpdates`` offset."""
        return len(self._updates)

    def push_update(self, update: JSONDict) -> JSONDict:
        """Queue ``update`` for ``getUpdates``; assigns ``update_id`` when it has none."""
        update_id = update.get("update_id")
        if update_id is None:
            update["update_id"] = update_id = self._next_update_id
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._updates.append(update)
        self._wake_pollers()
        return update

    def push_text(
        self,
        text: str,
        *,
        user_id: int = 1001,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Alex",
        entities: list[JSONDict] | None = None,
        reply_to_bot: bool = False,
    ) -> JSONDict:
        """Queue a ``message`` update with ``text`` from a user.

        ``chat_id`` defaults to ``user_id`` in private chats and to the sample group's id
        otherwise. Unless ``entities`` is given, a ``bot_command`` entity is added when the
        text starts with ``/`` and a ``mention`` entity for each ``@bot_username``.
        ``reply_to_bot`` makes the message a reply to the bot's last message in the chat.
        """
        private = chat_type == "private"
        update = load_payload("update_private_text" if private else "update_group_text")
        message = update["message"]
        if chat_id is None:
            chat_id = user_id if private else message["chat"]["id"]
        message["from"].update(id=user_id, first_name=first_name)
        if private:
            chat: JSONDict = {"id": chat_id, "first_name": first_name, "type": "private"}
        else:
            chat = {"id": chat_id, "title": message["chat"]["title"], "type": chat_type}
        message["chat"] = self._chats.setdefault(chat_id, chat)
        message["message_id"] = self._new_message_id(chat_id)
        message["date"] = int(time.time())
        message["text"] = text
        if entities is None:
            entities = self._auto_entities(text)
        if entities:
            message["entities"] = entities
        if reply_to_bot:
            replied = self._last_bot_message.get(chat_id) or self._bot_message(
                chat_id, text="How did the session feel?"
            )
            message["reply_to_message"] = _without_reply(replied)
        self._messages[(chat_id, message["message_id"])] = message
        del update["update_id"]
        return self.push_update(update)

    def push_callback(
        self,
        data: str,
        *,
        user_id: int = 1001,
        chat_id: int | None = None,
        message_id: int | None = None,
        first_name: str = "Alex",
    ) -> JSONDict:
        """Queue a ``callback_query`` update: ``user_id`` pressed a button carrying ``data``.

        The query's ``message`` is the bot's message ``message_id`` in the chat (default: the
        bot's last message there, or a new sample message with an inline keyboard). The
        message is remembered, so the bot can edit it afterwards.
        """
        update = load_payload("update_callback_query")
        query = update["callback_query"]
        if chat_id is None:
            chat_id = user_id
        if message_id is None:
            known = self._last_bot_message.get(chat_id)
        else:
            known = self._messages.get((chat_id, message_id))
        if known is None:
            sample = query["message"]
            known = self._bot_message(
                chat_id,
                text=sample["text"],
                reply_markup=sample["reply_markup"],
                message_id=message_id,
            )
        query["id"] = str(next(self._callback_ids))
        query["from"].update(id=user_id, first_name=first_name)
        query["message"] = _without_reply(known)
        query["data"] = data
        del update["update_id"]
        return self.push_update(update)

    # ----------------------------------------------------------------- faults

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` (``"*"``: any) with an error.

        429 answers ``Too Many Requests: retry after N`` with ``parameters.retry_after``
        (PTB raises ``RetryAfter``); 403 defaults to ``Forbidden: bot was blocked by the
        user``; other statuses answer the plain error JSON. With ``chat_id`` only calls to
        that chat match.
        """
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        key = "*" if method == "*" else method.lower()
        self._faults.append(Fault(key, status, description, retry_after, chat_id, times))

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Wait ``seconds`` before answering the next ``times`` calls to ``method``."""
        key = "*" if method == "*" else method.lower()
        self._delays.append(Delay(key, seconds, times))

    def hold_answers(self, method: str) -> None:
        """Carry out calls to ``method`` (the message is sent) but keep their answers back
        until :meth:`release_answers`: a client killed meanwhile never learns the outcome."""
        self._held.add(method.lower())
        self._release.clear()

    def release_answers(self) -> None:
        """Answer every held call and stop holding."""
        self._held.clear()
        self._release.set()

    def held_calls(self, method: str) -> list[Call]:
        """Calls to ``method`` carried out whose answer is still held back."""
        return [call for call in self.calls_to(method) if call.held]

    def block_user(self, chat_id: int | str) -> None:
        """Answer 403 to every call aimed at ``chat_id`` until :meth:`unblock_user`."""
        self._blocked.add(chat_id)

    def unblock_user(self, chat_id: int | str) -> None:
        """Undo :meth:`block_user`."""
        self._blocked.discard(chat_id)

    def stub(self, method: str, result: Any) -> None:
        """Answer ``{"ok": true, "result": result}`` to ``method`` (e.g. one not built in)."""
        self._stubs[method.lower()] = result

    # ----------------------------------------------------------------- HTTP handling

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        method_raw = request.match_info["method"]
        key = method_raw.lower()
        known = self._handlers.get(key)
        name = known[0] if known else method_raw
        try:
            params, files, encoding = await self._read_params(request)
        except ValueError:
            params, files, encoding = {}, {}, "invalid"
        call = Call(name, params, arrived, request.method, encoding, files)
        self.calls.append(call)
        self._by_method.setdefault(key, []).append(call)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if encoding == "invalid":
                raise ApiError(400, "Bad Request: can't parse request body")
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            await self._apply_delay(key)
            self._apply_fault(key, params)
            if key == "getupdates":
                result: Any = await self._get_updates(params)
            elif key in self._stubs:
                result = self._stubs[key]
            elif known:
                result = known[1](params)
            else:
                raise ApiError(404, "Not Found")
        except ApiError as err:
            status = err.status
            body = _error_body(err.status, err.description, err.parameters)
        except Exception as exc:  # a bug in the fake: answer 500 without logging the path
            status = 500
            body = _error_body(500, f"Internal Server Error: fake failed: {exc!r}")
        else:
            status, body = 200, {"ok": True, "result": result}
            call.result = result
        call.status = status
        if key in self._held:
            call.held = True
            await self._wait_release()
            call.held = False
        self._answered[key] += 1
        self._notify_waiters(key)
        return _json_response(status, body)

    async def _wait_release(self) -> None:
        release = asyncio.ensure_future(self._release.wait())
        closing = asyncio.ensure_future(self._closing.wait())
        await asyncio.wait({release, closing}, return_when=asyncio.FIRST_COMPLETED)
        release.cancel()
        closing.cancel()

    async def _handle_file(self, request: web.Request) -> web.Response:
        return _json_response(404, _error_body(404, "Not Found"))

    @staticmethod
    async def _read_params(
        request: web.Request,
    ) -> tuple[JSONDict, dict[str, UploadedFile], str]:
        params: JSONDict = {k: _decode_value(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        encoding = "query" if params else "none"
        if not request.body_exists:
            return params, files, encoding
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            params.update({k: _decode_value(k, v) for k, v in body.items()})
            encoding = "json"
        elif ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = await request.post()
            for k, v in form.items():
                if isinstance(v, web.FileField):
                    data = v.file.read()
                    upload = UploadedFile(k, v.filename, v.content_type, len(data), data)
                    files[k] = upload
                    params[k] = upload
                else:
                    text = v if isinstance(v, str) else bytes(v).decode()
                    params[k] = _decode_value(k, text)
            encoding = "multipart" if ctype == "multipart/form-data" else "form"
        return params, files, encoding

    async def _apply_delay(self, key: str) -> None:
        for delay in self._delays:
            if delay.method in ("*", key):
                delay.remaining -= 1
                if delay.remaining <= 0:
                    self._delays.remove(delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), delay.seconds)
                return

    def _apply_fault(self, key: str, params: JSONDict) -> None:
        for fault in self._faults:
            if fault.matches(key, params):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                parameters = {"retry_after": fault.retry_after} if fault.status == 429 else None
                raise ApiError(fault.status, fault.description, parameters)
        chat_id = params.get("chat_id")
        if chat_id is not None and chat_id in self._blocked:
            if isinstance(chat_id, int) and chat_id < 0:
                raise ApiError(403, "Forbidden: bot was kicked from the group chat")
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _wake_pollers(self) -> None:
        if self._loop is None or threading.get_ident() == self._loop_thread:
            self._update_arrived.set()
        else:
            self._loop.call_soon_threadsafe(self._update_arrived.set)

    def _notify_waiters(self, key: str) -> None:
        if not self._waiters:
            return
        answered = self._answered[key]
        for waiter_key, count, future in self._waiters:
            if waiter_key == key and answered >= count and not future.done():
                future.set_result(None)

    # ----------------------------------------------------------------- Bot API methods

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        if isinstance(offset, int):
            self._confirm(offset)
        limit = params.get("limit")
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        timeout = params.get("timeout")
        if isinstance(timeout, int | float) and timeout > 0 and not self._updates:
            deadline = time.monotonic() + timeout
            while not self._updates and not self._closing.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._update_arrived.clear()
                try:
                    await asyncio.wait_for(self._update_arrived.wait(), remaining)
                except TimeoutError:
                    break
        return list(itertools.islice(self._updates, limit))

    def _confirm(self, offset: int) -> None:
        """Drop updates confirmed by ``offset`` (negative: keep only the last ``-offset``)."""
        updates = self._updates
        if offset < 0:
            while len(updates) > -offset:
                updates.popleft()
            return
        while updates and updates[0]["update_id"] < offset:
            updates.popleft()

    def _true(self, params: JSONDict) -> bool:
        return True

    def _get_me(self, params: JSONDict) -> JSONDict:
        return self.me

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._require_chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        message = self._bot_message(
            chat_id,
            text=text,
            reply_markup=self._checked_markup(params),
            entities=params.get("entities"),
        )
        self._attach_reply(message, chat_id, params)
        return message

    def _send_photo(self, params: JSONDict) -> JSONDict:
        chat_id = self._require_chat(params)
        photo = params.get("photo")
        if photo is None or photo == "":
            raise ApiError(400, "Bad Request: there is no photo in the request")
        caption = params.get("caption")
        if isinstance(caption, str) and len(caption) > MAX_CAPTION_LENGTH:
            raise ApiError(400, "Bad Request: message caption is too long")
        size = photo.size if isinstance(photo, UploadedFile) else 48_213
        n = next(self._file_ids)
        sizes = [
            {
                "file_id": f"AgACAgIAAxkDAAI{n:08d}{suffix}",
                "file_unique_id": f"AQAD{n:08d}{suffix}",
                "width": width,
                "height": width * 3 // 4,
                "file_size": max(size * width // 1280, 1),
            }
            for suffix, width in (("s", 90), ("m", 320), ("x", 800), ("y", 1280))
        ]
        message = self._bot_message(
            chat_id,
            reply_markup=self._checked_markup(params),
            photo=sizes,
            caption=caption,
            caption_entities=params.get("caption_entities"),
        )
        self._attach_reply(message, chat_id, params)
        return message

    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        markup = self._checked_markup(params)
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        message["text"] = text
        self._set_optional(message, "entities", params.get("entities"))
        self._set_optional(message, "reply_markup", markup)  # omitted markup removes buttons
        message["edit_date"] = int(time.time())
        return message

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        markup = self._checked_markup(params)
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        if message.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        self._set_optional(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return message

    def _delete_message(self, params: JSONDict) -> bool:
        chat_id = self._require_chat(params)
        message_id = params.get("message_id")
        if (
            not isinstance(message_id, int)
            or self._messages.pop((chat_id, message_id), None) is None
        ):
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        self.commands[self._commands_key(params)] = commands
        return True

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return self.commands.get(self._commands_key(params), [])

    def _delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url")
        if not url:  # setWebhook with an empty url removes the webhook
            self.webhook = None
        else:
            self.webhook = params
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        return info

    # ----------------------------------------------------------------- helpers

    def _require_chat(self, params: JSONDict) -> int | str:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if not isinstance(chat_id, int | str):
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    @staticmethod
    def _checked_markup(params: JSONDict) -> JSONDict | None:
        """The ``reply_markup`` to echo in the Message: only inline keyboards are echoed."""
        markup = params.get("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return None
        for row in markup["inline_keyboard"]:
            for button in row:
                data = button.get("callback_data")
                if data is not None and len(data.encode()) > MAX_CALLBACK_DATA_BYTES:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    @staticmethod
    def _set_optional(message: JSONDict, key: str, value: Any) -> None:
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value

    def _message_to_edit(self, params: JSONDict) -> JSONDict:
        chat_id = self._require_chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _chat(self, chat_id: int | str) -> JSONDict:
        chat = self._chats.get(chat_id)
        if chat is None:
            if isinstance(chat_id, int) and chat_id > 0:
                chat = {"id": chat_id, "first_name": "Alex", "type": "private"}
            elif isinstance(chat_id, int) and str(chat_id).startswith("-100"):
                chat = {"id": chat_id, "title": "Morning Runners", "type": "supergroup"}
            elif isinstance(chat_id, int):
                chat = {"id": chat_id, "title": "Morning Runners", "type": "group"}
            else:  # "@channelusername"
                chat = {"id": -1002000000001, "username": chat_id[1:], "type": "channel"}
            self._chats[chat_id] = chat
        return chat

    def _new_message_id(self, chat_id: int | str) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _bot_message(
        self,
        chat_id: int | str,
        *,
        message_id: int | None = None,
        **fields: Any,
    ) -> JSONDict:
        """Create, remember and return a Message sent by the bot (``None`` fields dropped)."""
        if message_id is None:
            message_id = self._new_message_id(chat_id)
        else:
            self._next_message_id[chat_id] = max(
                self._next_message_id.get(chat_id, 1), message_id + 1
            )
        message: JSONDict = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        message.update((k, v) for k, v in fields.items() if v is not None)
        self._messages[(chat_id, message_id)] = message
        self._last_bot_message[chat_id] = message
        return message

    def _attach_reply(self, message: JSONDict, chat_id: int | str, params: JSONDict) -> None:
        reply_id = params.get("reply_to_message_id")
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            reply_id = reply_parameters.get("message_id")
        if isinstance(reply_id, int):
            replied = self._messages.get((chat_id, reply_id))
            if replied is not None:
                message["reply_to_message"] = _without_reply(replied)

    def _auto_entities(self, text: str) -> list[JSONDict]:
        entities: list[JSONDict] = []
        command_end = 0
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            command_end = len(command)
            entities.append({"offset": 0, "length": utf16_len(command), "type": "bot_command"})
        mention = f"@{self.bot_username}"
        start = text.find(mention, command_end)
        while start != -1:
            entities.append(
                {"offset": utf16_len(text[:start]), "length": utf16_len(mention), "type": "mention"}
            )
            start = text.find(mention, start + len(mention))
        return entities

"""The Telegram adapter: the whole coach over python-telegram-bot (PTB ≥ 22).

Incoming: one `MessageHandler` for text (commands included: the coach routes them) and one
`CallbackQueryHandler` for button taps. Both call the synchronous coach directly — it is
SQLite-fast — and send every `Reply` back as new messages. State is always per user
(`effective_user.id`), never per chat, so a user is the same person in a group and in
their private chat.

Concurrency: `PerUserUpdateProcessor` handles different users' updates at the same time
(a reply spends most of its life waiting for the Bot API's answer) and each user's in the
order they were sent, one at a time. A user with `USER_QUEUE_LIMIT` updates waiting is told
once to slow down and the excess is dropped, so one person's flood never delays another's
answer. The coach still runs on the event loop thread, one turn at a time.

Outgoing: replies are plain text escaped for HTML (the title in <b>), buttons become
inline keyboards, an `Image` a photo and an `Attachment` a document. `TelegramAdapter.send`
is the `Messenger` entry point the scheduler uses for nudges; it maps Telegram's errors
onto `Delivery` values and marks users who blocked the bot as unreachable.

Reliability: `RetryingRateLimiter` (PTB's `AIORateLimiter` plus retries of 5xx and
connection errors) sits under every Bot API call except `getUpdates`, so a 429's
`retry_after` is honoured and retried everywhere. An error handler logs a failed update
and tells the user in plain words; one bad update never stops the bot.

Secrets: the token is part of every request URL, and PTB's own debug log and `Bot.__repr__`
contain it. We never log Bot objects or URLs, keep the HTTP client loggers at WARNING,
and `redact_token_in_logs` scrubs the token from any log record as defence in depth.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import html
import logging
import secrets
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Hashable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from bot.adapters.base import Delivery, SendResult
from bot.adapters.buttons import ButtonTokens, Capabilities, fit_rows
from bot.adapters.telegram_transport import BotApiRequest
from bot.adapters.telegram_webhook import WebhookReceiver
from bot.core.coach import Coach
from bot.core.records import Store, User
from bot.core.replies import Button, Reply
from bot.core.turn import Sender
from bot.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "telegram"
MAX_TEXT = 4096  # Bot API limit for a message
MAX_CAPTION = 1024  # Bot API limit for a photo/document caption
RATE_LIMIT_RETRIES = 3  # 429s retried after retry_after before giving up
SERVER_ERROR_RETRIES = 3  # 5xx / connection errors retried before giving up
SERVER_ERROR_BACKOFF = 0.25  # seconds before the first retry; doubles each time
ALLOWED_UPDATES = ("message", "callback_query")
MAX_CONCURRENT_UPDATES = 256  # updates being handled at once, all users (PTB's default)
USER_QUEUE_LIMIT = 20  # one user's updates waiting or in hand; more are dropped
REDACTED = "[REDACTED]"

OPEN_PRIVATE_CHAT = (
    "That answer has your personal data, so I only send it in a private chat. "
    "Open a chat with me (@{username}), press Start, then send the command there."
)
SENT_PRIVATELY = "I've sent that to you in our private chat."
CHOSEN = "→"  # marks the choice on a tapped message


# ------------------------------------------------------------------ logging hygiene


def redact_token_in_logs(token: str) -> Callable[[], None]:
    """Scrub the token's secret from every log record created from now on; returns an undo.

    Why a record factory and not a handler filter: filters on a logger do not see records
    propagated from child loggers, and handlers added later (by tests, by an operator) would
    miss a handler filter. The factory sees every record at creation, whoever logs it.
    Redacted records get `token_redacted = True`, so tests can tell who needed scrubbing.
    """
    secret = token.split(":", 1)[1] if ":" in token else token
    if len(secret) < 4:  # a blank or toy token: nothing meaningful to match
        return lambda: None
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record, secret)
        return record

    logging.setLogRecordFactory(factory)

    def undo() -> None:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(previous)

    return undo


def _redact_record(record: logging.LogRecord, secret: str) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: leave it to logging's own error reporting
        return
    if secret in message:
        record.msg, record.args = message.replace(secret, REDACTED), None
        record.token_redacted = True
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        if secret in text:
            record.exc_text = text.replace(secret, REDACTED)
            record.exc_info = None  # the live exception still holds the secret
            record.token_redacted = True
    if record.stack_info and secret in record.stack_info:
        record.stack_info = record.stack_info.replace(secret, REDACTED)
        record.token_redacted = True


def quiet_http_loggers() -> None:
    """httpx logs every request URL at INFO, and Telegram URLs contain the token."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


# ------------------------------------------------------------------ rate limits & retries


class RetryingRateLimiter(AIORateLimiter):
    """`AIORateLimiter` that also retries server errors (5xx) and dropped connections.

    PTB raises `NetworkError` for both and never retries them itself. `BadRequest` (our
    fault) and `TimedOut` (the request may have been delivered: a retry could send a
    message twice) are not retried. Every Bot API call but `getUpdates` goes through here.
    """

    def __init__(
        self,
        *,
        overall_max_rate: float,
        max_retries: int = RATE_LIMIT_RETRIES,
        server_retries: int = SERVER_ERROR_RETRIES,
        backoff: float = SERVER_ERROR_BACKOFF,
    ) -> None:
        super().__init__(overall_max_rate=overall_max_rate, max_retries=max_retries)
        self.server_retries = server_retries
        self.backoff = backoff

    async def process_request(  # noqa: PLR0917 - PTB's signature
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        delay = self.backoff
        for attempt in range(self.server_retries + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except (BadRequest, TimedOut):
                raise
            except NetworkError as exc:
                if attempt == self.server_retries:
                    raise
                log.debug(  # the final failure is what callers report; retries are routine
                    "Telegram %s failed (%s); retry %d in %.2f s",
                    endpoint,
                    type(exc).__name__,
                    attempt + 1,
                    delay,
                )
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


def retry_after_seconds(error: RetryAfter) -> float:
    """`RetryAfter.retry_after` in seconds, whichever type this PTB version hands out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# ------------------------------------------------------------------ concurrency & fairness


@dataclass(slots=True)
class _UserQueue:
    """One user's updates in hand: the lock orders them, `pending` counts them."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: int = 0  # waiting for the lock, or holding it
    dropped: int = 0  # since the queue last ran empty


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Updates handled concurrently, each user's one at a time in the order sent.

    PTB hands every update to `do_process_update` in its own task, in the order the updates
    arrived; `key` names the queue an update joins (a user), or None for an update that needs
    no turn (group chatter not meant for us), which is handled at once. A queue's lock is
    first come, first served, so one user's messages are answered in the order sent while
    other users proceed in parallel, up to `max_concurrent` updates in hand at once.

    Fairness: a user with `per_user_limit` updates already in their queue has the next ones
    dropped, and `on_overflow` is awaited for the first of them (to say "slow down"); the
    count is logged when their queue runs empty. A flooding user therefore holds at most one
    of the `max_concurrent` places, and everyone else's updates go past theirs.

    PTB's own bound (`max_concurrent_updates`) is taken before an update reaches us, so it is
    set out of the way: otherwise updates waiting for their user's earlier one would hold
    places that other users' updates need. The effective bound is `max_concurrent`.
    """

    def __init__(
        self,
        *,
        key: Callable[[object], Hashable | None],
        on_overflow: Callable[[object], Awaitable[None]],
        max_concurrent: int = MAX_CONCURRENT_UPDATES,
        per_user_limit: int = USER_QUEUE_LIMIT,
    ) -> None:
        super().__init__(2**31 - 1)  # see the class docstring: never the one that waits
        self.key = key
        self.on_overflow = on_overflow
        self.max_concurrent = max_concurrent
        self.per_user_limit = per_user_limit
        self._in_hand = asyncio.BoundedSemaphore(max_concurrent)
        self._queues: dict[Hashable, _UserQueue] = {}

    async def initialize(self) -> None:
        """Nothing to set up: queues are made as users write."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB waits for every update in hand before calling this."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Everything up to the lock runs without yielding, so queues fill in arrival order.
        try:
            key = self.key(update)
        except Exception:  # a bug in `key`: the handlers will meet it too, and report it
            log.exception("could not tell whose update this is")
            key = None
        if key is None:
            async with self._in_hand:
                await coroutine
            return
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _UserQueue()
        if queue.pending >= self.per_user_limit:
            if isinstance(coroutine, Coroutine):
                coroutine.close()  # never started: closing it avoids "never awaited"
            queue.dropped += 1
            if queue.dropped == 1:
                await self.on_overflow(update)
            return
        queue.pending += 1
        try:
            async with queue.lock, self._in_hand:
                await coroutine
        finally:
            queue.pending -= 1
            if queue.pending == 0:
                del self._queues[key]
                if queue.dropped:
                    log.info(
                        "a user sent faster than the bot answers: %d updates dropped",
                        queue.dropped,
                    )


# ------------------------------------------------------------------ rendering


CAPABILITIES = Capabilities(
    max_rows=100, max_per_row=8, max_label=64, max_data=64, markup="html", images=True, files=True
)
"""Telegram's limits: 64 bytes of callback data, up to 100 buttons in rows of up to 8."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """A reply as Telegram messages: HTML text chunks, a keyboard, optional media."""

    chunks: tuple[str, ...]
    reply: Reply
    rows: tuple[tuple[Button, ...], ...] = ()  # the buttons within Telegram's limits

    @property
    def keyboard(self) -> InlineKeyboardMarkup | None:
        """The buttons as PTB objects (for media messages; text goes as plain JSON)."""
        if not self.rows:
            return None
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(button.label, callback_data=button.data) for button in row]
                for row in self.rows
            ]
        )


def escape(text: str) -> str:
    """Plain text for `parse_mode=HTML`: only &, < and > are special there."""
    return html.escape(text, quote=False)


def render_reply(reply: Reply, tokens: ButtonTokens | None = None) -> Rendered:
    """Escape the text for HTML, bold the title, split at Telegram's length limit; fit the
    buttons into Telegram's rows, their long data into tokens."""
    title = f"<b>{escape(reply.title)}</b>\n" if reply.title else ""
    chunks = split_html(reply.text, MAX_TEXT - len(title)) if reply.text else []
    if title:
        chunks = [title + (chunks[0] if chunks else ""), *chunks[1:]]
    rows = fit_rows(reply.buttons, CAPABILITIES)
    if tokens is not None:
        rows = tuple(tuple(Button(b.label, tokens.encode(b.data), b.role) for b in r) for r in rows)
    return Rendered(tuple(chunk for chunk in chunks if chunk.strip()), reply, rows)


def split_html(text: str, limit: int) -> list[str]:
    """Escape `text` into pieces of at most `limit` characters, cut at line ends if possible.

    Escaping happens per piece, so a cut never lands inside an entity like `&amp;`.
    """
    escaped = escape(text)
    if len(escaped) <= limit:
        return [escaped]
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        for part in _hard_split(line, limit):
            if current and len(current) + len(part) > limit:
                pieces.append(current)
                current = ""
            current += part
    if current:
        pieces.append(current)
    return pieces


def _hard_split(line: str, limit: int) -> list[str]:
    """One line, escaped, in pieces of at most `limit` (escaping grows a char up to 5x)."""
    escaped = escape(line)
    if len(escaped) <= limit:
        return [escaped]
    step = max(limit // 5, 1)
    return [escape(line[i : i + step]) for i in range(0, len(line), step)]


# ------------------------------------------------------------------ groups


def text_for_coach(message: Message, bot_id: int, username: str) -> str | None:
    """What the coach should read from `message`, or None when it is not for us.

    Private chats: everything. Groups: commands (not those aimed at another bot), messages
    that mention us, and replies to our messages; the rest is people talking to each other.
    `/start` deep-link payloads and `@ourbot` command suffixes are dropped.
    """
    text = message.text or message.caption or ""
    private = message.chat.type == ChatType.PRIVATE
    if text.startswith("/"):
        command, _, argument = text.partition(" ")
        name, _, target = command.partition("@")
        if target and target.lower() != username.lower():
            return None  # "/roll@other_bot" in a group is for someone else
        if name.lower() == "/start":
            return "/start"  # a deep-link payload ("/start abc123") carries nothing for us
        return f"{name} {argument}".strip()
    if private:
        return text
    if _mentions_bot(message, bot_id, username):
        return _without_mention(text, username)
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return text
    return None


def _mentions_bot(message: Message, bot_id: int, username: str) -> bool:
    handle = f"@{username}".lower()
    entities = message.parse_entities() if message.text else message.parse_caption_entities()
    for entity, value in entities.items():
        if entity.type == MessageEntity.MENTION and value.lower() == handle:
            return True
        if (
            entity.type == MessageEntity.TEXT_MENTION
            and entity.user is not None
            and entity.user.id == bot_id
        ):
            return True
    return False


def _without_mention(text: str, username: str) -> str:
    handle = f"@{username}"
    lowered, out, start = text.lower(), [], 0
    while (found := lowered.find(handle.lower(), start)) != -1:
        out.append(text[start:found])
        start = found + len(handle)
    out.append(text[start:])
    return " ".join("".join(out).split())


# ------------------------------------------------------------------ the adapter


class TelegramAdapter:
    """The coach on Telegram; also the `Messenger` the scheduler sends nudges through."""

    platform = PLATFORM

    def __init__(
        self,
        coach: Coach,
        store: Store,
        settings: Settings,
        *,
        poll_timeout: float = 10.0,
        rate_limit_retries: int = RATE_LIMIT_RETRIES,
    ) -> None:
        if not settings.telegram_token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.coach = coach
        self.store = store
        self.settings = settings
        self.poll_timeout = poll_timeout
        self.rate_limit_retries = rate_limit_retries
        self.slow_down = coach.library.messages["slow_down"]  # missing: fail at start-up
        # Before the Application exists: PTB's Bot logs its URL (with the token) at DEBUG.
        self._undo_redaction = redact_token_in_logs(settings.telegram_token)
        self.application: Application[Any, Any, Any, Any, Any, Any] = self.build_application()
        self._started = False
        self._receiver: WebhookReceiver | None = None
        self.replies_missed = 0  # replies Telegram would not take, since start
        self.tokens = ButtonTokens(CAPABILITIES.max_data or 64)

    # --- lifecycle -------------------------------------------------------------------

    def build_application(self) -> Application[Any, Any, Any, Any, Any, Any]:
        """A PTB Application wired to our handlers, rate limiter and base URLs."""
        settings = self.settings
        token = settings.telegram_token or ""
        base_url = settings.telegram_base_url
        self.requests = (_http_request(base_url, pool_size=64), _http_request(base_url, 2))
        application = (
            ApplicationBuilder()
            .token(token)
            .base_url(base_url)
            .base_file_url(file_url_for(base_url, settings.telegram_base_file_url))
            .request(self.requests[0])
            .get_updates_request(self.requests[1])
            .rate_limiter(
                RetryingRateLimiter(
                    overall_max_rate=settings.telegram_send_rate,
                    max_retries=self.rate_limit_retries,
                )
            )
            .job_queue(None)  # nudges are the scheduler's job, not PTB's JobQueue
            .concurrent_updates(
                PerUserUpdateProcessor(key=self.queue_key, on_overflow=self.on_overflow)
            )
            .build()
        )
        updates = filters.UpdateType.MESSAGE & (filters.TEXT | filters.CAPTION)
        application.add_handler(MessageHandler(updates, self.on_message))
        application.add_handler(CallbackQueryHandler(self.on_callback))
        application.add_error_handler(self.on_error)
        return application

    async def start(self) -> None:
        """Connect, publish the command menu and start polling (or the webhook server)."""
        quiet_http_loggers()
        app = self.application
        await app.initialize()
        await self.publish_commands()
        await app.start()
        updater = app.updater
        assert updater is not None
        if self.settings.telegram_webhook_url:
            await self._start_webhook()
            log.info("Telegram adapter running as @%s (webhook)", app.bot.username)
        else:
            await updater.start_polling(
                poll_interval=0.0,
                timeout=timedelta(seconds=self.poll_timeout),
                allowed_updates=list(ALLOWED_UPDATES),
            )
            log.info("Telegram adapter running as @%s (long polling)", app.bot.username)
        self._started = True
        settle_long_lived_objects()

    async def stop(self) -> None:
        """Stop receiving, finish the updates in hand, close the HTTP clients."""
        app = self.application
        try:
            if self._receiver is not None:
                await self._receiver.stop()
                self._receiver = None
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()
        finally:
            for request in self.requests:  # PTB skips this when `initialize` failed
                await request.shutdown()
            self._started = False
            self._undo_redaction()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[TelegramAdapter]:
        """Started for the duration of the block, stopped after it (even on errors)."""
        try:
            await self.start()
        except BaseException:
            with contextlib.suppress(Exception):  # close what the failed start opened
                await self.stop()
            raise
        try:
            yield self
        finally:
            await self.stop()

    async def publish_commands(self) -> None:
        """One menu line per command in content/messages.yaml, so Telegram's menu lists them."""
        commands = [
            BotCommand(name, description)
            for name, description in self.coach.library.commands.items()
        ]
        await self.application.bot.set_my_commands(commands)

    async def _start_webhook(self) -> None:
        """Register the webhook with a fresh secret, then serve it (see telegram_webhook)."""
        url = self.settings.telegram_webhook_url or ""
        secret = secrets.token_urlsafe(32)  # Telegram echoes it in a header; new each start
        self._receiver = WebhookReceiver(
            self.application,
            urlsplit(url).path,
            secret,
            self.settings.telegram_webhook_listen,
            self.settings.telegram_webhook_port,
        )
        await self._receiver.start()
        await self.application.bot.set_webhook(
            url, allowed_updates=list(ALLOWED_UPDATES), secret_token=secret
        )

    # --- incoming --------------------------------------------------------------------

    def queue_key(self, update: object) -> int | None:
        """The user whose queue an update joins, or None if it needs no turn of theirs.

        Messages not meant for us (group chatter, other bots' commands) and updates from no
        user or from a bot are handled at once: the handlers ignore them, so they neither
        wait behind anyone nor count towards a user's limit.
        """
        if not isinstance(update, Update):
            return None
        user = update.effective_user
        if user is None or user.is_bot:
            return None
        message = update.message
        if message is not None:
            bot = self.application.bot
            if text_for_coach(message, bot.id, bot.username) is None:
                return None
        return user.id

    async def on_overflow(self, update: object) -> None:
        """A user has `USER_QUEUE_LIMIT` updates waiting: say once that the rest were dropped."""
        if not isinstance(update, Update):
            return
        chat, user = update.effective_chat, update.effective_user
        chat_id = chat.id if chat is not None else user.id if user is not None else None
        if chat_id is None:
            return
        try:
            await self.deliver(chat_id, Reply(text=self.slow_down))
        except TelegramError as exc:
            log.info("could not send the slow-down message: %s", type(exc).__name__)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A text message: to the coach if it is meant for us, replies back to the chat."""
        message, user = update.message, update.effective_user
        if message is None or user is None or user.is_bot:
            return
        bot = context.bot
        text = text_for_coach(message, bot.id, bot.username)
        if text is None:
            return
        sender = Sender(
            PLATFORM,
            str(user.id),
            chat_id=str(message.chat.id),
            private=message.chat.type == ChatType.PRIVATE,
        )
        await self.answer_all(sender, message.chat.id, self.coach.handle_message(sender, text))

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button tap: answer the query (stops the spinner), show the choice on the tapped
        message and take its keyboard away, then reply."""
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer()
        except TelegramError as exc:  # too old to answer: still handle the tap
            log.info("could not answer a callback query: %s", type(exc).__name__)
        await self.show_choice(query)
        message = query.message
        chat = message.chat if message is not None else None
        sender = Sender(
            PLATFORM,
            str(query.from_user.id),
            chat_id=str(chat.id) if chat is not None else None,
            private=chat is None or chat.type == ChatType.PRIVATE,
        )
        chat_id = chat.id if chat is not None else query.from_user.id
        data = self.tokens.decode(query.data or "")  # "" for a token from before a restart
        await self.answer_all(sender, chat_id, self.coach.handle_button(sender, data))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log a failed update (type and id only) and tell the user in plain words."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        if not isinstance(update, Update):
            log.error("Telegram error outside an update", exc_info=error)
            return
        chat, user = update.effective_chat, update.effective_user
        if isinstance(error, Forbidden):
            log.warning("Telegram update %s: forbidden (%s)", update_id, error)
            if chat is not None and chat.type == ChatType.PRIVATE and user is not None:
                self._mark_unreachable_by_id(str(user.id))
            return
        log.error("Telegram update %s failed", update_id, exc_info=error)
        if chat is None:
            return
        try:
            await context.bot.send_message(chat.id, self.coach.library.messages["error"])
        except TelegramError as exc:
            log.warning("could not send the error message: %s", type(exc).__name__)

    async def show_choice(self, query: CallbackQuery) -> None:
        """Edit the tapped message in place: its text, then the choice, no keyboard.

        As people expect of chat apps: old buttons do not linger, and a choice cannot be
        tapped twice. A message that cannot be edited (too old, a photo's caption, already
        changed) only loses its keyboard; if even that fails, the tap is still handled.
        """
        message = query.message
        if not isinstance(message, Message):
            return
        label = _tapped_label(message, query.data or "")
        text = message.text_html if message.text else None
        try:
            if text is not None and label is not None:
                shown = f"{text}\n\n{CHOSEN} {escape(label)}"
                if len(shown) <= MAX_TEXT:
                    await message.edit_text(shown, parse_mode=ParseMode.HTML, reply_markup=None)
                    return
            if message.reply_markup is not None:
                await message.edit_reply_markup(reply_markup=None)
        except TelegramError as exc:
            log.info("could not edit a tapped message: %s", type(exc).__name__)

    # --- outgoing --------------------------------------------------------------------

    async def answer_all(self, sender: Sender, chat_id: int | str, replies: list[Reply]) -> None:
        """Send a turn's replies in order. One that cannot be delivered after the retries (a
        fault storm at Telegram) is counted and logged, and the rest of the turn is dropped:
        the state is saved already, and the user can ask again."""
        for index, reply in enumerate(replies):
            try:
                await self.answer(sender, chat_id, reply)
            except Forbidden:
                raise  # they blocked us: `on_error` marks them unreachable
            except TelegramError as exc:
                self.replies_missed += len(replies) - index
                log.warning(
                    "Telegram: a reply could not be delivered (%s); %d replies missed so far",
                    type(exc).__name__,
                    self.replies_missed,
                )
                return

    async def answer(self, sender: Sender, chat_id: int | str, reply: Reply) -> None:
        """Send a reply to the chat it came from; private replies leave groups for a DM."""
        if not reply.private or sender.private:
            await self.deliver(chat_id, reply)
            return
        try:
            await self.deliver(_chat_id(sender.user_id), reply)
        except Forbidden:  # they never opened a private chat with us (or blocked us)
            username = self.application.bot.username
            await self.deliver(chat_id, Reply(text=OPEN_PRIVATE_CHAT.format(username=username)))
        else:
            await self.deliver(chat_id, Reply(text=SENT_PRIVATELY))

    async def send(self, user: User, reply: Reply) -> SendResult:
        """Push a reply nobody asked for (a nudge). The `Messenger` protocol."""
        if user.unreachable:
            return SendResult(Delivery.BLOCKED, error="the user blocked the bot")
        try:
            await self.deliver(_chat_id(user.chat_id or user.platform_id), reply)
        except Forbidden as exc:
            self._mark_unreachable(user)
            return SendResult(Delivery.BLOCKED, error=self._describe(exc))
        except RetryAfter as exc:
            return SendResult(
                Delivery.RETRY_LATER,
                retry_after=retry_after_seconds(exc),
                error=self._describe(exc),
            )
        except TelegramError as exc:
            return SendResult(Delivery.FAILED, error=self._describe(exc))
        return SendResult(Delivery.SENT)

    async def deliver(self, chat_id: int | str, reply: Reply) -> None:
        """Render and send one reply: media first, the text on the last message, keyboard too."""
        rendered = render_reply(reply, self.tokens)
        bot = self.application.bot
        chunks = list(rendered.chunks)
        media: list[tuple[str, InputFile]] = []
        if reply.image is not None:
            media.append(("photo", InputFile(reply.image.png, filename=reply.image.filename)))
        if reply.attachment is not None:
            attachment = reply.attachment
            media.append(("document", InputFile(attachment.data, filename=attachment.filename)))
        caption = chunks[0] if len(chunks) == 1 and len(chunks[0]) <= MAX_CAPTION else None
        for index, (kind, file) in enumerate(media):
            last = index == len(media) - 1
            extra: dict[str, Any] = {}
            if last and caption is not None:
                extra = {"caption": caption, "parse_mode": ParseMode.HTML}
                extra["reply_markup"] = rendered.keyboard
            if kind == "photo":
                await bot.send_photo(chat_id, photo=file, **extra)
            else:
                await bot.send_document(chat_id, document=file, **extra)
        if caption is not None and media:
            return
        if not chunks and not reply.buttons:
            return
        chunks = chunks or ["…"]  # a keyboard needs a message to sit on
        keyboard = keyboard_json(rendered.rows)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await send_text(bot, chat_id, chunk, keyboard if last else None)

    # --- helpers ---------------------------------------------------------------------

    def _mark_unreachable(self, user: User) -> None:
        """Stop nudging someone who blocked us; the coach clears it when they write again."""
        fresh = self.store.get_user(user.id) if user.id else None
        target = fresh or user
        user.unreachable = True
        if not target.unreachable:
            target.unreachable = True
            self.store.save_user(target)
            log.info("a Telegram user blocked the bot; marked unreachable")

    def _mark_unreachable_by_id(self, platform_id: str) -> None:
        self._mark_unreachable(self.coach.user(Sender(PLATFORM, platform_id)))

    def _describe(self, error: TelegramError) -> str:
        text = f"{type(error).__name__}: {error}"
        token = self.settings.telegram_token
        return text.replace(token, REDACTED) if token else text


def _tapped_label(message: Message, data: str) -> str | None:
    """The label of the button with this data on the message's keyboard."""
    markup = message.reply_markup
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def keyboard_json(rows: tuple[tuple[Button, ...], ...]) -> dict[str, Any] | None:
    """The inline keyboard as Bot API JSON, straight from the fitted buttons."""
    if not rows:
        return None
    keyboard = [[{"text": b.label, "callback_data": b.data} for b in row] for row in rows]
    return {"inline_keyboard": keyboard}


async def send_text(
    bot: Any, chat_id: int | str, text: str, keyboard: dict[str, Any] | None
) -> None:
    """sendMessage without parsing Telegram's echo of the message we just sent.

    `Bot.send_message` turns the answer (our text and keyboard, echoed back) into PTB
    objects we never read, and builds keyboard objects only to serialise them again; on the
    reply path that cost more than the coach itself (bench/telegram_throughput.py).
    `Bot._post` is the request `send_message` makes, through the same rate limiter, retries
    and error mapping; tests/test_telegram_adapter.py pins its behaviour.
    """
    data: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML}
    if keyboard is not None:
        data["reply_markup"] = keyboard
    await bot._post("sendMessage", data)


def settle_long_lived_objects() -> None:
    """Move everything loaded at start-up out of the garbage collector's sight.

    The content library, the parser's phrase tables, time-zone data and PTB's objects live as
    long as the process. Without this, every full collection walks all of them again, and a
    turn that allocates a little triggers those collections: measured at about a quarter of
    the bot's time per update (bench/telegram_throughput.py, ratio 0.68 -> 0.87).
    """
    gc.collect()
    gc.freeze()


def file_url_for(base_url: str, file_url: str | None) -> str:
    """TELEGRAM_BASE_FILE_URL, or the Bot API's file URL next to the base URL."""
    if file_url and file_url.strip():
        return file_url.strip()
    if base_url.endswith("/bot"):
        return base_url[: -len("/bot")] + "/file/bot"
    return base_url.rstrip("/") + "/file/bot"


def _http_request(base_url: str, pool_size: int) -> BotApiRequest:
    """PTB's HTTP client (see telegram_transport). Plain-HTTP base URLs (a local Bot API
    server, the test fake) have no TLS to verify."""
    return BotApiRequest(pool_size, verify_tls=not base_url.startswith("http://"))


def _chat_id(value: str) -> int | str:
    """Telegram chat ids are integers; "@channel" names stay strings."""
    return int(value) if value.lstrip("-").isdigit() else value

"""The Telegram adapter: the whole coach over python-telegram-bot (PTB ≥ 22).

Incoming: one `MessageHandler` for text (commands included: the coach routes them) and one
`CallbackQueryHandler` for button taps. Both call the synchronous coach through `run_turn`
(directly on SQLite, which is fast; in a worker thread on PostgreSQL, so the event loop
never waits on the database) and send every `Reply` back. State is always per user
(`effective_user.id`), never per chat, so a user is the same person in a group and in
their private chat. A tapped message is edited to show the choice and loses its keyboard.

The package, one idea per module: `rendering` (replies as HTML messages and keyboards),
`groups` (what in a group is meant for the bot), `limits` (rate limits, retries, fairness
between users), `transport` (the HTTP client PTB talks through), `webhook` (Telegram's
posts, checked before they are read). The policy every adapter shares (token redaction in
logs, splitting long text, the words of the private-reply fallback) is bot/adapters/policy.py.

Outgoing: `TelegramAdapter.send` is the `Messenger` entry point the scheduler uses for
nudges; it maps Telegram's errors onto `Delivery` values and marks users who blocked the
bot as unreachable. An error handler logs a failed update and tells the user in plain
words; one bad update never stops the bot.

Secrets: the token is part of every request URL. We never log Bot objects or URLs, keep
the HTTP client loggers at WARNING, and `redact_token_in_logs` scrubs the token from any log
record as defence in depth.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, CallbackQuery, InputFile, Message, Update
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapters.buttons import ButtonTokens
from bot.adapters.policy import (
    REDACTED,
    log_handled,
    quiet_http_loggers,
    redact_token_in_logs,
    run_turn,
)
from bot.adapters.telegram.groups import text_for_coach
from bot.adapters.telegram.limits import (
    RATE_LIMIT_RETRIES,
    PerUserUpdateProcessor,
    RetryingRateLimiter,
    retry_after_seconds,
)
from bot.adapters.telegram.ordering import UpdateOrder
from bot.adapters.telegram.rendering import (
    CAPABILITIES,
    CHOSEN,
    MAX_CAPTION,
    MAX_TEXT,
    escape,
    keyboard_json,
    render_reply,
    send_text,
    tapped_label,
)
from bot.adapters.telegram.transport import BotApiRequest
from bot.adapters.telegram.webhook import WebhookReceiver
from bot.core.coach import Coach
from bot.core.ports import Delivery, SendResult, Workers
from bot.core.records import User
from bot.core.replies import Reply
from bot.core.turn import Sender
from bot.pictures import draw_reply
from bot.settings import Settings, StartupError

log = logging.getLogger(__name__)

PLATFORM = "telegram"
POLLER = "telegram-poller"  # the role of the one worker that calls getUpdates
TAKEOVER_SECONDS = 5.0  # a sending-only worker tries to become the poller this often
ALLOWED_UPDATES = ("message", "callback_query")
CHAT_ACTION_EVERY = 4.5  # seconds; Telegram shows a chat action for 5 s or until a message


class TelegramAdapter:
    """The coach on Telegram; also the `Messenger` the scheduler sends nudges through."""

    platform = PLATFORM
    capabilities = CAPABILITIES

    def __init__(
        self,
        coach: Coach,
        settings: Settings,
        *,
        poll_timeout: float = 10.0,
        rate_limit_retries: int = RATE_LIMIT_RETRIES,
        workers: Workers | None = None,
        takeover_seconds: float = TAKEOVER_SECONDS,
    ) -> None:
        if not settings.telegram_token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.coach = coach
        self.settings = settings
        # One of several workers on one database (docs/scaling.md): one polls, all send;
        # with a webhook all receive, and a user's updates go in order across them.
        self.workers = workers
        self.takeover_seconds = takeover_seconds
        self._takeover: asyncio.Task[None] | None = None
        self.order = UpdateOrder(workers, PLATFORM) if workers is not None else None
        self.poll_timeout = poll_timeout
        self.rate_limit_retries = rate_limit_retries
        self.slow_down = coach.library.messages["slow_down"]  # missing: fail at start-up
        self.text_only = coach.library.messages["text_only"]
        # Before the Application exists: PTB's Bot logs its URL (with the token) at DEBUG.
        self._undo_redaction = redact_token_in_logs(settings.telegram_token)
        self.application: Application[Any, Any, Any, Any, Any, Any] = self.build_application()
        self._started = False
        self._receiver: WebhookReceiver | None = None
        self.replies_missed = 0  # replies Telegram would not take, since start
        self.tokens = ButtonTokens(CAPABILITIES.max_data or 64)
        self._keyboards = LastKeyboards()

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
                # No overall rate here: the scheduler paces nudges at TELEGRAM_SEND_RATE and
                # is that rate's one owner. Per-group limits and 429 retries stay.
                RetryingRateLimiter(overall_max_rate=0, max_retries=self.rate_limit_retries)
            )
            .job_queue(None)  # nudges are the scheduler's job, not PTB's JobQueue
            .concurrent_updates(
                PerUserUpdateProcessor(
                    key=self.queue_key, on_overflow=self.on_overflow, in_order=self.in_order
                )
            )
            .build()
        )
        updates = filters.UpdateType.MESSAGE & (filters.TEXT | filters.CAPTION)
        application.add_handler(MessageHandler(updates, self.on_message))
        wordless = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL
        application.add_handler(MessageHandler(wordless, self.on_wordless))
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
        elif await self._may_poll():
            await self._start_polling()
        else:
            self._takeover = asyncio.create_task(self._take_over_polling(), name="tg-takeover")
            log.info(
                "Telegram adapter running as @%s (sending only: another worker polls)",
                app.bot.username,
            )
        self._started = True
        settle_long_lived_objects()

    async def _may_poll(self) -> bool:
        """Only one worker may call getUpdates (Telegram answers a second poller 409)."""
        if self.workers is None:
            return True
        return await asyncio.to_thread(self.workers.try_role, POLLER)

    async def _start_polling(self) -> None:
        updater = self.application.updater
        assert updater is not None
        await updater.start_polling(
            poll_interval=0.0,
            timeout=timedelta(seconds=self.poll_timeout),
            allowed_updates=list(ALLOWED_UPDATES),
        )
        log.info("Telegram adapter running as @%s (long polling)", self.application.bot.username)

    async def _take_over_polling(self) -> None:
        """A sending-only worker: poll as soon as the polling worker is gone (its lock freed)."""
        while True:
            await asyncio.sleep(self.takeover_seconds)
            try:
                if await self._may_poll():
                    await self._start_polling()
                    return
            except Exception:  # the Bot API or the database away: the next try may work
                log.warning("Telegram: could not take over polling; trying again", exc_info=True)

    async def stop(self) -> None:
        """Stop receiving, finish the updates in hand, close the HTTP clients."""
        app = self.application
        if self._takeover is not None:
            self._takeover.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._takeover
            self._takeover = None
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
            if self.order is not None:
                self.order.close()
            self._started = False
            self._undo_redaction()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[TelegramAdapter]:
        """Started for the duration of the block, stopped after it (even on errors). A token
        Telegram refuses or a Bot API out of reach is a `StartupError`, one line."""
        try:
            await self.start()
        except BaseException as exc:
            with contextlib.suppress(Exception):  # close what the failed start opened
                await self.stop()
            if isinstance(exc, InvalidToken | NetworkError):
                raise self._startup_error(exc) from None
            raise
        try:
            yield self
        finally:
            await self.stop()

    def _startup_error(self, exc: InvalidToken | NetworkError) -> StartupError:
        """One line naming the setting: a token Telegram refused, or a Bot API out of reach
        (details at DEBUG)."""
        if isinstance(exc, InvalidToken):
            log.debug("Telegram refused the token", exc_info=exc)
            return StartupError(
                "TELEGRAM_BOT_TOKEN: Telegram refused the token (revoked or mistyped); "
                "get the current one from @BotFather"
            )
        log.debug("cannot reach the Bot API", exc_info=exc)  # TimedOut is a NetworkError too
        where = self.settings.telegram_base_url.removesuffix("/bot")
        return StartupError(
            f"TELEGRAM_BASE_URL: cannot reach the Bot API at {where} "
            f"({type(exc).__name__}); check the address and this machine's network or proxy"
        )

    async def publish_commands(self) -> None:
        """One menu line per command in bot/content/messages.yaml, so Telegram's menu lists them."""
        commands = [
            BotCommand(name, description)
            for name, description in self.coach.library.commands.items()
        ]
        await self.application.bot.set_my_commands(commands)

    async def _start_webhook(self) -> None:
        """Register the webhook with a fresh secret, then serve it (see webhook.py)."""
        url = self.settings.telegram_webhook_url or ""
        secret = secrets.token_urlsafe(32)  # Telegram echoes it in a header; new each start
        if self.workers is not None:  # all workers must accept it: new when the first starts
            secret = await asyncio.to_thread(self.workers.shared_secret, "telegram-webhook", secret)
        self._receiver = WebhookReceiver(
            self.application,
            urlsplit(url).path,
            secret,
            self.settings.telegram_webhook_listen,
            self.settings.telegram_webhook_port,
            on_arrival=self.on_arrival if self.workers is not None else None,
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

    async def on_arrival(self, update: Update) -> None:
        """A webhook post of one of several workers: its arrival is recorded (before Telegram
        gets its 200) so that every worker handles this user's updates in update_id order."""
        user = self.queue_key(update)
        if user is None or self.order is None:
            return
        await self.order.arrive(str(user), update.update_id)

    @contextlib.asynccontextmanager
    async def in_order(self, update: object) -> AsyncIterator[None]:
        """Several workers with a webhook: the update's turn among its user's updates on
        every worker (bot/adapters/telegram/ordering.py). Entered before the user's queue in
        `PerUserUpdateProcessor`, never while holding it: an update that arrived first but
        was recorded second must be able to go first."""
        order = self.order
        user = self.queue_key(update) if isinstance(update, Update) else None
        if order is None or user is None or not isinstance(update, Update):
            yield
            return
        if not order.holds(str(user), update.update_id):
            yield
            return
        async with order.turn(str(user), update.update_id):
            yield

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

    async def on_wordless(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A sticker, voice note or photo without a caption in a private chat: say that words
        are what the coach reads, rather than nothing at all."""
        message = update.message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return
        await self.deliver(message.chat.id, Reply(text=self.text_only))

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
        started = time.perf_counter()
        on_screen = self._keyboards.newest(message.chat.id)  # the buttons as it was typed
        outcome = await run_turn(self.coach, self.coach.respond, sender, text)
        if outcome.answered_question and on_screen is not None:
            self._keyboards.forget(message.chat.id, on_screen)
            await self._retire_keyboard(message.chat.id, on_screen)
        await self.answer_all(sender, message.chat.id, outcome.replies)
        log_handled(PLATFORM, "message", outcome.handled_as, started)

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
        started = time.perf_counter()
        outcome = await run_turn(self.coach, self.coach.press, sender, data)
        await self.answer_all(sender, chat_id, outcome.replies)
        log_handled(PLATFORM, "button", outcome.handled_as, started)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log a failed update (type and id only) and tell the user in plain words."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        if not isinstance(update, Update):
            log.error("Telegram error outside an update", exc_info=error)
            return
        chat = update.effective_chat
        if isinstance(error, Forbidden):  # they blocked us mid-reply; the next nudge's 403 marks
            log.warning("Telegram update %s: forbidden (%s)", update_id, error)  # them (scheduler)
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
        label = tapped_label(message, query.data or "")
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

    async def _retire_keyboard(self, chat_id: int | str, message_id: int) -> None:
        """A question answered by typing loses its buttons too, so they cannot be tapped
        after the fact; a message that can no longer be edited keeps them (harmless: a late
        tap is answered as expired)."""
        try:
            await self.application.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            )
        except TelegramError as exc:
            log.info("could not take the buttons off an answered question: %s", type(exc).__name__)

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
            text = self.coach.library.messages["private_open_chat"].format(username=username)
            await self.deliver(chat_id, Reply(text=text))
        else:
            await self.deliver(chat_id, Reply(text=self.coach.library.messages["private_sent"]))

    async def send(self, user: User, reply: Reply) -> SendResult:
        """Push a reply nobody asked for (a nudge). The `Messenger` protocol."""
        if user.unreachable:
            return SendResult(Delivery.BLOCKED, error="the user blocked the bot")
        try:
            await self.deliver(_chat_id(user.chat_id or user.platform_id), reply)
        except Forbidden as exc:  # the scheduler marks them unreachable: one owner of that flag
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
        """Render and send one reply: media first, the text on the last message, keyboard too.
        A picture is drawn first, off the event loop, while the chat shows "sending a photo"."""
        if reply.picture is not None:
            async with self.uploading_photo(chat_id):
                reply = await draw_reply(reply)
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
            message_id = await send_text(bot, chat_id, chunk, keyboard if last else None)
            if last and keyboard is not None and message_id is not None:
                self._keyboards.remember(chat_id, message_id)

    @contextlib.asynccontextmanager
    async def uploading_photo(self, chat_id: int | str) -> AsyncIterator[None]:
        """Telegram's "sending a photo…" in the chat for as long as the block runs (renewed
        every few seconds); the first one is out before the block ends, so it shows before
        the photo. A chat action that fails changes nothing else."""
        first = asyncio.Event()
        showing = asyncio.create_task(self._show_uploading(chat_id, first))
        try:
            yield
        finally:
            with contextlib.suppress(asyncio.CancelledError):
                await first.wait()
            showing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await showing

    async def _show_uploading(self, chat_id: int | str, first: asyncio.Event) -> None:
        bot = self.application.bot
        try:
            while True:
                try:
                    await bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
                except TelegramError as exc:
                    log.info("could not show a chat action: %s", type(exc).__name__)
                    return
                finally:
                    first.set()
                await asyncio.sleep(CHAT_ACTION_EVERY)
        finally:
            first.set()

    # --- helpers ---------------------------------------------------------------------

    def _describe(self, error: TelegramError) -> str:
        text = f"{type(error).__name__}: {error}"
        token = self.settings.telegram_token
        return text.replace(token, REDACTED) if token else text


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
    """PTB's HTTP client (see transport.py). Plain-HTTP base URLs (a local Bot API
    server, the test fake) have no TLS to verify."""
    return BotApiRequest(pool_size, verify_tls=not base_url.startswith("http://"))


class LastKeyboards:
    """The newest message with buttons in each chat (bounded), so a typed answer can take
    those buttons away as a tap would."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._by_chat: OrderedDict[int | str, int] = OrderedDict()

    def remember(self, chat_id: int | str, message_id: int) -> None:
        self._by_chat[chat_id] = message_id
        self._by_chat.move_to_end(chat_id)
        if len(self._by_chat) > self.size:
            self._by_chat.popitem(last=False)

    def newest(self, chat_id: int | str) -> int | None:
        return self._by_chat.get(chat_id)

    def forget(self, chat_id: int | str, message_id: int) -> None:
        """Forget the message unless a newer one with buttons replaced it meanwhile."""
        if self._by_chat.get(chat_id) == message_id:
            del self._by_chat[chat_id]


def _chat_id(value: str) -> int | str:
    """Telegram chat ids are integers; "@channel" names stay strings."""
    return int(value) if value.lstrip("-").isdigit() else value

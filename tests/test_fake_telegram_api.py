"""The fake Telegram Bot API, exercised with a real python-telegram-bot ``Bot``/``Application``."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from tests.fakes.telegram_api import FakeTelegram, UploadedFile, load_payload


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def fast_request() -> HTTPXRequest:
    """PTB's own HTTP client; without certificate loading, which costs ~0.1 s per client."""
    return HTTPXRequest(httpx_kwargs={"verify": False})


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(
        fake.token,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        request=fast_request(),
        get_updates_request=fast_request(),
    ) as real_bot:
        yield real_bot


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Done", callback_data="done"),
                InlineKeyboardButton("Skip", callback_data="skip"),
            ]
        ]
    )


# --------------------------------------------------------------------------- payloads


def test_sample_payloads_are_updates_ptb_can_parse() -> None:
    for name in (
        "update_private_text",
        "update_command",
        "update_group_text",
        "update_group_mention",
        "update_callback_query",
    ):
        update = Update.de_json(load_payload(name), None)
        assert update.update_id > 0
        assert update.effective_chat is not None


def test_load_payload_returns_a_fresh_copy_each_time() -> None:
    first = load_payload("update_private_text")
    first["message"]["text"] = "changed"
    assert load_payload("update_private_text")["message"]["text"] != "changed"


# --------------------------------------------------------------------------- basics


async def test_get_me_returns_the_bot_user(bot: Bot, fake: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.username == "recovery_coach_bot"
    assert me.id == 123456
    assert me.is_bot
    # Bot.initialize() (entering `async with Bot(...)`) already called getMe once.
    assert [call.method for call in fake.calls] == ["getMe", "getMe"]
    assert fake.calls[-1].encoding == "none"  # no parameters: an empty POST body


async def test_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake.base_url):  # initialize() calls getMe
            pass
    assert fake.calls[-1].status == 401


async def test_ptb_sends_form_encoded_params_and_they_are_decoded(
    bot: Bot, fake: FakeTelegram
) -> None:
    await bot.send_message(1001, "42", reply_markup=keyboard(), disable_notification=True)
    call = fake.calls_to("sendMessage")[0]
    assert call.encoding == "form"
    assert call.params["chat_id"] == 1001
    assert call.params["text"] == "42"  # free text is never decoded
    assert call.params["disable_notification"] is True


async def test_query_string_and_json_bodies_are_accepted_too(fake: FakeTelegram) -> None:
    api = f"{fake.base_url}{fake.token}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{api}/getme?foo=1") as response:  # method names ignore case
            assert (await response.json())["result"]["username"] == "recovery_coach_bot"
        markup = {"inline_keyboard": [[{"text": "Done", "callback_data": "done"}]]}
        body = {"chat_id": 1001, "text": "json body", "reply_markup": markup}
        async with session.post(f"{api}/sendMessage", json=body) as response:
            answer = await response.json()
    assert answer["ok"] is True
    assert answer["result"]["reply_markup"] == markup
    get_me, send = fake.calls
    assert (get_me.method, get_me.http_method, get_me.encoding) == ("getMe", "GET", "query")
    assert send.encoding == "json"
    assert send.params == body


async def test_unknown_method_answers_404_like_telegram(bot: Bot, fake: FakeTelegram) -> None:
    # PTB's do_api_request turns Telegram's 404 into EndPointNotFound (plain methods: InvalidToken).
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("getSorenessReport", api_kwargs={"chat_id": 1001})
    assert fake.calls_to("getSorenessReport")[0].status == 404


async def test_stubbed_method_answers_the_stubbed_result(bot: Bot, fake: FakeTelegram) -> None:
    fake.stub("getChatMemberCount", 7)
    assert await bot.get_chat_member_count(-1001987654321) == 7


async def test_fake_never_logs_the_token(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Bot(fake.token, base_url=fake.base_url) as real_bot:
        await real_bot.send_message(1001, "hi")
    assert fake.token not in repr(fake)
    # httpx (INFO) and telegram.Bot (DEBUG) do log URLs with the token; the fake must not.
    own_records = [r for r in caplog.records if r.name.startswith(("aiohttp", "tests"))]
    assert all(fake.token not in r.getMessage() for r in own_records)


# --------------------------------------------------------------------------- getUpdates


async def test_get_updates_returns_pushed_updates_in_order(bot: Bot, fake: FakeTelegram) -> None:
    fake.push_text("hello")
    fake.push_text("/start")
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["hello", "/start"]
    assert updates[0].update_id < updates[1].update_id


async def test_get_updates_long_poll_returns_early_when_an_update_is_pushed(
    bot: Bot, fake: FakeTelegram
) -> None:
    loop = asyncio.get_running_loop()
    loop.call_later(0.2, fake.push_text, "sore calves")
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    elapsed = time.monotonic() - started
    assert [u.message.text for u in updates if u.message] == ["sore calves"]
    assert 0.15 < elapsed < 2.0


async def test_push_update_from_another_thread_wakes_a_long_poll(
    bot: Bot, fake: FakeTelegram
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    await asyncio.to_thread(fake.push_update, load_payload("update_command"))
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates if u.message] == ["/routine legs"]


async def test_get_updates_long_poll_waits_the_full_timeout_when_nothing_arrives(
    bot: Bot,
) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=0.3) == ()
    assert time.monotonic() - started >= 0.25


async def test_get_updates_offset_drops_confirmed_updates(bot: Bot, fake: FakeTelegram) -> None:
    first = fake.push_text("one")
    second = fake.push_text("two")
    assert len(await bot.get_updates()) == 2
    assert fake.pending_updates == 2  # not confirmed yet
    updates = await bot.get_updates(offset=first["update_id"] + 1)
    assert [u.update_id for u in updates] == [second["update_id"]]
    assert fake.pending_updates == 1
    assert await bot.get_updates(offset=second["update_id"] + 1) == ()
    assert fake.pending_updates == 0


async def test_get_updates_honours_limit(bot: Bot, fake: FakeTelegram) -> None:
    for i in range(5):
        fake.push_text(f"msg {i}")
    assert len(await bot.get_updates(limit=3)) == 3


async def test_delete_webhook_with_drop_pending_updates_empties_the_queue(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.push_text("stale")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert fake.pending_updates == 0


async def test_set_webhook_is_recorded_and_blocks_get_updates(bot: Bot, fake: FakeTelegram) -> None:
    assert await bot.set_webhook("https://example.invalid/hook", secret_token="s3cret")
    assert fake.webhook is not None
    assert fake.webhook["url"] == "https://example.invalid/hook"
    assert fake.webhook["secret_token"] == "s3cret"
    with pytest.raises(Conflict):
        await bot.get_updates()
    await bot.delete_webhook()
    assert fake.webhook is None


# --------------------------------------------------------------------------- pushed shapes


async def test_push_text_adds_command_and_mention_entities(bot: Bot, fake: FakeTelegram) -> None:
    fake.push_text("/routine legs")
    fake.push_text("hey @recovery_coach_bot 💪 roll?", chat_type="supergroup")
    fake.push_text("/start@recovery_coach_bot", chat_type="group", chat_id=-4001)
    command, mention, addressed = await bot.get_updates()

    assert command.message.text == "/routine legs"
    assert command.message.chat.type == "private"
    assert command.message.chat.id == command.message.from_user.id == 1001
    assert command.message.parse_entities(["bot_command"]) == {
        command.message.entities[0]: "/routine"
    }
    assert mention.message.chat.type == "supergroup"
    assert list(mention.message.parse_entities(["mention"]).values()) == ["@recovery_coach_bot"]
    assert addressed.message.chat.id == -4001
    assert [e.type for e in addressed.message.entities] == ["bot_command"]


async def test_push_text_message_ids_increase_per_chat(bot: Bot, fake: FakeTelegram) -> None:
    fake.push_text("a")
    await bot.send_message(1001, "reply")
    fake.push_text("b")
    fake.push_text("other chat", user_id=2002)
    updates = await bot.get_updates()
    assert [u.message.message_id for u in updates] == [1, 3, 1]


async def test_push_text_reply_to_bot_replies_to_the_bots_last_message(
    bot: Bot, fake: FakeTelegram
) -> None:
    sent = await bot.send_message(1001, "How sore are you?")
    fake.push_text("pretty sore", reply_to_bot=True)
    (update,) = await bot.get_updates()
    replied = update.message.reply_to_message
    assert replied is not None
    assert replied.message_id == sent.message_id
    assert replied.from_user.id == bot.id


async def test_push_callback_carries_the_bots_message_and_can_be_answered(
    bot: Bot, fake: FakeTelegram
) -> None:
    sent = await bot.send_message(1001, "Done with the routine?", reply_markup=keyboard())
    fake.push_callback("done")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query.data == "done"
    assert query.from_user.id == 1001
    assert query.message.message_id == sent.message_id
    assert query.message.reply_markup == keyboard()
    assert await query.answer("Nice work")
    assert fake.calls_to("answerCallbackQuery")[0].params["text"] == "Nice work"


# --------------------------------------------------------------------------- sending


async def test_send_message_records_reply_markup_as_a_dict(bot: Bot, fake: FakeTelegram) -> None:
    message = await bot.send_message(1001, "Pick one", reply_markup=keyboard())
    (params,) = fake.sent_messages(1001)
    assert params["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Done", "callback_data": "done"},
                {"text": "Skip", "callback_data": "skip"},
            ]
        ]
    }
    assert message.reply_markup == keyboard()
    assert message.from_user.username == "recovery_coach_bot"
    assert message.chat.id == 1001


async def test_send_message_ids_increase_per_chat(bot: Bot, fake: FakeTelegram) -> None:
    ids = [(await bot.send_message(chat, "x")).message_id for chat in (1001, 1001, 2002, 1001)]
    assert ids == [1, 2, 1, 3]
    assert len(fake.sent_messages()) == 4
    assert len(fake.sent_messages(2002)) == 1


async def test_send_message_rejects_oversized_text_and_callback_data(bot: Bot) -> None:
    # PTB strips "Bad Request: " and str.capitalize()s the rest, which lower-cases it too.
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(1001, "x" * 4097)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(
            1001,
            "x",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("b", callback_data="d" * 65)]]
            ),
        )


async def test_send_photo_uploads_the_bytes_as_multipart(bot: Bot, fake: FakeTelegram) -> None:
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    message = await bot.send_photo(1001, photo=image, caption="Foam roller positions")
    call = fake.calls_to("sendPhoto")[0]
    assert call.encoding == "multipart"
    photo = call.params["photo"]
    assert isinstance(photo, UploadedFile)
    assert photo.size == len(image)
    assert photo.data == image
    assert call.params["caption"] == "Foam roller positions"
    assert message.caption == "Foam roller positions"
    assert message.photo[-1].file_size == len(image)


async def test_edit_message_text_updates_the_message_and_drops_omitted_markup(
    bot: Bot, fake: FakeTelegram
) -> None:
    sent = await bot.send_message(1001, "Roll your calves", reply_markup=keyboard())
    edited = await bot.edit_message_text("Calves done ✅", chat_id=1001, message_id=sent.message_id)
    assert edited.text == "Calves done ✅"
    assert edited.reply_markup is None
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Calves done ✅", chat_id=1001, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("nope", chat_id=1001, message_id=999)


async def test_edit_message_reply_markup_replaces_the_keyboard(
    bot: Bot, fake: FakeTelegram
) -> None:
    sent = await bot.send_message(1001, "Roll your calves", reply_markup=keyboard())
    new = InlineKeyboardMarkup([[InlineKeyboardButton("Undo", callback_data="undo")]])
    edited = await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=new)
    assert edited.reply_markup == new
    assert fake.calls_to("editMessageReplyMarkup")[0].params["reply_markup"] == new.to_dict()


async def test_set_and_get_my_commands_round_trip(bot: Bot, fake: FakeTelegram) -> None:
    assert await bot.set_my_commands([("routine", "Today's foam-rolling routine")])
    commands = await bot.get_my_commands()
    assert [(c.command, c.description) for c in commands] == [
        ("routine", "Today's foam-rolling routine")
    ]
    assert fake.calls_to("setMyCommands")[0].params["commands"] == [
        {"command": "routine", "description": "Today's foam-rolling routine"}
    ]


async def test_close_and_log_out_answer_ok(bot: Bot) -> None:
    assert await bot.log_out()
    assert await bot.close()


# --------------------------------------------------------------------------- faults


# PTB 22.2+ warns (while building RetryAfter) that retry_after will become a timedelta.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_fault_makes_ptb_raise_retry_after(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1001, "hi")
    assert caught.value.retry_after in (7, dt.timedelta(seconds=7))
    await bot.send_message(1001, "hi again")  # the fault applied once only
    assert [c.status for c in fake.calls_to("sendMessage")] == [429, 200]
    assert len(fake.sent_messages()) == 1


async def test_403_fault_makes_ptb_raise_forbidden(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", status=403)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(1001, "hi")


async def test_fault_can_target_one_chat_and_repeat(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", status=500, times=2, chat_id=2002)
    await bot.send_message(1001, "fine")
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(2002, "broken")
    await bot.send_message(2002, "fine again")
    assert [p["text"] for p in fake.sent_messages()] == ["fine", "fine again"]


async def test_blocked_user_gets_403_until_unblocked(bot: Bot, fake: FakeTelegram) -> None:
    fake.block_user(1001)
    for _ in range(3):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(1001, "Time to roll!")
    await bot.send_message(2002, "other users are unaffected")
    fake.unblock_user(1001)
    await bot.send_message(1001, "Welcome back")
    assert [p["text"] for p in fake.sent_messages(1001)] == ["Welcome back"]


async def test_delay_next_makes_ptb_time_out(fake: FakeTelegram) -> None:
    fake.delay_next("sendMessage", 1.0)
    request = HTTPXRequest(read_timeout=0.2)
    async with Bot(fake.token, base_url=fake.base_url, request=request) as slow_bot:
        with pytest.raises(TimedOut):
            await slow_bot.send_message(1001, "slow")
        await slow_bot.send_message(1001, "fast")  # the delay applied once only


async def test_held_answers_are_carried_out_but_answered_only_on_release(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.hold_answers("sendMessage")
    sending = asyncio.create_task(bot.send_message(1001, "held"))
    async with asyncio.timeout(5):
        while not fake.held_calls("sendMessage"):
            await asyncio.sleep(0.01)
    assert [p["text"] for p in fake.sent_messages(1001)] == ["held"]
    assert not sending.done()
    fake.release_answers()
    assert (await sending).text == "held"
    assert fake.held_calls("sendMessage") == []


async def test_wait_for_calls_times_out_with_a_count(fake: FakeTelegram) -> None:
    with pytest.raises(TimeoutError, match="0 of 1"):
        await fake.wait_for_calls("sendMessage", 1, timeout=0.1)


# --------------------------------------------------------------------------- Application


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


async def test_application_polling_echoes_a_pushed_text(fake: FakeTelegram) -> None:
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        fake.push_text("my hamstrings are tight")
        (call,) = await fake.wait_for_calls("sendMessage", 1)
        await app.updater.stop()
        await app.stop()
    assert call.params["text"] == "echo: my hamstrings are tight"
    assert call.params["chat_id"] == 1001
    assert fake.calls_to("deleteWebhook")  # the bootstrap of polling
    assert fake.pending_updates == 0  # stop() confirmed the update with a last offset


async def test_latency_delays_every_answer_and_requests_overlap() -> None:
    async with FakeTelegram(latency=0.2) as fake, aiohttp.ClientSession() as session:
        url = f"{fake.base_url}{fake.token}/getMe"
        started = time.monotonic()
        answers = await asyncio.gather(*(session.post(url) for _ in range(5)))
        assert all(answer.status == 200 for answer in answers)
        assert time.monotonic() - started >= 0.2
        arrivals = [call.at for call in fake.calls_to("getMe")]
        assert max(arrivals) < started + 0.2  # all five were in before the first answer

"""The Telegram adapter end to end: real python-telegram-bot, real SQLite, the fake Bot API.

Every flow goes through PTB's `Application` polling `FakeTelegram` over HTTP on 127.0.0.1;
nothing of PTB is mocked. Faults (429, 5xx, 403) are injected by the fake server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.policy import redact_token_in_logs
from bot.adapters.telegram import TelegramAdapter, file_url_for
from bot.adapters.telegram.limits import USER_QUEUE_LIMIT
from bot.adapters.telegram.rendering import escape, render_reply
from bot.core.coach import Coach, Outcome
from bot.core.content import default_library
from bot.core.ports import Delivery
from bot.core.replies import Button, Image, Reply
from bot.core.turn import Sender, Turn
from bot.settings import Settings
from bot.storage import Storage
from tests.conversation import FakeClock
from tests.fakes.telegram_api import Call, FakeTelegram, load_payload

USER = 1001
GROUP = -1001987654321  # the fake's sample supergroup
SEND_METHODS = ("sendMessage", "sendPhoto", "sendDocument")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        # sendDocument is not built into the fake: answer it with a plausible Message.
        server.stub(
            "sendDocument",
            {
                "message_id": 900,
                "date": 1764061200,
                "chat": {"id": USER, "type": "private", "first_name": "Alex"},
                "document": {"file_id": "BQACAgIAAxkDAAIB", "file_unique_id": "AgADBQAC"},
            },
        )
        yield server


def make_settings(fake: FakeTelegram, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=fake.token,
        telegram_base_url=fake.base_url,
        telegram_base_file_url=fake.base_file_url,
        bot_db_path=tmp_path / "bot.sqlite3",
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Storage]:
    with Storage(tmp_path / "bot.sqlite3") as storage:
        yield storage


@pytest.fixture
def tg_coach(store: Storage, clock: FakeClock) -> Coach:
    return Coach(store, clock=clock, default_tz="Europe/Berlin")


@pytest.fixture
async def adapter(
    fake: FakeTelegram, store: Storage, tg_coach: Coach, tmp_path: Path
) -> AsyncIterator[TelegramAdapter]:
    bot = TelegramAdapter(tg_coach, make_settings(fake, tmp_path), poll_timeout=1)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


# --------------------------------------------------------------------------- helpers


def sent(fake: FakeTelegram, chat_id: int | None = None) -> list[Call]:
    """Successful sends (text, photo, document), in order."""
    return [
        call
        for call in fake.calls
        if call.method in SEND_METHODS
        and call.status == 200
        and (chat_id is None or call.params.get("chat_id") == chat_id)
    ]


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.005)


async def say(fake: FakeTelegram, text: str, expect: int = 1, **push: Any) -> list[Call]:
    """Push a message and wait for `expect` new successful sends; returns them."""
    before = len(sent(fake))
    fake.push_text(text, **push)
    await until(lambda: len(sent(fake)) >= before + expect)
    return sent(fake)[before:]


async def tap(fake: FakeTelegram, data: str, expect: int = 1, **push: Any) -> list[Call]:
    before = len(sent(fake))
    answered = len(fake.calls_to("answerCallbackQuery"))
    fake.push_callback(data, **push)
    await until(
        lambda: (
            len(sent(fake)) >= before + expect
            and len(fake.calls_to("answerCallbackQuery")) > answered
        )
    )
    return sent(fake)[before:]


def button_data(call: Call, label: str) -> str:
    """The callback data of the button whose label contains `label` in a recorded send."""
    markup = call.params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if label.lower() in button["text"].lower():
                return str(button["callback_data"])
    raise AssertionError(f"no button {label!r} in {markup}")


def user_of(store: Storage, user_id: int = USER) -> Any:
    return store.user_for("telegram", str(user_id), "Europe/Berlin")


class _TextOnly(HTMLParser):
    """What a user sees of an HTML message: tags dropped, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)


def visible(html_text: str) -> tuple[str, list[str]]:
    parser = _TextOnly()
    parser.feed(html_text)
    return "".join(parser.parts), parser.tags


# --------------------------------------------------------------------------- start-up


async def test_set_my_commands_lists_every_command(
    adapter: TelegramAdapter, fake: FakeTelegram, tg_coach: Coach
) -> None:
    (commands,) = fake.commands.values()
    assert [c["command"] for c in commands] == list(tg_coach.library.commands)
    assert len(commands) == 12
    assert all(c["description"] for c in commands)


def test_file_url_is_derived_from_the_base_url() -> None:
    assert file_url_for("https://api.telegram.org/bot", None) == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:9/bot", "") == "http://127.0.0.1:9/file/bot"
    assert file_url_for("http://x/bot", "http://files/bot") == "http://files/bot"


async def test_builder_gets_the_base_urls(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    bot = adapter.application.bot
    assert bot.base_url == fake.base_url + fake.token
    assert bot.base_file_url == fake.base_file_url + fake.token


# --------------------------------------------------------------------------- flows


async def test_onboarding_through_to_a_saved_schedule(
    adapter: TelegramAdapter, fake: FakeTelegram, store: Storage
) -> None:
    (welcome,) = await say(fake, "/start")
    assert "time zone" in welcome.params["text"].lower()
    assert welcome.params["chat_id"] == USER
    (zone,) = await say(fake, "New York")
    assert "America/New_York" in zone.params["text"]
    (proposal,) = await say(fake, "Mon Wed Fri 18:00")
    assert "18:00" in proposal.params["text"]
    (saved,) = await tap(fake, button_data(proposal, "Save"))
    assert "Saved" in saved.params["text"]
    user = user_of(store)
    assert user.onboarded and user.tz == "America/New_York"
    assert user.chat_id == str(USER)
    assert len(store.schedules(user.id)) == 3
    assert len(fake.calls_to("answerCallbackQuery")) == 1


async def test_a_typed_yes_saves_the_schedule_read_back(
    adapter: TelegramAdapter, fake: FakeTelegram, store: Storage
) -> None:
    (proposal,) = await say(fake, "/schedule add Mon Wed Fri 18:00")
    assert "Save" in json.dumps(proposal.params["reply_markup"])
    (saved,) = await say(fake, "yes")
    assert "Saved" in saved.params["text"]
    assert len(store.schedules(user_of(store).id)) == 3


async def test_a_side_remark_during_onboarding_is_recorded_and_the_step_stays_open(
    adapter: TelegramAdapter, fake: FakeTelegram, store: Storage
) -> None:
    await say(fake, "/start")
    await say(fake, "Berlin")
    noted, asked_again = await say(fake, "my calves are killing me", expect=2)
    assert "calves 9/10" in noted.params["text"]
    assert "When do you train" in asked_again.params["text"]
    assert "Skip" in json.dumps(asked_again.params["reply_markup"])
    (proposal,) = await say(fake, "Mon Wed Fri 18:00")
    assert "Here's what I understood" in proposal.params["text"]
    (saved,) = await say(fake, "ok")
    assert "Saved" in saved.params["text"]
    user = user_of(store)
    assert user.onboarded and len(store.schedules(user.id)) == 3
    since = datetime(2020, 1, 1, tzinfo=UTC)
    assert [(r.area, r.severity) for r in store.soreness_since(user.id, since)] == [("calves", 9)]


async def test_a_tapped_message_shows_the_choice_and_loses_its_keyboard(
    adapter: TelegramAdapter, fake: FakeTelegram, store: Storage
) -> None:
    (confirm,) = await say(fake, "/forget")
    message_id = confirm.result["message_id"]
    (kept,) = await tap(fake, button_data(confirm, "Cancel"), message_id=message_id)
    assert "nothing was deleted" in kept.params["text"]
    (edit,) = fake.calls_to("editMessageText")
    assert edit.params["message_id"] == message_id
    assert edit.params["text"].endswith("→ Cancel")
    assert "reply_markup" not in edit.params or not edit.params["reply_markup"]
    assert not fake.calls_to("editMessageReplyMarkup")


async def test_a_question_answered_by_typing_loses_its_keyboard(
    adapter: TelegramAdapter, fake: FakeTelegram, store: Storage
) -> None:
    (confirm,) = await say(fake, "/forget")
    (kept,) = await say(fake, "no")
    assert "nothing was deleted" in kept.params["text"]
    (retired,) = fake.calls_to("editMessageReplyMarkup")
    assert retired.params["message_id"] == confirm.result["message_id"]
    assert not retired.params.get("reply_markup")


async def test_a_side_remark_leaves_the_question_and_its_keyboard_in_place(
    adapter: TelegramAdapter, fake: FakeTelegram, store: Storage
) -> None:
    await say(fake, "/forget")
    await say(fake, "my calves are killing me", expect=2)
    assert not fake.calls_to("editMessageReplyMarkup")


async def test_soreness_report_fixed_with_a_button(
    adapter: TelegramAdapter, fake: FakeTelegram, store: Storage, clock: FakeClock
) -> None:
    (noted,) = await say(fake, "quads are sore")
    assert "quads 5/10" in noted.params["text"]
    (choose,) = await tap(fake, button_data(noted, "Change severity"))
    (updated,) = await tap(fake, button_data(choose, "3"))
    assert "quads 3/10" in updated.params["text"]
    since = datetime(2020, 1, 1, tzinfo=UTC)
    reports = store.soreness_since(user_of(store).id, since)
    assert [(r.area, r.severity) for r in reports] == [("quads", 3)]


async def test_what_should_i_roll_with_and_without_minutes_and_workout(
    adapter: TelegramAdapter, fake: FakeTelegram
) -> None:
    (plain,) = await say(fake, "what should I roll?")
    assert plain.params["text"].startswith("<b>Your 10-minute rolling routine</b>\n")
    assert plain.params["parse_mode"] == "HTML"
    assert button_data(plain, "15 min") == "r:15:-"
    (tuned,) = await say(fake, "what should I roll before my run? I have 8 min")
    assert tuned.params["text"].startswith("<b>Your 8-minute rolling routine</b>")
    assert button_data(tuned, "10 min") == "r:10:run"
    (tapped,) = await tap(fake, button_data(tuned, "15 min"))
    assert "15-minute" in tapped.params["text"]


async def test_massage_log(adapter: TelegramAdapter, fake: FakeTelegram, store: Storage) -> None:
    (logged,) = await say(fake, "had a massage today")
    assert "Massage logged" in logged.params["text"]
    since = datetime(2020, 1, 1, tzinfo=UTC)
    assert len(store.massages_since(user_of(store).id, since)) == 1


async def test_forget_asks_then_deletes_every_row(
    adapter: TelegramAdapter, fake: FakeTelegram, store: Storage
) -> None:
    await say(fake, "calves 7/10")
    await say(fake, "had a massage today")
    user_id = user_of(store).id
    (confirm,) = await say(fake, "/forget")
    assert store.count_rows(user_id) >= 3  # the user, a report, a massage
    (done,) = await tap(fake, button_data(confirm, "Yes"))
    assert "deleted" in done.params["text"]
    assert store.count_rows(user_id) == 0


async def test_stale_button_is_answered_as_expired_and_changes_nothing(
    adapter: TelegramAdapter, fake: FakeTelegram, store: Storage
) -> None:
    await say(fake, "calves 7/10")
    user_id = user_of(store).id
    rows = store.count_rows(user_id)
    for data in ("sv:99999:3", "zz:1", "u:notanumber"):
        (expired,) = await tap(fake, data)
        assert "expired" in expired.params["text"]
    assert len(fake.calls_to("answerCallbackQuery")) == 3
    assert store.count_rows(user_id) == rows


async def test_start_deep_link_payload_is_ignored(
    adapter: TelegramAdapter, fake: FakeTelegram
) -> None:
    (with_payload,) = await say(fake, "/start abc123", user_id=2002)
    (plain,) = await say(fake, "/start", user_id=3003)
    assert with_payload.params["text"] == plain.params["text"]
    assert "time zone" in plain.params["text"].lower()


async def test_command_with_bot_suffix(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    (routine,) = await say(fake, "/roll@recovery_coach_bot 10")
    assert "10-minute" in routine.params["text"]


# --------------------------------------------------------------------------- groups


async def test_group_chatter_is_ignored_and_addressed_messages_answered(
    adapter: TelegramAdapter, fake: FakeTelegram, store: Storage
) -> None:
    fake.push_text("calves are killing me after that run", chat_type="supergroup")
    fake.push_text("/roll@some_other_bot 10", chat_type="supergroup")
    # Updates are taken in arrival order, so once this one is answered the two above were
    # seen (ignored ones wait for nobody; one user's others wait for their earlier ones).
    (mentioned,) = await say(
        fake, "@recovery_coach_bot what should I roll before intervals?", chat_type="supergroup"
    )
    assert mentioned.params["chat_id"] == GROUP
    assert "rolling routine" in mentioned.params["text"]
    (command,) = await say(fake, "/help@recovery_coach_bot", chat_type="supergroup")
    assert command.params["chat_id"] == GROUP
    (reply,) = await say(fake, "hamstrings 6/10", chat_type="supergroup", reply_to_bot=True)
    assert "hamstrings 6/10" in reply.params["text"]
    assert len(sent(fake)) == 3
    # Nothing from the ignored chatter was recorded; state is per user, not per chat.
    reports = store.soreness_since(user_of(store).id, datetime(2020, 1, 1, tzinfo=UTC))
    assert [r.area for r in reports] == ["hamstrings"]
    assert user_of(store).chat_id is None  # a group is never where nudges go


async def test_private_reply_asked_in_a_group_goes_to_the_private_chat(
    adapter: TelegramAdapter, fake: FakeTelegram
) -> None:
    await say(fake, "calves 7/10")
    document, notice = await say(fake, "/export", expect=2, chat_type="supergroup")
    assert document.method == "sendDocument"
    assert document.params["chat_id"] == USER
    assert notice.params["chat_id"] == GROUP
    assert notice.params["text"] == default_library().messages["private_sent"]


async def test_private_reply_in_a_group_without_a_private_chat_says_how_to_open_one(
    adapter: TelegramAdapter, fake: FakeTelegram
) -> None:
    fake.block_user(USER)  # the private chat answers 403
    (notice,) = await say(fake, "/history", chat_type="supergroup")
    assert notice.params["chat_id"] == GROUP
    opening = default_library().messages["private_open_chat"]
    assert notice.params["text"] == opening.format(username="recovery_coach_bot")
    assert "Calves" not in notice.params["text"]


# --------------------------------------------------------------------------- concurrency


def held_to(fake: FakeTelegram, chat_id: int) -> list[Call]:
    """sendMessage calls to `chat_id` carried out whose answers the fake holds back."""
    return [c for c in fake.held_calls("sendMessage") if c.params.get("chat_id") == chat_id]


async def test_different_users_are_answered_concurrently(
    adapter: TelegramAdapter, fake: FakeTelegram
) -> None:
    users = [2001 + n for n in range(8)]
    fake.hold_answers("sendMessage")  # every reply reaches the fake, none is answered
    try:
        for user in users:
            fake.push_text("/help", user_id=user)
        # One update at a time, the second reply would wait for the first's answer forever.
        await until(lambda: len(fake.held_calls("sendMessage")) == len(users))
        assert sorted(c.params["chat_id"] for c in fake.held_calls("sendMessage")) == users
    finally:
        fake.release_answers()
    await fake.wait_for_calls("sendMessage", len(users))
    assert all("/roll" in c.params["text"] for c in sent(fake))


async def test_one_users_messages_are_answered_one_at_a_time_in_order(
    adapter: TelegramAdapter, fake: FakeTelegram, store: Storage
) -> None:
    areas = ["calves", "quads", "hamstrings", "glutes", "lats", "forearms"]
    fake.hold_answers("sendMessage")
    try:
        for severity, area in enumerate(areas, start=1):
            fake.push_text(f"{area} {severity}/10")
        fake.push_text("/help", user_id=2002)  # after all of them
        await until(lambda: len(held_to(fake, 2002)) == 1)
        # Another user overtook them, but this user's second message waits for the first.
        (first,) = held_to(fake, USER)
        assert "calves 1/10" in first.params["text"]
    finally:
        fake.release_answers()
    await fake.wait_for_calls("sendMessage", len(areas) + 1)
    replies = [c.params["text"] for c in sent(fake, USER)]
    assert len(replies) == len(areas)
    for severity, (area, reply) in enumerate(zip(areas, replies, strict=True), start=1):
        assert f"{area} {severity}/10" in reply, reply
    calls = [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == USER]
    assert [c.at for c in calls] == sorted(c.at for c in calls)
    since = datetime(2020, 1, 1, tzinfo=UTC)
    saved = store.soreness_since(user_of(store).id, since)
    assert [r.area for r in saved] == [
        "calves",
        "quads",
        "hamstrings",
        "glutes",
        "lats",
        "forearms",
    ]


async def test_a_flooding_user_is_told_to_slow_down_once_and_others_go_first(
    adapter: TelegramAdapter,
    fake: FakeTelegram,
    tg_coach: Coach,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.adapters.telegram")
    slow_down = escape(tg_coach.library.messages["slow_down"])
    extra = 11
    fake.hold_answers("sendMessage")  # the flooder's first reply stays unanswered...
    try:
        fake.push_text("calves 6/10 first")
        await until(lambda: len(held_to(fake, USER)) == 1)
        for n in range(USER_QUEUE_LIMIT - 1 + extra):  # ...so their queue fills, then overflows
            fake.push_text(f"secret flood text {n}")
        fake.push_text("/help", user_id=2002)
        await until(lambda: len(held_to(fake, 2002)) == 1)
        await until(lambda: len(held_to(fake, USER)) == 2)
        # The other user's /help reached Telegram before the flooder's second reply did.
        first, notice = held_to(fake, USER)
        assert "calves 6/10" in first.params["text"]
        assert notice.params["text"] == slow_down
        assert "/roll" in held_to(fake, 2002)[0].params["text"]
    finally:
        fake.release_answers()
    # The first reply, the notice, and the flooder's queue: the limit's worth, no more.
    await fake.wait_for_calls("sendMessage", 1 + 1 + USER_QUEUE_LIMIT)
    await until(lambda: any("updates dropped" in r.getMessage() for r in caplog.records))
    to_flooder = [c.params["text"] for c in sent(fake, USER)]
    assert len(to_flooder) == USER_QUEUE_LIMIT + 1
    assert to_flooder.count(slow_down) == 1
    (dropped,) = [r for r in caplog.records if "updates dropped" in r.getMessage()]
    assert dropped.levelno == logging.INFO and f"{extra} updates dropped" in dropped.getMessage()
    assert "secret flood text" not in caplog.text
    # The queue is empty again: a new message is answered, with no second notice.
    (after,) = await say(fake, "/help")
    assert "/roll" in after.params["text"]
    assert [c.params["text"] for c in sent(fake, USER)].count(slow_down) == 1


async def test_group_chatter_neither_waits_nor_fills_a_queue(
    adapter: TelegramAdapter, fake: FakeTelegram, tg_coach: Coach
) -> None:
    fake.hold_answers("sendMessage")
    try:
        fake.push_text("calves 6/10")
        await until(lambda: len(held_to(fake, USER)) == 1)
        for n in range(USER_QUEUE_LIMIT * 2):
            fake.push_text(f"talking to friends {n}", chat_type="supergroup")
        fake.push_text("/help", user_id=2002)
        await until(lambda: len(held_to(fake, 2002)) == 1)
    finally:
        fake.release_answers()
    await fake.wait_for_calls("sendMessage", 2)
    assert len(sent(fake)) == 2  # no "slow down" in the group, nothing else either
    assert not any(c.params["chat_id"] == GROUP for c in fake.calls_to("sendMessage"))


async def test_latency_overlaps_every_users_reply(
    store: Storage, tg_coach: Coach, tmp_path: Path
) -> None:
    """At a real round trip, N users' replies are all on the wire before the first returns."""
    users = [3001 + n for n in range(6)]
    async with FakeTelegram(latency=0.2) as slow:
        bot = TelegramAdapter(tg_coach, make_settings(slow, tmp_path), poll_timeout=1)
        async with bot.running():
            for user in users:
                slow.push_text("/help", user_id=user)
            first_answered = asyncio.ensure_future(slow.wait_for_calls("sendMessage", 1))
            await until(lambda: len(slow.calls_to("sendMessage")) == len(users), timeout=10)
            arrived_before_first_answer = not first_answered.done()
            await slow.wait_for_calls("sendMessage", len(users), timeout=10)
    assert arrived_before_first_answer
    assert sorted(c.params["chat_id"] for c in slow.calls_to("sendMessage")) == users


# --------------------------------------------------------------------------- rendering


def test_render_escapes_html_and_bolds_the_title() -> None:
    reply = Reply(title="Calves & <shins>", text="use *it_band* <b>now</b> & 5 < 6")
    (chunk,) = render_reply(reply).chunks
    assert (
        chunk
        == "<b>Calves &amp; &lt;shins&gt;</b>\nuse *it_band* &lt;b&gt;now&lt;/b&gt; &amp; 5 &lt; 6"
    )
    text, tags = visible(chunk)
    assert text == "Calves & <shins>\nuse *it_band* <b>now</b> & 5 < 6"
    assert tags == ["b"]


def test_render_splits_long_text_within_telegram_limits() -> None:
    line = "calves & <quads> " * 20
    reply = Reply(text="\n".join([line] * 400), title="History", buttons=((Button("Ok", "h"),),))
    rendered = render_reply(reply)
    assert len(rendered.chunks) > 1
    assert all(len(chunk) <= 4096 for chunk in rendered.chunks)
    assert "".join(visible(c)[0] for c in rendered.chunks).startswith("History\ncalves & <quads>")
    assert rendered.keyboard is not None


async def test_user_text_cannot_break_the_formatting(
    adapter: TelegramAdapter, fake: FakeTelegram
) -> None:
    (unknown,) = await say(fake, "/it_band*<b>x")
    assert unknown.params["parse_mode"] == "HTML"
    assert "/it_band*&lt;b&gt;x" in unknown.params["text"]
    text, tags = visible(unknown.params["text"])
    assert "/it_band*<b>x" in text and tags == []
    (noted,) = await say(fake, "it_band 6/10 *ouch* <b>")
    assert noted.params["parse_mode"] == "HTML"
    assert "<b>" not in noted.params["text"]


async def test_image_reply_is_sent_as_a_photo(
    adapter: TelegramAdapter,
    fake: FakeTelegram,
    tg_coach: Coach,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def chart(turn: Turn, argument: str) -> Reply:
        return Reply(text="Your soreness <7 days>", image=Image(PNG, "chart.png"))

    monkeypatch.setitem(tg_coach.commands, "history", chart)
    (photo,) = await say(fake, "/history")
    assert photo.method == "sendPhoto"
    assert photo.files["photo"].data == PNG
    assert photo.params["caption"] == "Your soreness &lt;7 days&gt;"
    assert photo.params["parse_mode"] == "HTML"


async def test_export_is_sent_as_a_json_document(
    adapter: TelegramAdapter, fake: FakeTelegram
) -> None:
    await say(fake, "calves 7/10")
    (document,) = await say(fake, "/export")
    assert document.method == "sendDocument"
    upload = document.files["document"]
    assert upload.filename is not None and upload.filename.endswith(".json")
    data = json.loads(upload.data)
    assert data["soreness"][0]["area"] == "calves"
    assert "stored about you" in document.params["caption"]


# --------------------------------------------------------------------------- errors


async def test_a_failing_update_gets_the_error_text_and_the_next_is_handled(
    adapter: TelegramAdapter,
    fake: FakeTelegram,
    tg_coach: Coach,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = tg_coach.respond

    def flaky(sender: Sender, text: str) -> Outcome:
        if text == "boom":
            raise RuntimeError("simulated bug")
        return real(sender, text)

    monkeypatch.setattr(tg_coach, "respond", flaky)
    (apology,) = await say(fake, "boom")
    assert apology.params["text"] == tg_coach.library.messages["error"]
    (help_reply,) = await say(fake, "/help")
    assert "/roll" in help_reply.params["text"]
    failures = [
        r for r in caplog.records if r.name.startswith("bot.adapters.telegram") and r.exc_info
    ]
    assert failures and "simulated bug" in str(failures[0].exc_info[1])  # type: ignore[index]


async def test_429_is_retried_after_retry_after(
    adapter: TelegramAdapter, fake: FakeTelegram
) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=1)
    (reply,) = await say(fake, "/help")
    first, second = fake.calls_to("sendMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0
    assert reply is second


async def test_5xx_is_retried(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", status=502, times=2)
    await say(fake, "/help")
    assert [c.status for c in fake.calls_to("sendMessage")] == [502, 502, 200]


async def test_send_to_a_user_who_blocked_the_bot_says_blocked_and_writes_nothing(
    adapter: TelegramAdapter, fake: FakeTelegram, store: Storage
) -> None:
    await say(fake, "hi")
    user = user_of(store)
    assert (await adapter.send(user, Reply(text="Time to roll!"))).delivery is Delivery.SENT
    fake.block_user(USER)
    result = await adapter.send(user, Reply(text="Time to roll!"))
    assert result.delivery is Delivery.BLOCKED
    assert "blocked" in result.error
    assert not user_of(store).unreachable  # the scheduler owns that flag
    store.set_unreachable(user.id)  # as the scheduler does on BLOCKED
    attempts = len(fake.calls_to("sendMessage"))
    assert (await adapter.send(user_of(store), Reply(text="again"))).delivery is Delivery.BLOCKED
    assert len(fake.calls_to("sendMessage")) == attempts  # no more 403s asked for
    fake.unblock_user(USER)
    await say(fake, "hi again")  # writing again means they unblocked us
    assert not user_of(store).unreachable


async def test_send_maps_rate_limits_and_other_errors(
    fake: FakeTelegram, store: Storage, tg_coach: Coach, tmp_path: Path
) -> None:
    bot = TelegramAdapter(
        tg_coach, make_settings(fake, tmp_path), poll_timeout=1, rate_limit_retries=0
    )
    await bot.start()
    try:
        user = user_of(store)
        fake.fail_next("sendMessage", status=429, retry_after=7)
        limited = await bot.send(user, Reply(text="nudge"))
        assert (limited.delivery, limited.retry_after) == (Delivery.RETRY_LATER, 7.0)
        fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
        failed = await bot.send(user, Reply(text="nudge"))
        assert failed.delivery is Delivery.FAILED and "chat not found" in failed.error.lower()
        ok = await bot.send(user, Reply(text="nudge", buttons=((Button("Start", "g:0"),),)))
        assert ok.sent
        assert fake.sent_messages(USER)[-1]["reply_markup"]["inline_keyboard"][0][0] == {
            "text": "Start",
            "callback_data": "g:0",
        }
    finally:
        await bot.stop()


# --------------------------------------------------------------------------- secrets


async def test_the_token_appears_in_no_log_record(  # noqa: PLR0917
    fake: FakeTelegram,
    store: Storage,
    tg_coach: Coach,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    bot = TelegramAdapter(tg_coach, make_settings(fake, tmp_path), poll_timeout=1)
    for name in ("telegram", "httpx", "httpcore", "bot", "aiohttp", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    await bot.start()
    for name in ("httpx", "httpcore"):  # start() quietens them; prove redaction holds anyway
        caplog.set_level(logging.DEBUG, logger=name)
    real = tg_coach.respond

    def flaky(sender: Sender, text: str) -> Outcome:
        if text == "boom":
            raise RuntimeError(f"bug while talking to {fake.base_url}{fake.token}")
        return real(sender, text)

    monkeypatch.setattr(tg_coach, "respond", flaky)
    try:
        await say(fake, "/start")
        await say(fake, "calves 6/10")
        await say(fake, "boom")
        fake.fail_next("sendMessage", status=502)
        fake.fail_next("sendMessage", status=429, retry_after=1)
        await say(fake, "what should I roll?")
        fake.block_user(USER)
        await bot.send(user_of(store), Reply(text="nudge"))
    finally:
        await bot.stop()

    assert caplog.records
    secret = fake.token.split(":", 1)[1]
    for record in caplog.records:
        assert secret not in record.getMessage(), record.name
        assert secret not in (record.exc_text or ""), record.name
        assert secret not in str(record.exc_info[1] if record.exc_info else ""), record.name
    assert secret not in caplog.text  # formatted, tracebacks included
    redacted = [r for r in caplog.records if getattr(r, "token_redacted", False)]
    assert any(r.name.startswith(("telegram", "httpx")) for r in redacted)  # they log URLs...
    ours = [r for r in redacted if r.name.startswith("bot.")]
    assert ours and all(r.exc_text and secret not in r.msg for r in ours)  # ...we never do:
    # only the exception this test raised with the token in it needed scrubbing.


def test_redaction_can_be_undone() -> None:
    undo = redact_token_in_logs("42:SECRET-VALUE")
    try:
        record = logging.getLogger("x").makeRecord(
            "x", logging.INFO, "f", 1, "t=%s", ("SECRET-VALUE",), None
        )
        assert record.getMessage() == "t=[REDACTED]"
    finally:
        undo()
    record = logging.getLogger("x").makeRecord("x", logging.INFO, "f", 1, "t=%s", ("v",), None)
    assert record.getMessage() == "t=v"


# --------------------------------------------------------------------------- webhook


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_registers_the_url_and_answers_posted_updates(
    fake: FakeTelegram, store: Storage, tg_coach: Coach, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    settings = make_settings(fake, tmp_path).model_copy(
        update={
            "telegram_webhook_url": url,
            "telegram_webhook_listen": "127.0.0.1",
            "telegram_webhook_port": port,
        }
    )
    bot = TelegramAdapter(tg_coach, settings)
    await bot.start()
    try:
        assert fake.webhook is not None and fake.webhook["url"] == url
        secret = fake.webhook["secret_token"]
        assert len(secret) >= 32
        assert not fake.calls_to("getUpdates")
        update = load_payload("update_private_text")
        update["message"]["text"] = "/help"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=update) as refused:
                assert refused.status == 403  # no secret header: not from Telegram
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
            async with session.post(url, json=update, headers=headers) as accepted:
                assert accepted.status == 200
        await fake.wait_for_calls("sendMessage", 1)
        (reply,) = sent(fake)
        assert "/roll" in reply.params["text"]
    finally:
        await bot.stop()


async def _post_headers_only(port: int, path: str, headers: dict[str, str]) -> int:
    """Send a post's headers claiming a 90 MB body, and none of the body: the status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Length: 90000000"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    writer.close()
    return int(status_line.split()[1])


async def test_a_webhook_post_is_judged_by_its_headers_before_its_body_is_read(
    fake: FakeTelegram, store: Storage, tg_coach: Coach, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    settings = make_settings(fake, tmp_path).model_copy(
        update={"telegram_webhook_url": url, "telegram_webhook_port": port}
    )
    bot = TelegramAdapter(tg_coach, settings)
    await bot.start()
    try:
        secret = fake.webhook["secret_token"]  # type: ignore[index]
        forged = await _post_headers_only(port, "/telegram/hook", {})
        huge = await _post_headers_only(
            port, "/telegram/hook", {"X-Telegram-Bot-Api-Secret-Token": secret}
        )
    finally:
        await bot.stop()
    assert (forged, huge) == (403, 413)  # answered without waiting for 90 MB


async def test_replies_lost_in_a_fault_storm_are_counted_and_logged(
    adapter: TelegramAdapter,
    fake: FakeTelegram,
    store: Storage,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail_next("sendMessage", status=502, times=100)  # more than every retry
    fake.push_text("calves 7/10")
    await until(lambda: adapter.replies_missed == 1, timeout=15)
    assert "1 replies missed so far" in caplog.text
    since = datetime(2020, 1, 1, tzinfo=UTC)
    assert store.soreness_since(user_of(store).id, since)  # the report itself is kept


async def test_a_guided_routine_with_long_button_data_taps_through_a_token(
    adapter: TelegramAdapter, fake: FakeTelegram
) -> None:
    (routine,) = await say(fake, "/roll 20")
    start = button_data(routine, "Start guided")
    assert len(start.encode()) <= 64 and start.startswith("~")
    (first,) = await tap(fake, start)
    assert first.params["text"].startswith("<b>1/")
    (second,) = await tap(fake, button_data(first, "Next"))
    assert second.params["text"].startswith("<b>2/")


async def test_one_log_line_per_update_with_what_it_was_and_never_the_text(
    adapter: TelegramAdapter, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    (noted,) = await say(fake, "my quokka-shaped calves are 7/10")
    await tap(fake, button_data(noted, "Undo"))

    def handled_lines() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "bot.turns"]

    await until(lambda: len(handled_lines()) == 2)  # the line follows the last send
    handled = handled_lines()
    assert [(r.platform, r.update, r.handled_as) for r in handled] == [  # type: ignore[attr-defined]
        ("telegram", "message", "soreness"),
        ("telegram", "button", "other"),
    ]
    assert all(r.latency_ms >= 0 and r.outcome == "ok" for r in handled)  # type: ignore[attr-defined]
    info = [r.getMessage() for r in caplog.records if r.levelno <= logging.INFO]
    assert not any("quokka" in line for line in info)


def _voice_note(chat_type: str = "private") -> dict[str, Any]:
    update = load_payload("update_private_text" if chat_type == "private" else "update_group_text")
    message = update["message"]
    for key in ("text", "entities"):
        message.pop(key, None)
    message["voice"] = {"file_id": "voice-1", "file_unique_id": "u-voice-1", "duration": 3}
    message["date"] = int(time.time())
    del update["update_id"]
    return update


async def test_a_voice_note_in_a_private_chat_is_told_that_words_work(
    adapter: TelegramAdapter, fake: FakeTelegram
) -> None:
    fake.push_update(_voice_note())
    await until(lambda: bool(sent(fake)))
    (reply,) = sent(fake)
    assert "I can only read words" in reply.params["text"]


async def test_a_voice_note_in_a_group_gets_no_reply(
    adapter: TelegramAdapter, fake: FakeTelegram
) -> None:
    fake.push_update(_voice_note("group"))
    fake.push_text("/help", chat_type="group")
    await until(lambda: bool(sent(fake)))
    assert all("I can only read words" not in call.params["text"] for call in sent(fake))

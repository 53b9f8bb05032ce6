"""Pictures drawn and delivered: the PNGs themselves (Pillow decodes them), the drawing off
the event loop, matplotlib kept out of start-up, and every platform showing them (the
terminal's saved file, Telegram's photo, Discord's attachment in an embed).

No timed assertions: the slow-drawing test checks the order of events, and the waits below
are only there so that a broken build fails instead of hanging.
"""

from __future__ import annotations

import ast
import asyncio
import io
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PillowImage

import bot.pictures
from bot.adapters.console import ConsoleChat
from bot.adapters.discord import DiscordAdapter
from bot.adapters.telegram import TelegramAdapter
from bot.core.coach import Coach
from bot.core.content import Library
from bot.core.memory import MemoryStore
from bot.core.picture import BodyMap, BodyMapWords, ChartWords, HistoryChart, Series, Shade
from bot.core.replies import Image, Reply
from bot.pictures import MAX_BYTES, bodymap, draw_replies, draw_reply, render
from bot.settings import Settings
from bot.storage import Storage
from tests.conversation import FakeClock
from tests.fakes.discord_api import USER_ID as DISCORD_USER
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.test_architecture import BOT, imports_of, modules

ROOT = Path(__file__).resolve().parents[1]
TELEGRAM_USER, OTHER_TELEGRAM_USER = 1001, 2002
WAIT = 10.0  # seconds before a wait gives up: a guard against hanging, never a measurement

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def chart(values: tuple[float, ...] = (2.0, 5.0, 7.0), areas: int = 5) -> HistoryChart:
    days = tuple(date(2026, 11, 1) + timedelta(days=n) for n in range(28))
    series = tuple(
        Series(f"Area {n}", tuple(values[(d + n) % len(values)] for d in range(28)))
        for n in range(areas)
    )
    return HistoryChart(
        title="Soreness, last 28 days",
        days=days,
        series=series,
        workouts=(0, 2, 4, 7, 9, 11, 14, 16, 18, 21, 23, 25),
        rolled=(0, 4, 7, 11, 14, 18, 21, 25),
        massages=(5, 19),
        words=ChartWords("Soreness (0-10)", "Workout", "Rolled", "Massage", "Nothing sore"),
    )


def body(library: Library, sore: dict[str, float], flagged: tuple[str, ...] = ()) -> BodyMap:
    return BodyMap(
        title="Soreness now",
        areas=tuple(
            Shade(area, item.name, sore.get(area, 0.0), area in flagged)
            for area, item in library.areas.items()
        ),
        words=BodyMapWords("Front", "Back", "Darker = sorer (0-10)", "Warning sign"),
    )


def decoded(png: bytes) -> PillowImage.Image:
    picture = PillowImage.open(io.BytesIO(png))
    picture.load()  # decodes every pixel: a broken PNG raises here
    return picture


# --- the PNGs ------------------------------------------------------------------------------


def test_the_history_chart_is_a_phone_sized_png_under_200_kb() -> None:
    image = render(chart())
    picture = decoded(image.png)
    assert (picture.format, picture.size) == ("PNG", (1000, 750))
    assert len(image.png) < MAX_BYTES == 200_000
    assert image.filename == "history.png"


def test_the_body_map_is_a_phone_sized_png_under_200_kb(library: Library) -> None:
    everything = {area: 1.0 + n % 10 for n, area in enumerate(library.areas)}
    image = render(body(library, everything, flagged=("hamstrings", "neck")))
    picture = decoded(image.png)
    assert (picture.format, picture.size) == ("PNG", (1000, 840))
    assert len(image.png) < MAX_BYTES
    assert image.filename == "body-map.png"


def test_different_data_draws_a_different_picture(library: Library) -> None:
    assert render(chart((1.0, 4.0))).png != render(chart((6.0, 9.0))).png
    assert render(chart(areas=2)).png != render(chart(areas=3)).png
    calves = render(body(library, {"calves": 7.0})).png
    assert calves != render(body(library, {"calves": 3.0})).png
    assert calves != render(body(library, {"quads": 7.0})).png
    assert calves != render(body(library, {"calves": 7.0}, flagged=("calves",))).png


def test_a_chart_with_nothing_sore_still_draws() -> None:
    empty = replace(chart(), series=())
    assert decoded(render(empty).png).size == (1000, 750)


def test_every_area_of_the_content_is_on_the_body_map(library: Library) -> None:
    drawn = set(bodymap.FRONT) | set(bodymap.BACK)
    assert drawn == set(library.areas)


# --- where drawing happens (the layers: see tests/test_architecture.py) ---------------------

DRAWING = ("matplotlib", "PIL")


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: p.stem)
def test_the_core_never_draws(path: Path) -> None:
    assert not {name for name in imports_of(path) if name.split(".")[0] in DRAWING}


@pytest.mark.parametrize("path", modules("pictures"), ids=lambda p: p.stem)
def test_pictures_import_only_the_core_and_the_drawing_libraries(path: Path) -> None:
    for name in imports_of(path):
        if name.startswith("bot."):
            assert name.startswith(("bot.core", "bot.pictures")), name
        else:
            top = name.split(".")[0]
            assert top in DRAWING or top in sys.stdlib_module_names, name


def test_the_pictures_entry_module_imports_matplotlib_only_when_it_draws() -> None:
    tree = ast.parse((BOT / "pictures" / "__init__.py").read_text(encoding="utf-8"))
    top_level: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            top_level.add(node.module)
    assert not {name for name in top_level if name.split(".")[0] in DRAWING}
    assert not {name for name in top_level if name.startswith("bot.pictures.")}


# --- drawing off the event loop ----------------------------------------------------------


async def test_drawing_runs_in_the_drawing_thread(
    monkeypatch: pytest.MonkeyPatch, library: Library
) -> None:
    threads: list[str] = []

    def recording(picture: Any) -> Image:
        threads.append(threading.current_thread().name)
        return Image(b"png", picture.filename)

    monkeypatch.setattr(bot.pictures, "render", recording)
    drawn = await draw_reply(Reply(text="map", picture=body(library, {"calves": 5.0})))
    assert drawn.image == Image(b"png", "body-map.png") and drawn.picture is None
    assert threads and threads[0].startswith("pictures") and threads[0] != "MainThread"


async def test_a_drawing_that_fails_leaves_the_text(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(picture: Any) -> Image:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(bot.pictures, "render", broken)
    drawn = await draw_reply(Reply(text="Your last 14 days", picture=chart()))
    assert (drawn.text, drawn.image, drawn.picture) == ("Your last 14 days", None, None)
    assert "drawing history.png failed" in caplog.text


async def test_the_working_on_it_signal_is_held_only_when_there_is_something_to_draw() -> None:
    events: list[str] = []

    class Showing:
        async def __aenter__(self) -> None:
            events.append("shown")

        async def __aexit__(self, *exc: object) -> None:
            events.append("hidden")

    await draw_replies([Reply(text="hi")], showing=Showing)
    assert events == []
    replies = await draw_replies([Reply(text="hi"), Reply(text="c", picture=chart())], Showing)
    assert events == ["shown", "hidden"]
    assert replies[0] == Reply(text="hi") and replies[1].image is not None


def test_start_up_and_a_chat_without_pictures_never_import_matplotlib(tmp_path: Path) -> None:
    """matplotlib is imported on the first drawing: importing the bot, and a terminal chat
    that draws nothing, leave it out; a /history with data brings it in."""
    probe = (
        "import atexit, sys\n"
        "import bot.app, bot.__main__\n"
        "print('after import:', 'matplotlib' in sys.modules, file=sys.stderr)\n"
        "atexit.register(lambda: print('at exit:', 'matplotlib' in sys.modules,"
        " file=sys.stderr))\n"
        "sys.argv = ['bot']\n"
        "sys.exit(bot.__main__.main())\n"
    )

    def chat(*lines: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "BOT_DB_PATH": str(tmp_path / "bot.sqlite3"),
            "TELEGRAM_BOT_TOKEN": "",
            "DISCORD_BOT_TOKEN": "",
            "BOT_DEFAULT_TZ": "UTC",
        }
        return subprocess.run(
            [sys.executable, "-c", probe],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=60,
            check=True,
        )

    quiet = chat("/help", "/settings", "calves 6/10")
    assert "after import: False" in quiet.stderr and "at exit: False" in quiet.stderr
    drawn = chat("/history")
    assert "at exit: True" in drawn.stderr
    saved = [line for line in drawn.stdout.splitlines() if "[image saved:" in line]
    paths = [Path(line.split("[image saved: ", 1)[1].rstrip("]")) for line in saved]
    assert [path.name for path in paths] == ["history.png", "body-map.png"]
    for path in paths:
        assert decoded(path.read_bytes()).format == "PNG"
        assert path.stat().st_mode & 0o777 == 0o600  # personal data: the user's only


# --- the terminal chat ---------------------------------------------------------------------


async def test_the_terminal_saves_the_picture_and_prints_its_path(tmp_path: Path) -> None:
    clock = FakeClock()
    out = io.StringIO()
    chat = ConsoleChat(Coach(MemoryStore(clock=clock), clock=clock), tmp_path, io.StringIO(), out)
    await chat.answer("calves 7/10")
    await chat.answer("/history")
    shown = out.getvalue()
    assert f"[image saved: {tmp_path / 'history.png'}]" in shown
    assert f"[image saved: {tmp_path / 'body-map.png'}]" in shown
    assert decoded((tmp_path / "history.png").read_bytes()).size == (1000, 750)
    await chat.answer("/forget")
    await chat.answer("yes")
    assert not list(tmp_path.glob("*.png"))  # /forget takes the pictures too


# --- Telegram ----------------------------------------------------------------------------


@pytest.fixture
async def telegram(tmp_path: Path) -> AsyncIterator[tuple[TelegramAdapter, FakeTelegram]]:
    async with FakeTelegram() as fake:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_bot_token=fake.token,
            telegram_base_url=fake.base_url,
            telegram_base_file_url=fake.base_file_url,
            bot_db_path=tmp_path / "bot.sqlite3",
        )
        with Storage(tmp_path / "bot.sqlite3") as store:
            coach = Coach(store, clock=FakeClock(), default_tz="Europe/Berlin")
            adapter = TelegramAdapter(coach, settings, poll_timeout=1)
            await adapter.start()
            try:
                yield adapter, fake
            finally:
                await adapter.stop()


async def until(condition: Callable[[], object]) -> None:
    for _ in range(int(WAIT / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise TimeoutError("condition not met")


def methods_to(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [
        call.method
        for call in fake.calls
        if call.params.get("chat_id") == chat_id and call.status == 200
    ]


async def test_telegram_sends_history_as_photos_after_the_sending_a_photo_action(
    telegram: tuple[TelegramAdapter, FakeTelegram],
) -> None:
    _, fake = telegram
    fake.push_text("calves 7/10")
    await fake.wait_for_calls("sendMessage", 1)
    fake.push_text("/history")
    await fake.wait_for_calls("sendPhoto", 2, timeout=WAIT)
    methods = methods_to(fake, TELEGRAM_USER)
    assert methods[1:] == ["sendChatAction", "sendPhoto", "sendChatAction", "sendPhoto"]
    actions = fake.calls_to("sendChatAction")
    assert {call.params["action"] for call in actions} == {"upload_photo"}
    summary, body_map = fake.calls_to("sendPhoto")
    assert "Your last 14 days" in summary.params["caption"]
    assert "Sore now: Calves 7/10" in body_map.params["caption"]
    for call in (summary, body_map):
        assert decoded(call.files["photo"].data).format == "PNG"
    assert summary.files["photo"].filename == "history.png"


async def test_a_slow_drawing_does_not_delay_another_users_reply(
    telegram: tuple[TelegramAdapter, FakeTelegram], monkeypatch: pytest.MonkeyPatch
) -> None:
    """User A's chart is drawing (held by the test) while user B asks for /help: B's answer
    goes out first, then A's photo once the drawing ends."""
    _, fake = telegram
    drawing, release = threading.Event(), threading.Event()
    real = bot.pictures.render

    def slow(picture: Any) -> Image:
        drawing.set()
        release.wait(WAIT)
        return real(picture)

    monkeypatch.setattr(bot.pictures, "render", slow)
    fake.push_text("calves 7/10")
    await fake.wait_for_calls("sendMessage", 1)
    fake.push_text("/history")
    await until(drawing.is_set)
    fake.push_text("/help", user_id=OTHER_TELEGRAM_USER)
    try:
        await until(lambda: "sendMessage" in methods_to(fake, OTHER_TELEGRAM_USER))
        assert fake.calls_to("sendPhoto") == []  # A's picture is still being drawn
    finally:
        release.set()
    await fake.wait_for_calls("sendPhoto", 2, timeout=WAIT)
    order = [
        (call.method, call.params.get("chat_id"))
        for call in fake.calls
        if call.method in ("sendMessage", "sendPhoto")
    ]
    help_reply = order.index(("sendMessage", OTHER_TELEGRAM_USER))
    first_photo = order.index(("sendPhoto", TELEGRAM_USER))
    assert help_reply < first_photo


# --- Discord -----------------------------------------------------------------------------


@pytest.fixture
async def discord_bot(tmp_path: Path) -> AsyncIterator[tuple[DiscordAdapter, FakeDiscord]]:
    async with FakeDiscord() as fake:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            discord_bot_token=fake.token,
            discord_api_base_url=fake.api_base_url,
            discord_gateway_url=fake.gateway_url,
            bot_db_path=tmp_path / "bot.sqlite3",
        )
        with Storage(tmp_path / "bot.sqlite3") as store:
            coach = Coach(store, clock=FakeClock(), default_tz="Europe/Berlin")
            adapter = DiscordAdapter(coach, settings, guild_ready_timeout=0.01)
            async with adapter.running():
                yield adapter, fake


def attachment_of(fake: FakeDiscord, message: dict[str, Any], name: str) -> bytes:
    (attachment,) = [a for a in message["attachments"] if a["filename"] == name]
    (embed_image,) = [e["image"]["url"] for e in message["embeds"] if e.get("image")]
    assert embed_image == attachment["url"]  # shown in the embed, not as a loose file
    return fake.uploads[attachment["id"]]


async def test_discord_history_is_deferred_and_sent_as_attachments_in_embeds(
    discord_bot: tuple[DiscordAdapter, FakeDiscord],
) -> None:
    _, fake = discord_bot
    await fake.push_message("calves 7/10")
    await fake.wait_for(lambda: fake.dms_to(DISCORD_USER))
    interaction = await fake.push_slash("history")
    summary, body_map = await fake.replies(interaction, 2)
    assert interaction.callback == 5  # deferred ("thinking…") while it draws
    assert decoded(attachment_of(fake, summary, "history.png")).size == (1000, 750)
    assert decoded(attachment_of(fake, body_map, "body-map.png")).format == "PNG"


async def test_discord_routine_by_dm_shows_typing_then_the_body_map(
    discord_bot: tuple[DiscordAdapter, FakeDiscord],
) -> None:
    _, fake = discord_bot
    typing = "POST /channels/{channel_id}/typing"
    for said in ("calves 7/10", "/settings map on"):
        before = len(fake.dms_to(DISCORD_USER))
        await fake.push_message(said)
        await fake.wait_for(lambda before=before: len(fake.dms_to(DISCORD_USER)) > before)
    assert fake.calls_to(typing) == []  # nothing drawn yet, no typing
    before = len(fake.dms_to(DISCORD_USER))
    await fake.push_message("what should I roll?")
    await fake.wait_for(lambda: len(fake.dms_to(DISCORD_USER)) > before)
    (routine,) = fake.dms_to(DISCORD_USER)[before:]
    assert decoded(attachment_of(fake, routine, "body-map.png")).format == "PNG"
    assert routine["components"]  # the routine's buttons ride with it
    (shown,) = fake.calls_to(typing)
    messages = fake.calls_to("POST /channels/{channel_id}/messages")
    assert shown.at <= messages[-1].at  # the indicator came first

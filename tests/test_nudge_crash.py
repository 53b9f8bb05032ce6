"""A real crash: `python -m bot` fans out 900 nudges to the fake Telegram API, is killed
with SIGKILL mid-fan-out, restarts and finishes.

Delivery is at-most-once by design (see `bot.scheduler`): a row is claimed (committed as
`sending`) before its request goes out, and a row found `sending` after a restart is
recorded as failed "interrupted: delivery unknown" and never resent.

- The first test kills the bot at the moment that makes duplicates: Telegram has carried out
  the sends in flight, but their answers have not come back (the fake holds them). After
  the restart every user has exactly one nudge.
- The second kills it at an arbitrary moment. A kill between a claim's commit and its
  request leaving the process (at most one send interval per send permit, 10-15 ms here)
  loses those nudges (recorded as interrupted); the assertion is no duplicates and nothing
  lost without a record.

The bot runs at a fixed instant (`BOT_CLOCK_START`, carried on across the restart): 48 hours
before the first Saturday of a month, when the restarted bot plans the monthly massage
check-in into the outbox. "Drained" means nothing *due* is left, whatever is planned ahead.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import Clock, clock_starting_at
from bot.scheduler.service import INTERRUPTED
from bot.storage import Storage
from tests.fakes.telegram_api import FakeTelegram
from tests.processes import start_bot, stop_gracefully

USERS = 900
FIRST_CHAT = 700_000_000
EVERY_CHAT = range(FIRST_CHAT, FIRST_CHAT + USERS)
ONE_EACH = Counter(dict.fromkeys(EVERY_CHAT, 1))
# Sends in flight at 200/s: 10 ms of sends (2), or 200/s x the round trip (the fastest of
# the last 64 sends) x 2 when that is more. The fake answers in ~1.5 ms here: 2 (3 would
# take no answer within 5 ms for 64 sends in a row).
MAX_IN_FLIGHT = 2
# Thursday 3 Dec 2026: the massage check-in of Saturday 5 Dec 10:00 is inside the horizon.
START = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    """The bot's clock in every process of a test: START when the test begins."""
    return clock_starting_at(START)


def seed(db_path: Path, clock: Clock) -> None:
    now = clock()
    session = (now + timedelta(minutes=30)).isoformat()
    with Storage(db_path) as store, store.transaction():
        for n in range(USERS):
            chat = str(FIRST_CHAT + n)
            user = store.user_for("telegram", chat, "UTC")
            user.chat_id = chat
            user.onboarded = True
            store.save_user(user)
            store.enqueue_nudge(
                user.id,
                "pre_workout",
                now + timedelta(milliseconds=n),  # distinct due times, all due now
                {"ref": session, "session_at": session, "workout": "run"},
            )


def counts(db_path: Path) -> dict[str, int]:
    with Storage(db_path) as store:
        return store.nudge_counts()


async def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def every_send_slot_held(fake: FakeTelegram, db_path: Path, timeout: float) -> int:
    """Wait until every send the bot may have in flight waits for its answer: the held sends
    are all the rows in `sending`, and no other send starts (at 200/s, a free send permit
    would start one within 5 ms; this waits 0.3 s). Returns how many are held."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last, since = -1, loop.time()
    while loop.time() < deadline:
        held = len(fake.held_calls("sendMessage"))
        if held != last:
            last, since = held, loop.time()
        elif held and held == counts(db_path)["sending"] and loop.time() - since >= 0.3:
            return held
        await asyncio.sleep(0.05)
    raise AssertionError(
        "timed out waiting for every send slot to wait for an answer, and every earlier "
        "answer to be recorded"
    )


async def start_fan_out(
    db_path: Path, fake: FakeTelegram, log: Path, clock: Clock
) -> subprocess.Popen[bytes]:
    """Seed the users and start the bot; returns once a few hundred nudges have gone out."""
    seed(db_path, clock)
    bot = start_bot(db_path, fake, clock_start=clock(), rate=200, log=log)
    try:
        await wait_for(lambda: sent(fake) >= 300, 60, "the first few hundred nudges")
    except BaseException:
        bot.kill()
        bot.wait(10)
        raise
    return bot


def kill_9(bot: subprocess.Popen[bytes], fake: FakeTelegram) -> None:
    bot.send_signal(signal.SIGKILL)
    bot.wait(10)
    assert sent(fake) < USERS, "the fan-out finished before the kill; nothing was tested"


async def restart_and_drain(db_path: Path, fake: FakeTelegram, log: Path, clock: Clock) -> None:
    bot = start_bot(db_path, fake, clock_start=clock(), rate=200, log=log)
    try:

        def drained() -> bool:
            """Nothing due is pending or in flight; nudges planned for later may wait."""
            with Storage(db_path) as store:
                due = store.next_due("telegram")
                in_flight = store.nudge_counts()["sending"]
            return in_flight == 0 and (due is None or due > clock())

        await wait_for(drained, 90, "the outbox to drain after the restart")
    finally:
        await stop_gracefully(bot)


def sent(fake: FakeTelegram) -> int:
    return len(fake.calls_to("sendMessage"))


def nudges_per_chat(fake: FakeTelegram) -> Counter[int]:
    return Counter(int(call.params["chat_id"]) for call in fake.calls_to("sendMessage"))


def outbox(db_path: Path) -> list[tuple[int, str, str | None]]:
    """(chat, status, error) of every seeded pre-workout nudge (not what was planned after)."""
    with Storage(db_path) as store:
        rows = store.db.execute(
            "SELECT u.chat_id, n.status, n.error FROM nudges n JOIN users u ON u.id = n.user_id "
            "WHERE n.kind = 'pre_workout'"
        ).fetchall()
    return [(int(chat), status, error) for chat, status, error in rows]


def interrupted_chats(rows: list[tuple[int, str, str | None]]) -> set[int]:
    return {chat for chat, _, error in rows if error == INTERRUPTED}


@pytest.mark.slow
async def test_kill_9_while_answers_are_in_flight_every_user_gets_exactly_one(
    tmp_path: Path, clock: Clock
) -> None:
    db_path, log = tmp_path / "bot.sqlite3", tmp_path / "bot.log"
    async with FakeTelegram() as fake:
        bot = await start_fan_out(db_path, fake, log, clock)
        fake.hold_answers("sendMessage")
        in_flight = await every_send_slot_held(fake, db_path, 10)
        kill_9(bot, fake)
        assert in_flight == MAX_IN_FLIGHT
        held = {int(call.params["chat_id"]) for call in fake.held_calls("sendMessage")}
        fake.release_answers()
        await restart_and_drain(db_path, fake, log, clock)
        per_chat = nudges_per_chat(fake)

    assert per_chat == ONE_EACH
    rows = outbox(db_path)
    interrupted = interrupted_chats(rows)
    assert interrupted == held
    assert {status for chat, status, error in rows if chat not in held} == {"sent"}


@pytest.mark.slow
async def test_kill_9_at_any_moment_sends_no_nudge_twice(tmp_path: Path, clock: Clock) -> None:
    db_path, log = tmp_path / "bot.sqlite3", tmp_path / "bot.log"
    async with FakeTelegram() as fake:
        kill_9(await start_fan_out(db_path, fake, log, clock), fake)
        await restart_and_drain(db_path, fake, log, clock)
        per_chat = nudges_per_chat(fake)

    duplicates = {chat: n for chat, n in per_chat.items() if n > 1}
    assert duplicates == {}, f"sent twice: {list(duplicates.items())[:5]}"
    rows = outbox(db_path)
    interrupted = interrupted_chats(rows)
    assert len(interrupted) <= MAX_IN_FLIGHT
    assert {status for chat, status, error in rows if chat not in interrupted} == {"sent"}
    missing = set(EVERY_CHAT) - set(per_chat)
    assert missing <= interrupted, f"lost without an interrupted record: {sorted(missing)[:5]}"


@pytest.mark.slow
async def test_sigterm_mid_fan_out_records_every_send_and_the_restart_finishes(
    tmp_path: Path, clock: Clock
) -> None:
    db_path, log = tmp_path / "bot.sqlite3", tmp_path / "bot.log"
    async with FakeTelegram() as fake:
        bot = await start_fan_out(db_path, fake, log, clock)
        # Answers take 0.3 s from here: sends are in flight at SIGTERM, and the nudges must
        # stop (waiting for them) before the Telegram adapter closes its connections.
        fake.delay_next("sendMessage", 0.3, times=4 * MAX_IN_FLIGHT)
        await asyncio.sleep(0.1)
        assert await stop_gracefully(bot) == 0
        at_stop = counts(db_path)
        assert at_stop["sending"] == at_stop["failed"] == 0
        assert at_stop["sent"] == sent(fake) < USERS
        await restart_and_drain(db_path, fake, log, clock)
        per_chat = nudges_per_chat(fake)

    assert per_chat == ONE_EACH
    assert {status for _, status, _ in outbox(db_path)} == {"sent"}

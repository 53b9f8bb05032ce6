"""The ports' contracts, held by every implementation.

- Outbox: SQLite (`Storage`), memory (`MemoryStore`) and PostgreSQL (`PgStorage`, on a
  throwaway server: tests/pg.py); the Store half of the contract is tests/test_storage.py's
  `store` fixture tests.
- Adapter: the terminal chat, Telegram and Discord (against their fake platform servers).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleChat
from bot.adapters.discord import DiscordAdapter
from bot.adapters.telegram import TelegramAdapter
from bot.core.coach import Coach
from bot.core.memory import MemoryStore
from bot.core.ports import Adapter, Capabilities, Delivery, Outbox, SendResult
from bot.core.records import PlannedNudge, User
from bot.core.replies import Button, Reply
from bot.settings import Settings
from bot.storage import Storage
from bot.storage_pg import PgStorage
from tests.fakes.discord_api import USER_ID as DISCORD_USER
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "memory", "postgres"])
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outbox]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "postgres":
        with PgStorage(request.getfixturevalue("pg_url")) as postgres:
            yield postgres
    else:
        with Storage(tmp_path / "bot.sqlite3") as sqlite:
            yield sqlite


def nudge(outbox: Outbox, platform: str = "telegram", who: str = "1", minutes: int = 0) -> int:
    user = outbox.user_for(platform, who, "UTC")
    due = T0 + timedelta(minutes=minutes)
    nudge_id = outbox.enqueue_nudge(user.id, "pre_workout", due, {"ref": f"{who}-{minutes}"})
    assert nudge_id is not None
    return nudge_id


def status(outbox: Outbox, nudge_id: int) -> str:
    found = outbox.get_nudge(nudge_id)
    assert found is not None
    return found.status


def test_pending_nudges_come_earliest_first_and_by_platform(outbox: Outbox) -> None:
    late = nudge(outbox, who="a", minutes=5)
    early = nudge(outbox, who="b", minutes=1)
    other = nudge(outbox, platform="discord", who="c", minutes=2)
    assert [n.id for n in outbox.pending_nudges(T0 + timedelta(hours=1), 10)] == [
        early,
        other,
        late,
    ]
    assert [n.id for n in outbox.pending_nudges(T0 + timedelta(hours=1), 10, "telegram")] == [
        early,
        late,
    ]
    assert outbox.pending_nudges(T0, 10) == []  # nothing due yet
    assert outbox.next_due("discord") == T0 + timedelta(minutes=2)


def test_a_claim_is_taken_once_and_counts_an_attempt(outbox: Outbox) -> None:
    nudge_id = nudge(outbox)
    assert outbox.claim_nudge(nudge_id)
    assert not outbox.claim_nudge(nudge_id)
    found = outbox.get_nudge(nudge_id)
    assert found is not None and (found.status, found.attempts) == ("sending", 1)


def test_release_and_unclaim_put_a_claim_back(outbox: Outbox) -> None:
    released, unclaimed = nudge(outbox, who="a"), nudge(outbox, who="b")
    for nudge_id in (released, unclaimed):
        outbox.claim_nudge(nudge_id)
    assert outbox.release_nudge(released, error="rate limited")
    assert outbox.unclaim_nudge(unclaimed)
    assert not outbox.release_nudge(released)  # only a claimed row goes back
    attempts = {n.id: n.attempts for n in outbox.pending_nudges(T0, 10)}
    assert attempts == {released: 1, unclaimed: 0}  # an unclaim undoes the attempt


def test_sent_marks_stamp_their_times(outbox: Outbox) -> None:
    nudge_id = nudge(outbox)
    outbox.claim_nudge(nudge_id)
    outbox.mark_sent([(nudge_id, T0 + timedelta(seconds=3))])
    assert status(outbox, nudge_id) == "sent"
    user = outbox.user_for("telegram", "1", "UTC")
    latest = outbox.latest_sent_nudge(user.id, T0)
    assert latest is not None and latest[1] == T0 + timedelta(seconds=3)


def test_recovery_fails_what_was_in_flight_and_expires_what_is_too_late(outbox: Outbox) -> None:
    in_flight, stale, fresh = (
        nudge(outbox, who="a"),
        nudge(outbox, who="b"),
        nudge(outbox, who="c", minutes=30),
    )
    outbox.claim_nudge(in_flight)
    assert outbox.fail_interrupted() == 1
    assert outbox.expire_nudges(T0 + timedelta(minutes=10), "missed: bot was down") == 1
    assert (status(outbox, in_flight), status(outbox, stale), status(outbox, fresh)) == (
        "failed",
        "missed",
        "pending",
    )
    counts = outbox.nudge_counts()
    assert (counts["failed"], counts["missed"], counts["pending"], counts["sent"]) == (1, 1, 1, 0)


def test_planning_bookmarks_list_each_user_until_they_are_planned(outbox: Outbox) -> None:
    first = outbox.user_for("telegram", "1", "UTC")
    second = outbox.user_for("telegram", "2", "UTC")
    outbox.add_schedule(first.id, "18:00", weekday=0)
    listed = outbox.users_to_plan(T0, 10)
    assert {user.id for user, _, _ in listed} == {first.id, second.id}
    assert all(until is None for _, _, until in listed)  # never planned: from now
    outbox.set_planned_until([(first.id, T0 + timedelta(hours=48))])
    assert [user.id for user, _, _ in outbox.users_to_plan(T0 + timedelta(hours=1), 10)] == [
        second.id
    ]
    listed = outbox.users_to_plan(T0 + timedelta(hours=49), 10)
    assert [(user.id, until) for user, _, until in listed] == [
        (second.id, None),  # never planned comes first
        (first.id, T0 + timedelta(hours=48)),
    ]
    assert [entry.weekday for entry in listed[1][1]] == [0]


def test_planned_rows_are_added_once(outbox: Outbox) -> None:
    user = outbox.user_for("telegram", "1", "UTC")
    planned = [PlannedNudge("pre_workout", T0, {"ref": "s1"})]
    assert outbox.add_planned(user.id, planned) == 1
    assert outbox.add_planned(user.id, planned) == 0


def test_the_unreachable_flag_is_set_alone(outbox: Outbox) -> None:
    user = outbox.user_for("telegram", "1", "UTC")
    user.lead_minutes = 45
    outbox.save_user(user)
    assert outbox.set_unreachable(user.id)
    again = outbox.get_user(user.id)
    assert again is not None and again.unreachable and again.lead_minutes == 45
    assert not outbox.set_unreachable(99_999)


# --- the Adapter contract: every platform, the same promises to the scheduler ---------------


@pytest.fixture(params=["console", "telegram", "discord"])
async def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Adapter]:
    store = MemoryStore()
    coach = Coach(store)
    if request.param == "console":
        chat = ConsoleChat(coach, files_dir=tmp_path, stdin=io.StringIO(), stdout=io.StringIO())
        async with _nothing_to_start():
            yield chat
        return
    if request.param == "discord":
        async with FakeDiscord() as fake_discord:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                discord_bot_token=fake_discord.token,
                discord_api_base_url=fake_discord.api_base_url,
                discord_gateway_url=fake_discord.gateway_url,
                bot_db_path=tmp_path / "bot.sqlite3",
            )
            discord = DiscordAdapter(coach, settings, guild_ready_timeout=0.01)
            async with discord.running():
                yield discord
        return
    async with FakeTelegram() as fake:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_bot_token=fake.token,
            telegram_base_url=fake.base_url,
            bot_db_path=tmp_path / "bot.sqlite3",
        )
        telegram = TelegramAdapter(coach, settings, poll_timeout=1)
        async with telegram.running():
            yield telegram


@contextlib.asynccontextmanager
async def _nothing_to_start() -> AsyncIterator[None]:
    yield


def someone(platform: str) -> User:
    """A user of the platform the fakes know (Discord finds the DM channel itself)."""
    if platform == "discord":
        return User(1, platform, str(DISCORD_USER), "UTC")
    return User(1, platform, "1001", "UTC", chat_id="1001")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_an_adapter_names_its_platform_and_its_limits(adapter: Adapter) -> None:
    assert adapter.platform in {"console", "telegram", "discord"}
    assert isinstance(adapter.capabilities, Capabilities)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_an_adapter_sends_a_reply_with_buttons_and_says_it_was_sent(adapter: Adapter) -> None:
    reply = Reply(
        text="Time to roll!", title="Before your run", buttons=((Button("Start", "ns:1"),),)
    )
    result = await adapter.send(someone(adapter.platform), reply)
    assert isinstance(result, SendResult) and result.delivery is Delivery.SENT


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_an_adapter_does_not_send_to_someone_who_blocked_the_bot(adapter: Adapter) -> None:
    if adapter.platform == "console":
        pytest.skip("the terminal's one user cannot block it")
    blocked = someone(adapter.platform)
    blocked.unreachable = True
    assert (await adapter.send(blocked, Reply(text="hi"))).delivery is Delivery.BLOCKED


def test_the_heartbeat_is_the_last_one_recorded(outbox: Outbox) -> None:
    assert outbox.last_heartbeat() is None
    outbox.record_heartbeat(T0)
    outbox.record_heartbeat(T0 + timedelta(seconds=30))
    assert outbox.last_heartbeat() == T0 + timedelta(seconds=30)


def test_an_answer_is_recorded_on_its_nudge_and_nothing_else(outbox: Outbox) -> None:
    nudge_id = nudge(outbox)
    outbox.claim_nudge(nudge_id)
    outbox.mark_sent([(nudge_id, T0)])
    assert outbox.answer_nudge(nudge_id, "started")
    found = outbox.get_nudge(nudge_id)
    assert found is not None and (found.status, found.answer) == ("sent", "started")
    assert outbox.answer_nudge(nudge_id, "skipped")  # the latest answer is kept
    assert outbox.get_nudge(nudge_id).answer == "skipped"  # type: ignore[union-attr]
    assert not outbox.answer_nudge(99_999, "started")
    with pytest.raises(ValueError, match="unknown nudge answer"):
        outbox.answer_nudge(nudge_id, "loved it")


def test_a_users_nudges_since_an_instant_in_every_status_earliest_first(outbox: Outbox) -> None:
    late, early, before = (
        nudge(outbox, who="a", minutes=9),
        nudge(outbox, who="a", minutes=3),
        nudge(outbox, who="a", minutes=-5),
    )
    nudge(outbox, who="b", minutes=4)  # someone else's
    outbox.mark_nudge(early, "skipped", error="quiet hours")
    user = outbox.user_for("telegram", "a", "UTC")
    found = outbox.nudges_since(user.id, T0)
    assert [(n.id, n.status, n.answer) for n in found] == [
        (early, "skipped", None),
        (late, "pending", None),
    ]
    assert outbox.nudges_since(user.id, T0 - timedelta(hours=1))[0].id == before

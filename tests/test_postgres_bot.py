"""The whole bot on PostgreSQL: `run_bot` with BOT_DATABASE_URL and the Telegram adapter
against the fake Bot API. A message is answered (its turn in a worker thread), a due nudge
goes out (the scheduler on its own loop, the send through the bot's), and a second worker
on the same database runs beside the first."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import run_bot
from bot.settings import Settings
from bot.storage_pg import PgStorage
from tests.fakes.telegram_api import FakeTelegram

USER = 1001  # the fake's user
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def settings_for(fake: FakeTelegram, url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=fake.token,
        telegram_base_url=fake.base_url,
        telegram_base_file_url=fake.base_file_url,
        bot_db_path=tmp_path / "unused.sqlite3",
        bot_database_url=url,  # type: ignore[arg-type]
    )


async def until(condition: object, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.02)


async def test_the_bot_runs_on_postgres_end_to_end(pg_url: str, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with PgStorage(pg_url) as store:
        user = store.user_for("telegram", str(USER), "UTC")
        session = now + timedelta(minutes=29)
        payload = {"ref": session.isoformat(), "session_at": session.isoformat()}
        nudge_id = store.enqueue_nudge(user.id, "pre_workout", now - timedelta(minutes=1), payload)
        assert nudge_id is not None

    async with FakeTelegram() as fake:
        settings = settings_for(fake, pg_url, tmp_path)
        bot = asyncio.create_task(run_bot(settings))
        second: asyncio.Task[int] | None = None
        try:
            sent = lambda: fake.calls_to("sendMessage")  # noqa: E731
            await until(lambda: len(sent()) >= 1)  # the due nudge, sent at start-up
            fake.push_text("calves 6/10")
            await until(lambda: len(sent()) >= 2)

            # A second worker on the same database starts beside it (docs/scaling.md): it
            # sends but does not poll, since the first one plays the poller.
            second = asyncio.create_task(run_bot(settings))
            await asyncio.sleep(1.0)
            assert not second.done()
            fake.push_text("what should I roll?")
            await until(lambda: len(sent()) >= 3)
        finally:
            for task in (bot, second):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
    assert len(sent()) >= 2
    assert not (tmp_path / "unused.sqlite3").exists()
    with PgStorage(pg_url) as store:
        nudge = store.get_nudge(nudge_id)
        assert nudge is not None and nudge.status == "sent"
        reports = store.soreness_since(user.id, now - timedelta(hours=1))
        assert [(r.area, r.severity) for r in reports] == [("calves", 6)]
        assert store.last_heartbeat() is not None

"""Start-up failures are one clear line naming the setting, exit status 2, no traceback.

Each case runs `python -m bot` as a real process. (Tests run as root here, so a folder
without write permission is not refused by the OS; `_why_unusable` is checked directly
for the read-only case.)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import _why_unusable
from bot.core.content import DEFAULT_DIRECTORY
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]


def start(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "TELEGRAM_BOT_TOKEN": "", "DISCORD_BOT_TOKEN": ""}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        input="/quit\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
        check=False,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_a_database_path_that_is_a_directory(tmp_path: Path) -> None:
    assert_one_line(start(BOT_DB_PATH=str(tmp_path)), "BOT_DB_PATH", "directory")


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_text("these are my training notes, not a database\n" * 50)
    assert_one_line(start(BOT_DB_PATH=str(path)), "BOT_DB_PATH", "not a SQLite database")
    assert path.read_text().startswith("these are my training notes")  # nothing overwritten


def test_a_parent_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    path = blocker / "sub" / "bot.sqlite3"  # a folder inside a file
    assert_one_line(start(BOT_DB_PATH=str(path)), "BOT_DB_PATH", "cannot be created")


def test_a_read_only_place_is_named_as_such(tmp_path: Path) -> None:
    exc = sqlite3.OperationalError("attempt to write a readonly database")
    assert "read-only" in _why_unusable(tmp_path / "bot.sqlite3", exc)


@pytest.mark.slow
def test_an_unreachable_bot_api(tmp_path: Path) -> None:
    result = start(
        TELEGRAM_BOT_TOKEN="123456:SECRET-TOKEN",
        TELEGRAM_BASE_URL="http://127.0.0.1:9/bot",
        BOT_DB_PATH=str(tmp_path / "bot.sqlite3"),
    )
    assert_one_line(result, "TELEGRAM_BASE_URL", "cannot reach")
    assert "SECRET-TOKEN" not in result.stderr + result.stdout


@pytest.mark.slow
async def test_a_revoked_token_is_named_and_never_printed(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:
        result = await asyncio.to_thread(
            start,
            TELEGRAM_BOT_TOKEN="123456:REVOKED-SECRET",
            TELEGRAM_BASE_URL=fake.base_url,
            BOT_DB_PATH=str(tmp_path / "bot.sqlite3"),
        )
    assert_one_line(result, "TELEGRAM_BOT_TOKEN", "refused")
    assert "REVOKED-SECRET" not in result.stderr + result.stdout


def test_an_edited_copy_of_the_content_is_used(tmp_path: Path) -> None:
    folder = tmp_path / "my-content"
    shutil.copytree(DEFAULT_DIRECTORY, folder)
    areas = folder / "areas.yaml"
    areas.write_text(areas.read_text().replace("synonyms: [calf,", "synonyms: [wheels, calf,"))
    environment = {**os.environ, "BOT_CONTENT_DIR": str(folder), "TELEGRAM_BOT_TOKEN": ""}
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        input="my wheels are 6/10\n/quit\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**environment, "DISCORD_BOT_TOKEN": "", "BOT_DB_PATH": str(tmp_path / "b.sqlite3")},
        timeout=60,
        check=False,
    )
    assert "calves 6/10" in result.stdout, result.stderr


def test_broken_content_stops_the_bot_with_one_line_naming_file_and_key(tmp_path: Path) -> None:
    folder = tmp_path / "my-content"
    shutil.copytree(DEFAULT_DIRECTORY, folder)
    (folder / "faq.yaml").write_text("faqs: []\n")
    result = start(BOT_CONTENT_DIR=str(folder), BOT_DB_PATH=str(tmp_path / "b.sqlite3"))
    assert_one_line(result, "my-content/faq.yaml")

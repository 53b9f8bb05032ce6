"""Starting and stopping a `python -m bot` against the fake Bot API, from tests and benches,
without blocking the caller's event loop.

The fake platform servers run on the caller's loop. A blocking `Popen.wait()` after SIGTERM
starves them, so the bot's last requests on the way out (PTB's final getUpdates that
confirms what it fetched) time out and the exit takes seconds longer than it should.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]


def start_bot(
    db_path: Path, fake: FakeTelegram, *, clock_start: datetime, rate: float, log: Path
) -> subprocess.Popen[bytes]:
    """The bot on SQLite at `db_path`, its clock reading `clock_start` as it starts, sending
    to `fake` at `rate` a second; its output appended to `log`."""
    env = {
        **os.environ,
        "BOT_CLOCK_START": clock_start.isoformat(),
        "BOT_DB_PATH": str(db_path),
        "BOT_DATABASE_URL": "",  # SQLite, whatever the caller's environment says
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_SEND_RATE": f"{rate:g}",
        "DISCORD_BOT_TOKEN": "",
        "BOT_LOG_LEVEL": "INFO",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=out, stderr=out
        )


async def exited(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Whether the process exits within `timeout` seconds; the loop keeps running meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while process.poll() is None:
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def stop_gracefully(process: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """SIGTERM, wait for a clean exit, SIGKILL if none comes in time; the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    if not await exited(process, timeout):
        process.kill()
        process.wait(5)
    return process.returncode

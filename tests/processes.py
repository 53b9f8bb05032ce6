"""Stopping a `python -m bot` started by a test, without blocking the test's event loop.

The fake platform servers run on the test's loop. A blocking `Popen.wait()` after SIGTERM
starves them, so the bot's last requests on the way out (PTB's final getUpdates that
confirms what it fetched) time out and the exit takes seconds longer than it should.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess


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

"""The terminal chat end to end: `python -m bot` as a real process with piped stdin."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_bot(db_path: Path, lines: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "BOT_DB_PATH": str(db_path),
        "TELEGRAM_BOT_TOKEN": "",
        "DISCORD_BOT_TOKEN": "",
        "BOT_DEFAULT_TZ": "UTC",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
        check=False,
    )


@pytest.fixture
def first_session(db_path: Path) -> subprocess.CompletedProcess[str]:
    return run_bot(
        db_path,
        [
            "/start",
            "Berlin",
            "Mon Wed Fri 18:00",
            "yes",  # a typed answer to the read-back: Save
            "my calves are killing me",
            "what should I roll? I have 10 minutes",
            "had a massage today",
            "/history",
        ],
    )


def test_console_chat_runs_onboarding_soreness_roll_and_massage(
    first_session: subprocess.CompletedProcess[str],
) -> None:
    out = first_session.stdout
    assert first_session.returncode == 0, first_session.stderr
    assert "Europe/Berlin" in out
    assert "Mon 18:00" in out and "Saved" in out
    assert "calves 9/10" in out
    assert "10-minute rolling routine" in out
    assert "Massage logged" in out
    assert "Calves: 9" in out


def test_console_state_survives_a_restart(
    first_session: subprocess.CompletedProcess[str], db_path: Path
) -> None:
    again = run_bot(db_path, ["/history", "/schedule", "/massage"])
    assert again.returncode == 0, again.stderr
    assert "Calves: 9" in again.stdout
    assert "Fri 18:00" in again.stdout
    assert "1 massage this month" in again.stdout


def test_console_export_writes_my_data_to_a_file(
    first_session: subprocess.CompletedProcess[str], db_path: Path
) -> None:
    run_bot(db_path, ["/export"])
    exported = next((db_path.parent / "exports").glob("*.json"))
    assert json.loads(exported.read_text())["soreness"][0]["area"] == "calves"


def test_help_flag_explains_the_modes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert "TELEGRAM_BOT_TOKEN" in result.stdout and "terminal chat" in result.stdout


def test_bad_setting_stops_with_a_clear_error(db_path: Path) -> None:
    result = run_bot(db_path, [], BOT_DEFAULT_TZ="Mars/Olympus_Mons")
    assert result.returncode == 2
    assert "BOT_DEFAULT_TZ" in result.stderr and "Traceback" not in result.stderr


_EXEC_WITH_SIGINT_IGNORED = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def _at_the_prompt(
    db_path: Path, sigint_ignored: bool = False
) -> tuple[subprocess.Popen[bytes], int, bytearray]:
    """`python -m bot` on a terminal (a pty), waiting at its first prompt; optionally
    started with SIGINT ignored, which a child inherits from a parent that ignores it."""
    master, slave = pty.openpty()
    environment = {
        **os.environ,
        "BOT_DB_PATH": str(db_path),
        "TELEGRAM_BOT_TOKEN": "",
        "DISCORD_BOT_TOKEN": "",
    }
    command = [sys.executable, "-m", "bot"]
    if sigint_ignored:  # exec keeps an ignored signal ignored
        command = [sys.executable, "-c", _EXEC_WITH_SIGINT_IGNORED, *command]
    process = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env=environment,
        start_new_session=True,
    )
    os.close(slave)
    output = bytearray()
    _read_until(master, output, b"you> ", seconds=30)
    return process, master, output


def _read_until(master: int, output: bytearray, marker: bytes, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while marker not in output and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                output += os.read(master, 4096)
            except OSError:  # the other end closed
                return


@pytest.mark.parametrize("how", ["ctrl-c", "ctrl-d", "ctrl-c, started with it ignored"])
def test_ctrl_c_or_ctrl_d_at_the_prompt_quits_at_once_with_one_line(
    db_path: Path, how: str
) -> None:
    process, master, output = _at_the_prompt(db_path, sigint_ignored="ignored" in how)
    if how.startswith("ctrl-c"):
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.write(master, b"\x04")
    # Read while it exits: a child writing to a full terminal would wait for us forever.
    _read_until(master, output, b"Roll well.", seconds=10)
    try:
        assert process.wait(timeout=10) == 0
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"still running after {how}; output: {output.decode(errors='replace')!r}")
    _read_until(master, output, b"\0", seconds=0.2)  # anything after the goodbye
    os.close(master)
    after_prompt = output.decode().rsplit("you> ", 1)[1]
    assert after_prompt.strip() == "Bye! Roll well."
    assert after_prompt.startswith("\r\n")  # the line ends before "Bye"
    assert "Traceback" not in output.decode()

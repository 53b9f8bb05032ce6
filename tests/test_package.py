"""`pip install .` gives a bot that starts, from outside the source tree: the wheel carries
the content (bot/content/*.yaml, read with importlib.resources). The Docker image installs
the same wheel.

The wheel goes into a fresh virtual environment with `--no-deps`; its dependencies come
from the test's own environment on PYTHONPATH, so no network is needed.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh venv with only the bot's wheel installed in it."""
    work = tmp_path_factory.mktemp("package")
    source = work / "src"  # a copy: building leaves build/ and egg-info behind
    shutil.copytree(ROOT / "bot", source / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(work)],
        check=True,
        capture_output=True,
    )
    (wheel,) = work.glob("recovery_coach_bot-*.whl")
    venv.create(work / "env", with_pip=True)
    python = work / "env" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    return python


def run(
    python: Path, args: list[str], cwd: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(site.getsitepackages()),  # the dependencies only
        "BOT_DB_PATH": str(cwd / "bot.sqlite3"),
        "TELEGRAM_BOT_TOKEN": "",
        "DISCORD_BOT_TOKEN": "",
    }
    return subprocess.run(
        [str(python), "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_the_installed_bot_explains_itself(installed: Path, tmp_path: Path) -> None:
    result = run(installed, ["--help"], tmp_path)
    assert result.returncode == 0 and "terminal chat" in result.stdout


@pytest.mark.slow
def test_the_installed_bot_chats_from_outside_the_source_tree(
    installed: Path, tmp_path: Path
) -> None:
    result = run(installed, [], tmp_path, stdin="calves 6/10\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "calves 6/10" in result.stdout
    where = subprocess.run(
        [str(installed), "-c", "import bot, sys; print(bot.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(site.getsitepackages())},
        check=True,
    ).stdout
    assert str(ROOT) not in where  # the installed copy, not the source tree
    wheel_files = zipfile.ZipFile(next(installed.parents[2].glob("*.whl"))).namelist()
    assert "bot/content/messages.yaml" in wheel_files and "bot/content/faq.yaml" in wheel_files

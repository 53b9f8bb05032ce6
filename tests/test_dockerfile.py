"""The image's essentials, checked on the Dockerfile (no Docker daemon runs here): it runs
as a non-root user, has a HEALTHCHECK, copies no secrets, and starts the installed package.
The wheel install the image does is tested for real in tests/test_package.py."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
IGNORED = (ROOT / ".dockerignore").read_text().split()


def instructions(name: str) -> list[str]:
    lines = DOCKERFILE.replace("\\\n", " ").splitlines()
    return [line.split(None, 1)[1] for line in lines if line.upper().startswith(f"{name} ")]


def final_stage() -> str:
    return DOCKERFILE.rsplit("\nFROM ", 1)[1]


def test_it_builds_in_stages_on_a_slim_python_311_or_newer() -> None:
    bases = instructions("FROM")
    assert len(bases) >= 2
    assert all(base.startswith("python:3.1") and "slim" in base for base in bases)


def test_it_runs_as_a_non_root_user() -> None:
    users = [line for line in final_stage().splitlines() if line.startswith("USER ")]
    assert users and users[-1].split()[1] not in {"root", "0"}


def test_it_has_a_healthcheck_on_the_bot_itself() -> None:
    (check,) = instructions("HEALTHCHECK")
    assert '"python", "-m", "bot", "healthcheck"' in check


def test_the_entry_point_is_the_installed_package_and_the_data_is_a_volume() -> None:
    assert instructions("ENTRYPOINT") == ['["python", "-m", "bot"]']
    assert "pip install" in final_stage() and ".whl" in final_stage()
    assert "COPY bot" not in final_stage()  # the source tree stays in the build stage
    assert instructions("VOLUME") == ['["/data"]']
    assert any("BOT_DB_PATH=/data/" in env for env in instructions("ENV"))


def test_no_secret_reaches_the_image() -> None:
    copied = " ".join(instructions("COPY"))
    assert ".env" not in copied and "data" not in copied.split()
    assert ".env" in IGNORED and "data" in IGNORED and "*.sqlite3" in IGNORED

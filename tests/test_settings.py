"""Settings: environment and .env in, one clear line per bad value out, no secrets echoed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

SECRET = "123456:VERY-SECRET-TOKEN"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env from the repository
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "DISCORD_BOT_TOKEN",
        "BOT_DEFAULT_TZ",
        "BOT_LOG_LEVEL",
        "BOT_CLOCK_START",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_run_the_terminal_chat() -> None:
    settings = load_settings()
    assert settings.telegram_token is None and settings.discord_token is None
    assert settings.bot_db_path == Path("data/bot.sqlite3")
    assert settings.bot_default_tz == "UTC"


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", SECRET)
    monkeypatch.setenv("BOT_DEFAULT_TZ", "berlin")
    monkeypatch.setenv("BOT_LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.telegram_token == SECRET
    assert settings.bot_default_tz == "Europe/Berlin"
    assert settings.bot_log_level == "DEBUG"


def test_values_come_from_a_dot_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BOT_DB_PATH=/tmp/elsewhere.sqlite3\n")
    assert load_settings().bot_db_path == Path("/tmp/elsewhere.sqlite3")


def test_blank_token_means_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "  ")
    assert load_settings().telegram_token is None


def test_unknown_time_zone_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_DEFAULT_TZ", "Mars/Olympus_Mons")
    with pytest.raises(SettingsError, match="BOT_DEFAULT_TZ"):
        load_settings()


def test_errors_never_echo_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", SECRET)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_PORT", "not-a-port")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "TELEGRAM_WEBHOOK_PORT" in str(caught.value)
    assert SECRET not in str(caught.value) and SECRET not in repr(load_settings.__doc__)


def test_settings_repr_hides_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", SECRET)
    assert SECRET not in repr(load_settings())


def test_the_clock_runs_on_from_bot_clock_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_CLOCK_START", "2028-02-29T23:59:00+01:00")
    now = load_settings().clock()
    assert now.tzinfo is not None
    assert timedelta(0) <= now - datetime(2028, 2, 29, 22, 59, tzinfo=UTC) < timedelta(seconds=5)


def test_a_clock_start_without_a_zone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_CLOCK_START", "2028-02-29T23:59:00")
    with pytest.raises(SettingsError, match="BOT_CLOCK_START"):
        load_settings()

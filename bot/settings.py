"""Settings from the environment and `.env`, validated once at start-up.

Every setting is listed with a comment in `.env.example`. A bad value stops the bot with
one clear line per problem (`BOT_DEFAULT_TZ: unknown time zone`), and token values never
appear in those lines: they are `SecretStr` and errors are rebuilt without the input.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.clock import Clock, clock_starting_at, system_clock
from bot.core.timeplan import parse_timezone

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class SettingsError(ValueError):
    """The configuration is wrong; the message names each setting and what is wrong."""


class StartupError(RuntimeError):
    """The bot cannot start: one line for the user, naming the setting to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_send_rate: float = Field(default=25.0, gt=0, le=1000)
    discord_bot_token: SecretStr | None = None
    discord_api_base_url: str | None = None
    discord_gateway_url: str | None = None
    discord_guild_id: int | None = Field(default=None, gt=0)
    discord_send_rate: float = Field(default=40.0, gt=0, le=1000)
    discord_shard_count: int = Field(default=1, ge=1, le=1024)  # >1: shards split over workers
    bot_db_path: Path = Path("./data/bot.sqlite3")
    bot_database_url: SecretStr | None = None  # postgresql://...: PostgreSQL instead of SQLite
    bot_content_dir: Path | None = None  # an edited copy of bot/content
    bot_log_level: LogLevel = "INFO"
    bot_log_format: Literal["text", "json"] = "text"
    bot_default_tz: str = "UTC"
    bot_nudge_grace_minutes: int = Field(default=15, ge=1, le=24 * 60)
    bot_clock_start: AwareDatetime | None = None  # tests and demos: run as if it were then

    @property
    def clock(self) -> Clock:
        """The one clock the coach, the scheduler and the storage share."""
        if self.bot_clock_start is None:
            return system_clock
        return clock_starting_at(self.bot_clock_start)

    @field_validator("bot_default_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone = parse_timezone(value)
        if zone is None:
            raise ValueError("unknown time zone; use an IANA name like Europe/Berlin")
        return zone

    @field_validator("bot_content_dir")
    @classmethod
    def _a_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"no folder at {value}")
        return value

    @field_validator("bot_log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("bot_log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("discord_api_base_url")
    @classmethod
    def _versioned_api(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = value.strip().rstrip("/")
        if not url.startswith(("http://", "https://")) or not re.search(r"/v\d+$", url):
            raise ValueError("must be http(s) and end in the API version, e.g. .../api/v10")
        return url

    @field_validator("discord_gateway_url")
    @classmethod
    def _websocket_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.strip().startswith(("ws://", "wss://")):
            raise ValueError("must be a ws:// or wss:// URL, e.g. wss://gateway.discord.gg/")
        return value.strip()

    @field_validator("discord_guild_id", mode="before")
    @classmethod
    def _blank_guild(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("bot_database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        url = value.get_secret_value().strip()
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL, e.g. postgresql://bot@localhost/bot")
        return SecretStr(url)

    @field_validator("telegram_bot_token", "discord_bot_token", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def telegram_token(self) -> str | None:
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None

    @property
    def discord_token(self) -> str | None:
        return self.discord_bot_token.get_secret_value() if self.discord_bot_token else None

    @property
    def database_url(self) -> str | None:
        """The PostgreSQL URL (it may hold a password: redact it in messages), or None for
        SQLite at `bot_db_path`."""
        return self.bot_database_url.get_secret_value() if self.bot_database_url else None


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's errors into one readable line per setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        ]
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(problems)) from None

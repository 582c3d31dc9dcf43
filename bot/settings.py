"""Settings from the environment or `.env` (see `.env.example`), checked at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API = "https://api.telegram.org"


class SettingsError(SystemExit):
    """A missing or malformed setting: one clear line naming it, then exit status 2."""

    def __init__(self, line: str) -> None:
        super().__init__(2)
        self.line = line

    def __str__(self) -> str:
        return self.line


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PMM_", env_file=".env", extra="ignore")

    bot_token: SecretStr | None = None
    db_path: Path = Path("pmm.sqlite3")
    secretariat_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    api_base_url: str = TELEGRAM_API
    default_language: Literal["en", "fr", "es"] = "en"
    invite_days: int = Field(default=30, ge=1, le=365)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    reminder_days: Annotated[tuple[int, ...], NoDecode] = (14, 7, 3, 1)
    reminder_hour: int = Field(default=9, ge=0, le=23)
    send_rate: float = Field(default=20.0, gt=0, le=30)
    # Replies to one chat: about one a second after a burst of three, as Telegram allows;
    # 0 lifts it (a local Bot API server or emulator has no such limit).
    chat_rate: float = Field(default=1.0, ge=0, le=30)
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, gt=0, lt=65536)
    webhook_secret: SecretStr | None = None
    backup_dir: Path | None = None
    backup_keep: int = Field(default=14, ge=1, le=3650)
    flood_messages: int = Field(default=20, ge=3, le=1000)
    flood_window: float = Field(default=10.0, gt=0, le=3600)

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _days(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not parts or not all(p.isdigit() and 0 < int(p) <= 90 for p in parts):
                raise ValueError("must be days before the deadline separated by commas, e.g. 14,7,3,1")
            return tuple(sorted({int(p) for p in parts}, reverse=True))
        return value

    @field_validator("secretariat_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(p.lstrip("-").isdigit() for p in parts):
                raise ValueError("must be Telegram user ids separated by commas, e.g. 12345,67890")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("api_base_url", "webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("backup_dir", mode="before")
    @classmethod
    def _optional_path(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{8,256}", value.get_secret_value()):
            raise ValueError("must be 8 to 256 characters among A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    def webhook(self) -> tuple[str, str] | None:
        """(public URL, secret) when webhook mode is configured, else None (long polling)."""
        if self.webhook_url is None:
            return None
        if self.webhook_secret is None:
            raise SettingsError(
                "PMM_WEBHOOK_SECRET: required with PMM_WEBHOOK_URL, so that only Telegram can post updates"
            )
        return self.webhook_url, self.webhook_secret.get_secret_value()

    def secrets(self) -> tuple[str, ...]:
        """The values that must never appear in logs."""
        values = (self.bot_token, self.webhook_secret)
        return tuple(v.get_secret_value() for v in values if v is not None and v.get_secret_value())

    def token(self) -> str:
        """The bot token, required to run against Telegram."""
        if self.bot_token is None or ":" not in self.bot_token.get_secret_value():
            raise SettingsError(
                "PMM_BOT_TOKEN is missing or malformed: set it to the token BotFather gave you "
                "(or try `pmm-bot demo`, which needs none)"
            )
        return self.bot_token.get_secret_value()


def load_settings(**overrides: Any) -> Settings:
    """The settings, or a SettingsError whose one line names the bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "PMM_" + str(error["loc"][0]).upper() if error["loc"] else "settings"
        raise SettingsError(f"{name}: {error['msg']}") from None

"""Settings of the chat front end: the bot token, where the Bot API is, webhook mode, delivery pace."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{4,}$")
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class MissingToken(Exception):
    """``KANBOT_BOT_TOKEN`` is not set, or is not a bot token."""


class TelegramSettings(BaseSettings):
    """The bot's connection to Telegram (or to a stand-in such as the emulator)."""

    model_config = SettingsConfigDict(
        env_prefix="KANBOT_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    bot_token: SecretStr | None = None
    telegram_api_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    board_app_url: str | None = None
    outbox_per_second: float = Field(default=25.0, gt=0, le=30)
    runtime: Literal["aiogram", "ptb"] = "aiogram"

    @field_validator("bot_token", "webhook_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not SECRET_PATTERN.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("telegram_api_url", "webhook_url", "board_app_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.fullmatch(r"https?://\S+", value.strip()):
            raise ValueError("must be an http(s):// URL")
        return value.strip().rstrip("/")

    def token(self) -> str:
        """The bot token, or ``MissingToken`` with one sentence saying what to do."""
        if self.bot_token is None:
            raise MissingToken(
                "KANBOT_BOT_TOKEN is not set: get a token from @BotFather, "
                "or run `kanbot demo` to try Kanbot offline."
            )
        token = self.bot_token.get_secret_value().strip()
        if not TOKEN_PATTERN.match(token):
            raise MissingToken(
                "KANBOT_BOT_TOKEN does not look like a bot token (digits, a colon, then letters): "
                "copy it again from @BotFather."
            )
        return token

"""Settings of the chat front end: the bot token, where the Bot API is, webhook mode, delivery pace."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{4,}$")
WEBHOOK_SECRET_MIN = 16  # Telegram takes 1-256 characters; Kanbot wants one nobody can guess
SECRET_CHARACTERS = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram takes


class MissingToken(Exception):
    """``KANBOT_BOT_TOKEN`` is not set, or is not a bot token."""


NO_WEBHOOK_SECRET = (
    "KANBOT_WEBHOOK_SECRET is not set: without it anyone could post updates to KANBOT_WEBHOOK_URL as any "
    f"user, so choose {WEBHOOK_SECRET_MIN}-256 characters of A-Z, a-z, 0-9, _ and - (`openssl rand -hex 32`)."
)


class MissingWebhookSecret(Exception):
    """Webhook mode without a secret: it would take anyone's updates, so it does not start."""

    def __init__(self) -> None:
        super().__init__(NO_WEBHOOK_SECRET)


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
    # python-telegram-bot by default: aiogram's import alone is ~120 MiB resident (docs/performance.md)
    runtime: Literal["aiogram", "ptb"] = "ptb"
    # Updates handled at once by a bot of Kanbot's own; more wait (at Telegram, when polling)
    max_concurrent_updates: int = Field(default=16, ge=1, le=1000)

    @field_validator("bot_token", "webhook_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if not SECRET_CHARACTERS.match(secret):
            raise ValueError(f"must be {WEBHOOK_SECRET_MIN}-256 characters of A-Z, a-z, 0-9, _ and -")
        if len(secret) < WEBHOOK_SECRET_MIN:
            raise ValueError(
                f"is {len(secret)} character{'' if len(secret) == 1 else 's'} long, and at least "
                f"{WEBHOOK_SECRET_MIN} are needed (`openssl rand -hex 32` makes one)"
            )
        return value

    @field_validator("telegram_api_url", "webhook_url", "board_app_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.fullmatch(r"https?://\S+", value.strip()):
            raise ValueError("must be an http(s):// URL")
        return value.strip().rstrip("/")

    def webhook_secret_value(self) -> str | None:
        """The secret Telegram sends back with each update: ``None`` in long-polling mode (no
        KANBOT_WEBHOOK_URL); ``MissingWebhookSecret`` for webhook mode without one."""
        if self.webhook_url is None:
            return None
        if self.webhook_secret is None:
            raise MissingWebhookSecret()
        return self.webhook_secret.get_secret_value()

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

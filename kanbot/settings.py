"""Settings of the CRM core and of the process as a whole, read from ``KANBOT_*`` variables and ``.env``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.settings import TelegramSettings
from crm_core.config import CreateDealsFrom, CrmConfig
from crm_core.domain.calls import CallFloodRule
from crm_core.domain.errors import InvalidInput
from crm_core.domain.phones import to_e164
from crm_core.domain.schedule import WorkingHours
from crm_core.domain.users import valid_timezone
from telephony_bridge.settings import AmiSettings, CloudPbxSettings, DialSettings

ENV = SettingsConfigDict(env_prefix="KANBOT_", env_file=".env", extra="ignore", env_ignore_empty=True)
CommaList = Annotated[list[str], NoDecode]


def split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class LogSettings(BaseSettings):
    """How every Kanbot process logs (the AMI bridge reads only these)."""

    model_config = ENV

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"


class CoreSettings(LogSettings):
    """The database and the CRM's rules."""

    database_url: str = "sqlite+aiosqlite:///./kanbot.db"
    default_region: str = "RU"
    default_currency: str = "RUB"
    calls_create_deals: CreateDealsFrom = CreateDealsFrom.ALL
    call_back_minutes: int = Field(default=15, ge=1, le=24 * 60)
    repeat_call_minutes: int = Field(default=10, ge=1, le=24 * 60)
    colleague_calls_minutes: int = Field(default=15, ge=0, le=24 * 60)
    call_flood_new_numbers: int = Field(default=30, ge=0, le=1_000_000)
    call_flood_minutes: int = Field(default=5, ge=1, le=24 * 60)
    own_numbers: CommaList = Field(default_factory=list)
    blocked_numbers: CommaList = Field(default_factory=list)
    boss_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    working_days: str = "mon-fri"
    working_hours: str = "09:00-19:00"
    # Calls' recordings are kept here (unset: none is fetched or kept), for this many days (0: for ever).
    recordings_dir: Path | None = None
    recordings_keep_days: int = Field(default=90, ge=0, le=36_500)
    # Where a sales target's month begins and ends.
    team_timezone: str = "UTC"

    _split = field_validator("own_numbers", "blocked_numbers", "boss_ids", mode="before")(split_commas)

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("default_region")
    @classmethod
    def _check_region(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2}", value.strip()):
            raise ValueError("must be a two-letter country code such as RU or US")
        return value.strip().upper()

    @field_validator("default_currency")
    @classmethod
    def _check_currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{3}", value.strip()):
            raise ValueError("must be a three-letter ISO 4217 code such as RUB or USD")
        return value.strip().upper()

    @field_validator("working_days", "working_hours")
    @classmethod
    def _check_working_time(cls, value: str, info: ValidationInfo) -> str:
        try:
            if info.field_name == "working_days":
                WorkingHours.parse(value, "09:00-19:00")
            else:
                WorkingHours.parse("mon", value)
        except InvalidInput as error:
            raise ValueError(error.why_text or "is not valid") from None
        return value

    @field_validator("team_timezone")
    @classmethod
    def _check_team_timezone(cls, value: str) -> str:
        try:
            return valid_timezone(value)
        except InvalidInput as error:
            raise ValueError(error.why_text or "is not valid") from None

    def crm_config(self) -> CrmConfig:
        def numbers(raw: list[str], name: str) -> frozenset[str]:
            try:
                return frozenset(to_e164(n, region=self.default_region) for n in raw)
            except InvalidInput as error:
                raise SettingError(name, f"{error.value!r} is not a phone number") from None

        return CrmConfig(
            default_region=self.default_region,
            default_currency=self.default_currency,
            calls_create_deals=self.calls_create_deals,
            call_back_after=timedelta(minutes=self.call_back_minutes),
            repeat_call_window=timedelta(minutes=self.repeat_call_minutes),
            colleague_calls_window=timedelta(minutes=self.colleague_calls_minutes),
            call_flood=CallFloodRule(self.call_flood_new_numbers, timedelta(minutes=self.call_flood_minutes)),
            own_numbers=numbers(self.own_numbers, "KANBOT_OWN_NUMBERS"),
            blocked_numbers=numbers(self.blocked_numbers, "KANBOT_BLOCKED_NUMBERS"),
            working_hours=WorkingHours.parse(self.working_days, self.working_hours),
            recordings_keep_days=self.recordings_keep_days,
            team_timezone=self.team_timezone,
        )


class SettingError(Exception):
    """A setting is wrong: the message names it and says what it should be."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"Invalid setting {name}: {problem}.")


def describe_validation_error(error: ValidationError, prefix: str = "KANBOT_") -> str:
    """One sentence naming the first bad setting, e.g. 'Invalid setting KANBOT_DEFAULT_REGION: ...'."""
    return describe_validation_errors(error, prefix)[0]


def describe_validation_errors(error: ValidationError, prefix: str = "KANBOT_") -> list[str]:
    """One sentence for each bad setting (``kanbot doctor`` names them all)."""
    sentences = []
    for problem in error.errors():
        name = prefix + "_".join(str(part) for part in problem["loc"] if isinstance(part, str)).upper()
        message = str(problem["msg"]).removeprefix("Value error, ")
        sentences.append(f"Invalid setting {name}: {message}.")
    return sentences


class ServerSettings(BaseSettings):
    """The process: its HTTP server (call webhooks, the Telegram webhook, health) and the scheduler's pace."""

    model_config = ENV

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    # What one client may hold (see kanbot/http_server.py): slow ones are cut, past the limit the
    # connection waiting longest on its client makes way.
    http_header_timeout_seconds: float = Field(default=30, gt=0, le=3600)
    http_body_timeout_seconds: float = Field(default=30, gt=0, le=3600)
    http_idle_timeout_seconds: float = Field(default=150, gt=0, le=3600)
    http_max_connections: int = Field(default=1000, ge=1, le=1_000_000)
    tick_seconds: int = Field(default=60, ge=1, le=3600)
    # Outgoing webhooks (kanbot/webhooks.py): how often the sender looks for news, the first retry's
    # delay (doubled each time, at most an hour, for 24 hours), and one request's time limit.
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=3600)
    webhook_backoff_seconds: float = Field(default=10.0, gt=0, le=3600)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # How old a row must be before the dispatcher passes it (PostgreSQL): a transaction still open
    # longer than this may see its news skipped.
    webhook_settle_seconds: float = Field(default=2.0, ge=0, le=60)
    # Web forms (POST /api/v1/leads): the websites whose pages may post leads from a browser (CORS),
    # e.g. "https://example.com,https://www.example.com"; and how many posts one address may make
    # in a window before it is told to wait (429).
    form_origins: CommaList = Field(default_factory=list)
    form_posts_per_window: int = Field(default=5, ge=1, le=100_000)
    form_window_seconds: int = Field(default=60, ge=1, le=24 * 3600)

    _form_origins = field_validator("form_origins", mode="before")(split_commas)
    # The REST API: at most this many requests per token within the window; past it, 429 + Retry-After.
    api_rate_limit: int = Field(default=120, ge=1, le=1_000_000)
    api_rate_window_seconds: int = Field(default=60, ge=1, le=86400)


@dataclass
class Settings:
    """Every component's settings, read once."""

    core: CoreSettings = field(default_factory=CoreSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    cloud: CloudPbxSettings = field(default_factory=CloudPbxSettings)
    ami: AmiSettings = field(default_factory=AmiSettings)
    dial: DialSettings = field(default_factory=DialSettings)

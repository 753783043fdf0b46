"""The people who use Kanbot: sellers and their bosses."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_core.domain.errors import InvalidInput, Why

LOCALES = ("en", "ru", "ar")
_EXTENSION = re.compile(r"^[0-9A-Za-z*#+_-]{1,32}$")
MAX_NAME = 100


class Role(enum.StrEnum):
    SELLER = "seller"
    BOSS = "boss"


@dataclass(slots=True)
class User:
    """A seller or a boss, known by their Telegram id."""

    id: int
    telegram_id: int
    name: str
    role: Role
    timezone: str = "UTC"
    locale: str = "en"
    active: bool = True
    extensions: tuple[str, ...] = field(default_factory=tuple)
    blocked_bot: bool = False

    @property
    def is_boss(self) -> bool:
        return self.role is Role.BOSS

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def valid_name(raw: str) -> str:
    """Return a person's name trimmed, refusing an empty or overlong one."""
    name = " ".join(raw.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidInput("name", raw, Why.LENGTH, most=MAX_NAME)
    return name


def valid_timezone(raw: str) -> str:
    """Return an IANA time zone name, refusing one the system does not know."""
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder, a name too long
        raise InvalidInput("timezone", raw, Why.TIMEZONE) from None
    return raw


def valid_locale(raw: str) -> str:
    """Return one of the supported interface languages."""
    locale = raw.strip().lower().replace("_", "-").split("-")[0]
    if locale not in LOCALES:
        raise InvalidInput("locale", raw, Why.ONE_OF, choices=", ".join(LOCALES))
    return locale


def valid_role(raw: str) -> Role:
    """Return the role named ``seller`` or ``boss``."""
    try:
        return Role(raw.strip().lower())
    except ValueError:
        raise InvalidInput("role", raw, Why.ROLE) from None


def valid_extensions(raw: Iterable[str]) -> tuple[str, ...]:
    """Return the extensions without repeats, each one checked."""
    return tuple(dict.fromkeys(valid_extension(e) for e in raw))


def valid_extension(raw: str) -> str:
    """Return a PBX extension (digits and the few symbols PBXs use)."""
    ext = raw.strip()
    if not _EXTENSION.match(ext):
        raise InvalidInput("extension", raw)
    return ext

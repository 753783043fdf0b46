"""Who is in the demo: the boss, three sellers with PBX extensions, and the bot they talk to."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from crm_core.domain.users import Role

# Not a secret: the emulator accepts any token, and this one names bot 700000.
BOT_TOKEN = "700000:KANBOT-DEMO"  # noqa: S105
BOT_USERNAME = "kanbot_demo_bot"
BOT_NAME = "Kanbot"
MAIN_LINE = "+44 20 7946 0100"  # the company's public number customers dial (a UK drama-range number)
CURRENCY = "USD"


@dataclass(frozen=True, slots=True)
class DemoUser:
    telegram_id: int
    name: str
    role: Role
    locale: str
    timezone: str
    extension: str | None = None

    @property
    def username(self) -> str:
        return self.name.lower()

    @property
    def is_seller(self) -> bool:
        return self.role is Role.SELLER


OLGA = DemoUser(1001, "Olga", Role.BOSS, "en", "Europe/Moscow")
ALI = DemoUser(2001, "Ali", Role.SELLER, "ar", "Asia/Dubai", "101")
MARIA = DemoUser(2002, "Maria", Role.SELLER, "ru", "Europe/Moscow", "102")
TOM = DemoUser(2003, "Tom", Role.SELLER, "en", "Europe/London", "103")
TEAM = (OLGA, ALI, MARIA, TOM)
SELLERS = (ALI, MARIA, TOM)
LANGUAGES = {"en": "English", "ru": "Russian", "ar": "Arabic"}


def team(lang: str | None = None) -> tuple[DemoUser, ...]:
    """The demo's people, each in their own language, or everyone in ``lang``."""
    return tuple(dataclasses.replace(p, locale=lang) for p in TEAM) if lang else TEAM

"""What a handler gets: the CRM, the acting user, their words, and the event being handled."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.events import ButtonPress, Event
from bot.core.i18n import Tr
from crm_core.domain.users import User
from crm_core.services import Crm


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """How this bot presents itself: its @username (for invite links) and optional Mini App URL."""

    bot_username: str = "kanbot"
    board_app_url: str | None = None
    bot_id: int = 0


@dataclass(slots=True)
class ChatContext:
    crm: Crm
    user: User
    tr: Tr
    event: Event | None
    settings: ChatSettings
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        return self.crm.clock.now()

    @property
    def message_id(self) -> int | None:
        return self.event.message_id if isinstance(self.event, ButtonPress) else None

    @property
    def chat_id(self) -> int:
        return self.event.chat_id if self.event is not None else self.user.telegram_id

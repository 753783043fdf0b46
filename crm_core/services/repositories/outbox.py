"""Notifications waiting to go out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from crm_core.domain.notifications import NotePayload, Notification, OutboxItem, Shown


class Outbox(Protocol):
    """Notifications waiting to go out."""

    async def put(self, note: Notification, *, at: datetime) -> bool: ...

    async def claim(
        self, *, now: datetime, limit: int, lease: timedelta, per_recipient: int = ...
    ) -> list[OutboxItem]: ...

    async def waiting(self, coalesce_key: str, *, now: datetime) -> tuple[int, NotePayload] | None: ...

    async def replace_payload(self, item_id: int, payload: NotePayload) -> None: ...

    async def last_due_at(self, coalesce_key: str) -> datetime | None: ...

    async def mark_sent(self, item_id: int, *, at: datetime, shown: Shown | None = None) -> None: ...

    async def mark_all_sent(self, sent: Sequence[tuple[int, Shown | None]], *, at: datetime) -> None: ...

    async def retry_later(
        self,
        item_id: int,
        *,
        not_before: datetime,
        error: str,
        count_attempt: bool = True,
        payload: dict[str, Any] | None = None,
    ) -> None: ...

    async def give_up(self, item_id: int, *, error: str, status: str = "failed") -> None: ...

    async def stats(self, *, now: datetime) -> dict[str, Any]: ...

    async def pending(self, *, limit: int = 50) -> list[dict[str, Any]]: ...

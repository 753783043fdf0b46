"""Delivering the outbox: claim what is due, then note each item sent, rescheduled or given up."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from crm_core.domain.notifications import NotePayload, OutboxItem, Progress, Shown, stored
from crm_core.services.base import ServiceBase


class OutboxService(ServiceBase):
    async def claim(self, *, limit: int, lease: timedelta) -> list[OutboxItem]:
        """Lease up to ``limit`` items due now; an item not noted within ``lease`` comes back."""
        async with self.db.uow() as uow:
            items = await uow.outbox.claim(now=self.now(), limit=limit, lease=lease)
            await uow.commit()
        return items

    async def mark_all_sent(self, sent: Sequence[tuple[int, Shown | None]]) -> None:
        """Note the items Telegram took, each with the message it became (``None``: not known)."""
        async with self.db.uow() as uow:
            await uow.outbox.mark_all_sent(sent, at=self.now())
            await uow.commit()

    async def retry_later(
        self,
        item_id: int,
        *,
        not_before: datetime,
        error: str,
        count_attempt: bool,
        progress: tuple[NotePayload, Progress] | None = None,
    ) -> None:
        """Give the item back for ``not_before``; ``progress``: its payload and what of it went out, kept
        with it (a later pass sends the rest)."""
        stored_as = stored(*progress) if progress else None
        async with self.db.uow() as uow:
            await uow.outbox.retry_later(
                item_id, not_before=not_before, error=error, count_attempt=count_attempt, payload=stored_as
            )
            await uow.commit()

    async def give_up(self, item_id: int, *, error: str, status: str = "failed") -> None:
        async with self.db.uow() as uow:
            await uow.outbox.give_up(item_id, error=error, status=status)
            await uow.commit()

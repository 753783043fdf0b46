"""The outbox: notifications written with the change they announce, delivered later exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.repositories.users import user_from_row
from crm_core.adapters.tables import outbox, user_extensions, users
from crm_core.domain.notifications import (
    NotePayload,
    Notification,
    OutboxItem,
    Replaces,
    Shown,
    decode_payload,
)

# A chat takes about a message a second, so more of one recipient's items in a batch would only be
# handed back to the queue.
PER_RECIPIENT = 2


class OutboxRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def put(self, note: Notification, *, at: datetime) -> bool:
        """Queue ``note``; a note with a ``dedup_key`` already queued is not queued again."""
        values = {
            "recipient_id": note.recipient_id,
            "kind": note.kind,
            "payload": note.payload.to_json(),
            "dedup_key": note.dedup_key,
            "created_at": at,
            "not_before": note.not_before or at,
            "coalesce_key": note.coalesce_key,
            "edits": note.edits,
        }
        if note.dedup_key is None:
            await self.conn.execute(insert(outbox).values(**values))
            return True
        dialect = self.conn.dialect.name
        stmt = (pg_insert(outbox) if dialect == "postgresql" else sqlite_insert(outbox)).values(**values)
        result = await self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["dedup_key"]))
        return bool(result.rowcount)

    async def claim(
        self, *, now: datetime, limit: int, lease: timedelta, per_recipient: int = PER_RECIPIENT
    ) -> list[OutboxItem]:
        """Take up to ``limit`` due items for ``lease``; another process skips them meanwhile.

        Recipients take turns: every recipient's oldest due item comes before anyone's second, and
        each recipient gives at most ``per_recipient`` items to a batch, so one user's backlog (a
        seller flooded with calls) never holds back another user's notice.
        """
        ranked = (
            select(
                outbox.c.id,
                outbox.c.not_before,
                func.row_number()
                .over(partition_by=outbox.c.recipient_id, order_by=(outbox.c.not_before, outbox.c.id))
                .label("turn"),
            )
            .where(
                outbox.c.status == "pending",
                outbox.c.not_before <= now,
                or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
            )
            .subquery("ranked")
        )
        due = (
            select(outbox.c.id)
            .join(ranked, ranked.c.id == outbox.c.id)
            .where(ranked.c.turn <= per_recipient)
            .order_by(ranked.c.turn, ranked.c.not_before, ranked.c.id)
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True, of=outbox)
        ids = list((await self.conn.execute(due)).scalars())
        if not ids:
            return []
        await self.conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(claimed_until=now + lease))
        # The recipients come along (users' own columns keep their names, so a row builds a User), and
        # the delivery need not look each one up again.
        rows = list(
            await self.conn.execute(
                select(
                    outbox.c.id.label("item_id"),
                    outbox.c.kind,
                    outbox.c.payload,
                    outbox.c.attempts,
                    outbox.c.created_at.label("item_created_at"),
                    outbox.c.edits,
                    users,
                )
                .join(users, users.c.id == outbox.c.recipient_id)
                .where(outbox.c.id.in_(ids))
            )
        )
        turn = {item_id: n for n, item_id in enumerate(ids)}
        rows.sort(key=lambda r: turn[r.item_id])  # in the turns the claim gave them
        extensions: dict[int, list[str]] = {}
        for user_id, extension in await self.conn.execute(
            select(user_extensions.c.user_id, user_extensions.c.extension).where(
                user_extensions.c.user_id.in_(sorted({r.id for r in rows}))
            )
        ):
            extensions.setdefault(user_id, []).append(extension)
        replaced = await self._replaced({r.edits for r in rows if r.edits})
        return [
            OutboxItem(
                id=r.item_id,
                recipient=user_from_row(r, extensions.get(r.id, ())),
                kind=r.kind,
                data=dict(r.payload),
                attempts=r.attempts,
                created_at=r.item_created_at,
                replaces=replaced.get(r.edits) if r.edits else None,
            )
            for r in rows
        ]

    async def _replaced(self, dedup_keys: set[str]) -> dict[str, Replaces]:
        """The earlier items that claimed items are to be shown in, by dedup key, as they are now."""
        if not dedup_keys:
            return {}
        found = await self.conn.execute(
            select(
                outbox.c.id,
                outbox.c.dedup_key,
                outbox.c.status,
                outbox.c.not_before,
                outbox.c.chat_id,
                outbox.c.message_id,
            ).where(outbox.c.dedup_key.in_(sorted(dedup_keys)))
        )
        return {
            r.dedup_key: Replaces(
                item_id=r.id,
                shown=Shown(r.chat_id, r.message_id) if r.status == "sent" and r.message_id else None,
                pending_until=r.not_before if r.status == "pending" else None,
            )
            for r in found
        }

    async def waiting(self, coalesce_key: str, *, now: datetime) -> tuple[int, NotePayload] | None:
        """The newest item about ``coalesce_key`` that waits to be sent and nobody is sending: its id and
        payload, locked until the transaction ends (the delivery skips it meanwhile), or ``None``."""
        stmt = (
            select(outbox.c.id, outbox.c.kind, outbox.c.payload)
            .where(
                outbox.c.coalesce_key == coalesce_key,
                outbox.c.status == "pending",
                or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
            )
            .order_by(outbox.c.id.desc())
            .limit(1)
        )
        if self.conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = (await self.conn.execute(stmt)).first()
        return (row.id, decode_payload(row.kind, row.payload)) if row else None

    async def replace_payload(self, item_id: int, payload: NotePayload) -> None:
        """Say more in an item that waits (see ``waiting``)."""
        await self.conn.execute(
            update(outbox).where(outbox.c.id == item_id).values(payload=payload.to_json())
        )

    async def last_due_at(self, coalesce_key: str) -> datetime | None:
        """When the newest item about ``coalesce_key`` was due, whether sent or not; ``None`` if none."""
        due: datetime | None = (
            await self.conn.execute(
                select(func.max(outbox.c.not_before)).where(outbox.c.coalesce_key == coalesce_key)
            )
        ).scalar()
        return due

    async def mark_sent(self, item_id: int, *, at: datetime, shown: Shown | None = None) -> None:
        await self.mark_all_sent([(item_id, shown)], at=at)

    async def mark_all_sent(self, sent: Sequence[tuple[int, Shown | None]], *, at: datetime) -> None:
        """Note that Telegram took each item, and the message it became (one statement for them all)."""
        await self.conn.execute(
            update(outbox)
            .where(outbox.c.id == bindparam("item_id"))
            .values(
                status="sent",
                sent_at=at,
                claimed_until=None,
                attempts=outbox.c.attempts + 1,
                chat_id=bindparam("shown_chat"),
                message_id=bindparam("shown_message"),
            ),
            [
                {
                    "item_id": item_id,
                    "shown_chat": shown.chat_id if shown else None,
                    "shown_message": shown.message_id if shown else None,
                }
                for item_id, shown in sent
            ],
        )

    async def retry_later(
        self,
        item_id: int,
        *,
        not_before: datetime,
        error: str,
        count_attempt: bool = True,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Try the item again later; ``payload``, when given, replaces it (to note what went out)."""
        changes: dict[str, Any] = {} if payload is None else {"payload": payload}
        await self.conn.execute(
            update(outbox)
            .where(outbox.c.id == item_id)
            .values(
                not_before=not_before,
                last_error=error[:300],
                claimed_until=None,
                attempts=outbox.c.attempts + (1 if count_attempt else 0),
                **changes,
            )
        )

    async def give_up(self, item_id: int, *, error: str, status: str = "failed") -> None:
        await self.conn.execute(
            update(outbox)
            .where(outbox.c.id == item_id)
            .values(status=status, last_error=error[:300], claimed_until=None, attempts=outbox.c.attempts + 1)
        )

    async def stats(self, *, now: datetime) -> dict[str, Any]:
        rows = await self.conn.execute(
            select(outbox.c.status, func.count(), func.min(outbox.c.created_at)).group_by(outbox.c.status)
        )
        counts: dict[str, Any] = {"pending": 0, "sent": 0, "failed": 0, "dead": 0, "oldest_pending_s": 0.0}
        for status, count, oldest in rows:
            counts[status] = count
            if status == "pending" and oldest is not None:
                counts["oldest_pending_s"] = max((now - oldest).total_seconds(), 0.0)
        return counts

    async def pending(self, *, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(outbox)
            .where(outbox.c.status == "pending")
            .order_by(outbox.c.not_before, outbox.c.id)
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]

"""Calls' recordings, one per (provider, call id): noted when a PBX announces them, claimed by the
fetcher, stored, and deleted after the retention period."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.tables import call_recordings, calls
from crm_core.domain.recordings import FETCH_LEASE, Recording, RecordingNotice, RecordingState

_WAITING = RecordingState.WAITING.value


def _recording(row: Row[Any]) -> Recording:
    return Recording(
        id=row.id,
        provider=row.provider,
        call_id=row.external_id,
        ref=row.ref,
        state=RecordingState(row.state),
        created_at=row.created_at,
        next_try_at=row.next_try_at,
        attempts=row.attempts,
        file_name=row.file_name,
        mime=row.mime,
        size=row.size,
        stored_at=row.stored_at,
        deleted_at=row.deleted_at,
        error=row.error,
    )


class RecordingRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def note(self, notice: RecordingNotice, *, at: datetime) -> bool:
        """Keep a call's recording to fetch; ``False`` when the call has one already (the first stays)."""
        values = {
            "provider": notice.provider,
            "external_id": notice.call_id,
            "ref": notice.ref,
            "state": _WAITING,
            "attempts": 0,
            "next_try_at": at,
            "created_at": at,
        }
        dialect = self.conn.dialect.name
        table_insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = table_insert(call_recordings).values(**values)
        result = await self.conn.execute(
            stmt.on_conflict_do_nothing(index_elements=["provider", "external_id"])
        )
        return bool(result.rowcount)

    async def find(self, provider: str, call_id: str) -> Recording | None:
        row = (
            await self.conn.execute(
                select(call_recordings).where(
                    call_recordings.c.provider == provider, call_recordings.c.external_id == call_id
                )
            )
        ).first()
        return _recording(row) if row is not None else None

    async def get(self, recording_id: int) -> Recording | None:
        row = (
            await self.conn.execute(select(call_recordings).where(call_recordings.c.id == recording_id))
        ).first()
        return _recording(row) if row is not None else None

    async def of_deal(self, deal_id: int) -> dict[int, Recording]:
        """The recordings of the deal's calls, by the calls' ids."""
        joined = call_recordings.join(
            calls,
            and_(
                calls.c.provider == call_recordings.c.provider,
                calls.c.external_id == call_recordings.c.external_id,
            ),
        )
        rows = (
            await self.conn.execute(
                select(call_recordings, calls.c.id.label("call_pk"))
                .select_from(joined)
                .where(calls.c.deal_id == deal_id)
            )
        ).all()
        return {row.call_pk: _recording(row) for row in rows}

    async def claim(self, *, providers: Collection[str], now: datetime, limit: int) -> list[Recording]:
        """The waiting recordings of ``providers`` due to be fetched, each held for the fetch's lease
        (one another claimer took between the read and the write is left to it)."""
        if not providers:
            return []
        due = and_(
            call_recordings.c.state == _WAITING,
            or_(call_recordings.c.next_try_at.is_(None), call_recordings.c.next_try_at <= now),
        )
        rows = (
            await self.conn.execute(
                select(call_recordings)
                .where(due, call_recordings.c.provider.in_(list(providers)))
                .order_by(call_recordings.c.id)
                .limit(limit)
            )
        ).all()
        claimed = []
        for row in rows:
            taken = await self.conn.execute(
                update(call_recordings)
                .where(call_recordings.c.id == row.id, due)
                .values(next_try_at=now + FETCH_LEASE)
            )
            if taken.rowcount:
                claimed.append(_recording(row))
        return claimed

    async def expired(self, *, stored_before: datetime, limit: int) -> list[Recording]:
        """Stored recordings kept since before ``stored_before``, oldest first."""
        rows = (
            await self.conn.execute(
                select(call_recordings)
                .where(
                    call_recordings.c.state == RecordingState.STORED.value,
                    call_recordings.c.stored_at <= stored_before,
                )
                .order_by(call_recordings.c.stored_at)
                .limit(limit)
            )
        ).all()
        return [_recording(row) for row in rows]

    async def save(self, recording: Recording) -> None:
        await self.conn.execute(
            update(call_recordings)
            .where(call_recordings.c.id == recording.id)
            .values(
                ref=recording.ref,
                state=recording.state.value,
                attempts=recording.attempts,
                next_try_at=recording.next_try_at,
                file_name=recording.file_name,
                mime=recording.mime,
                size=recording.size,
                error=recording.error,
                stored_at=recording.stored_at,
                deleted_at=recording.deleted_at,
            )
        )

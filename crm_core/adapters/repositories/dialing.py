"""Call requests: calls to place from the CRM, claimed by the telephony edge one at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.tables import call_requests
from crm_core.domain.dialing import CLAIM_LEASE, CallRequest, DialStatus, Refusal


def _request(row: Row[Any]) -> CallRequest:
    return CallRequest(
        id=row.id,
        deal_id=row.deal_id,
        requester_id=row.requester_id,
        extension=row.extension,
        number=row.number,
        created_at=row.created_at,
        task_id=row.task_id,
        customer_name=row.customer_name,
        status=DialStatus(row.status),
        refusal=Refusal(row.refusal) if row.refusal else None,
        detail=row.detail,
        external_id=row.external_id,
        settled_at=row.settled_at,
    )


class CallRequestRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, request: CallRequest) -> CallRequest:
        result = await self.conn.execute(
            insert(call_requests)
            .values(
                deal_id=request.deal_id,
                task_id=request.task_id,
                requester_id=request.requester_id,
                extension=request.extension,
                number=request.number,
                customer_name=request.customer_name,
                status=request.status.value,
                refusal=request.refusal.value if request.refusal else None,
                detail=request.detail,
                created_at=request.created_at,
                settled_at=request.settled_at,
            )
            .returning(call_requests.c.id)
        )
        request.id = int(result.scalar_one())
        return request

    async def get(self, request_id: int) -> CallRequest | None:
        if not 0 < request_id < 2**31:  # ids are INTEGER: int4 on PostgreSQL
            return None
        row = (await self.conn.execute(select(call_requests).where(call_requests.c.id == request_id))).first()
        return _request(row) if row is not None else None

    async def pending_of(self, *, requester_id: int, deal_id: int, number: str) -> CallRequest | None:
        """The requester's request to call the deal's customer on ``number`` still waiting to be placed."""
        row = (
            await self.conn.execute(
                select(call_requests).where(
                    call_requests.c.requester_id == requester_id,
                    call_requests.c.deal_id == deal_id,
                    call_requests.c.number == number,
                    call_requests.c.status == DialStatus.PENDING.value,
                )
            )
        ).first()
        return _request(row) if row is not None else None

    async def claim(self, *, now: datetime, limit: int) -> list[CallRequest]:
        """The oldest pending requests nobody holds, each now held for the claim's lease (a request
        another claimer took between the read and the write is left to it)."""
        free = or_(call_requests.c.claimed_until.is_(None), call_requests.c.claimed_until <= now)
        pending = call_requests.c.status == DialStatus.PENDING.value
        rows = (
            await self.conn.execute(
                select(call_requests).where(pending, free).order_by(call_requests.c.id).limit(limit)
            )
        ).all()
        claimed = []
        for row in rows:
            taken = await self.conn.execute(
                update(call_requests)
                .where(call_requests.c.id == row.id, pending, free)
                .values(claimed_until=now + CLAIM_LEASE)
            )
            if taken.rowcount:
                claimed.append(_request(row))
        return claimed

    async def settle(self, request: CallRequest) -> bool:
        """Write the request's outcome, unless it was settled meanwhile (then False)."""
        result = await self.conn.execute(
            update(call_requests)
            .where(call_requests.c.id == request.id, call_requests.c.status == DialStatus.PENDING.value)
            .values(
                status=request.status.value,
                refusal=request.refusal.value if request.refusal else None,
                detail=request.detail,
                external_id=request.external_id,
                settled_at=request.settled_at,
                claimed_until=None,
            )
        )
        return bool(result.rowcount)

"""Sales targets and the targets' and the summary's figures: aggregated by the database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.repositories.deal_rows import is_open
from crm_core.adapters.sqlfunc import epoch_seconds
from crm_core.adapters.tables import deals, sales_targets, stages
from crm_core.adapters.types import Money
from crm_core.domain.funnel import StageKind
from crm_core.domain.targets import Target

ZERO = Decimal("0.00")


def _scoped(stmt: Select[Any], owner_id: int | None, pipeline_id: int | None = None) -> Select[Any]:
    if owner_id is not None:
        stmt = stmt.where(deals.c.owner_id == owner_id)
    if pipeline_id is not None:
        stmt = stmt.where(deals.c.pipeline_id == pipeline_id)
    return stmt


def _closed_in(start: datetime, end: datetime) -> Any:
    return and_(deals.c.closed_at >= start, deals.c.closed_at < end)


_with_stage = deals.join(stages, stages.c.id == deals.c.stage_id)


class TargetRepository:
    """Targets, read and written on the unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def put(self, target: Target, *, set_by_id: int | None, at: datetime) -> None:
        t = sales_targets.c
        values = {"amount": target.amount, "deals": target.deals, "set_by_id": set_by_id, "updated_at": at}
        done = await self.conn.execute(
            sales_targets.update().where(t.user_id == target.user_id, t.month == target.month).values(values)
        )
        if not done.rowcount:
            await self.conn.execute(
                sales_targets.insert().values(user_id=target.user_id, month=target.month, **values)
            )

    async def list(self, *, month: str | None = None, user_id: int | None = None) -> list[Target]:
        t = sales_targets.c
        stmt = select(t.user_id, t.month, t.amount, t.deals).order_by(t.month, t.user_id)
        if month is not None:
            stmt = stmt.where(t.month == month)
        if user_id is not None:
            stmt = stmt.where(t.user_id == user_id)
        return [Target(u, m, a, d) for u, m, a, d in await self.conn.execute(stmt)]

    async def won(
        self, *, start: datetime, end: datetime, owner_id: int | None
    ) -> dict[int, tuple[int, Decimal]]:
        stmt = _scoped(
            select(deals.c.owner_id, func.count(), func.sum(deals.c.amount))
            .select_from(_with_stage)
            .where(
                deals.c.owner_id.is_not(None), _closed_in(start, end), stages.c.kind == StageKind.WON.value
            )
            .group_by(deals.c.owner_id),
            owner_id,
        )
        return {o: (int(n), amount or ZERO) for o, n, amount in await self.conn.execute(stmt)}

    async def weighted_open(self, *, owner_id: int | None) -> dict[int, Decimal]:
        weighted = type_coerce(deals.c.amount * stages.c.probability, Money)
        stmt = _scoped(
            select(deals.c.owner_id, func.sum(weighted))
            .select_from(_with_stage)
            .where(deals.c.owner_id.is_not(None), is_open())
            .group_by(deals.c.owner_id),
            owner_id,
        )
        return {o: w or ZERO for o, w in await self.conn.execute(stmt)}


class SummaryRepository:
    """The summary report's figures, on the unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def closed(
        self, *, start: datetime, end: datetime, owner_id: int | None, pipeline_id: int | None
    ) -> dict[int | None, tuple[int, Decimal, int, int]]:
        won = stages.c.kind == StageKind.WON.value
        lost = stages.c.kind == StageKind.LOST.value
        stmt = _scoped(
            select(
                deals.c.owner_id,
                func.sum(case((won, 1), else_=0)),
                func.sum(case((won, deals.c.amount))),
                func.sum(case((and_(won, deals.c.amount.is_not(None)), 1), else_=0)),
                func.sum(case((lost, 1), else_=0)),
            )
            .select_from(_with_stage)
            .where(_closed_in(start, end), or_(won, lost))
            .group_by(deals.c.owner_id),
            owner_id,
            pipeline_id,
        )
        return {
            o: (int(w or 0), amount or ZERO, int(priced or 0), int(n_lost or 0))
            for o, w, amount, priced, n_lost in await self.conn.execute(stmt)
        }

    async def cycle_median(
        self,
        *,
        start: datetime,
        end: datetime,
        owner_id: int | None,
        pipeline_id: int | None,
        by_owner: bool,
    ) -> dict[int | None, float]:
        # The team is one group: every row's key 0, read back as None.
        group = deals.c.owner_id if by_owner else literal(0)
        cycles = _scoped(
            select(
                group.label("owner_id"),
                (epoch_seconds(deals.c.closed_at) - epoch_seconds(deals.c.created_at)).label("seconds"),
            )
            .select_from(_with_stage)
            .where(_closed_in(start, end), stages.c.kind == StageKind.WON.value),
            owner_id,
            pipeline_id,
        ).subquery("cycles")
        ranked = select(
            cycles.c.owner_id,
            cycles.c.seconds,
            func.row_number().over(partition_by=cycles.c.owner_id, order_by=cycles.c.seconds).label("rn"),
            func.count().over(partition_by=cycles.c.owner_id).label("n"),
        ).subquery("ranked")
        middle = or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2)
        stmt = select(ranked.c.owner_id, func.avg(ranked.c.seconds)).where(middle).group_by(ranked.c.owner_id)
        rows = await self.conn.execute(stmt)
        return {(o if by_owner else None): float(median) for o, median in rows}

    async def new_by_source(
        self, *, start: datetime, end: datetime, owner_id: int | None, pipeline_id: int | None
    ) -> dict[int | None, dict[str, int]]:
        stmt = _scoped(
            select(deals.c.owner_id, deals.c.source, func.count())
            .where(deals.c.created_at >= start, deals.c.created_at < end)
            .group_by(deals.c.owner_id, deals.c.source),
            owner_id,
            pipeline_id,
        )
        result: dict[int | None, dict[str, int]] = {}
        for owner, source, n in await self.conn.execute(stmt):
            result.setdefault(owner, {})[source] = int(n)
        return result

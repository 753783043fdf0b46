"""The report queries: every figure is aggregated by the database, never by a loop over deals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.repositories import call_reports
from crm_core.adapters.repositories.deal_rows import is_open
from crm_core.adapters.sqlfunc import epoch_seconds
from crm_core.adapters.tables import deal_events, deals, stages
from crm_core.adapters.types import Money
from crm_core.domain.funnel import StageKind
from crm_core.domain.history import STAGE_EVENTS, EventKind

STAGE_EVENT_KINDS = [k.value for k in STAGE_EVENTS]
CLOSING_KINDS = [EventKind.WON.value, EventKind.LOST.value]
ZERO = Decimal("0.00")
_undo, _reopen = deal_events.alias("undo"), deal_events.alias("reopen")


def standing() -> ColumnElement[bool]:
    """The stage events that count (docs/reports.md): the deal's path as it ended up.

    Left out: an undo and the move (or close) it undid; a reopen, and every close a reopen came after —
    a deal lost, then reopened, was not lost. What is left walks the deal from stage to stage.
    """
    e = deal_events.c
    reopened_since = exists().where(
        _reopen.c.deal_id == e.deal_id,
        _reopen.c.kind == EventKind.REOPENED.value,
        or_(_reopen.c.at > e.at, and_(_reopen.c.at == e.at, _reopen.c.id > e.id)),
    )
    return and_(
        e.kind.in_(STAGE_EVENT_KINDS),
        e.kind != EventKind.REOPENED.value,
        e.undoes_event_id.is_(None),
        not_(exists().where(_undo.c.undoes_event_id == e.id)),
        or_(e.kind.not_in(CLOSING_KINDS), not_(reopened_since)),
    )


def _in_pipeline(pipeline_id: int | None, stage: Any = stages) -> ColumnElement[bool]:
    """The rows whose stage is one of ``pipeline_id``'s (every row when None)."""
    return true() if pipeline_id is None else stage.c.pipeline_id == pipeline_id


def _scoped(stmt: Select[Any], owner_id: int | None) -> Select[Any]:
    return stmt if owner_id is None else stmt.where(deals.c.owner_id == owner_id)


async def funnel(
    conn: AsyncConnection, *, pipeline_id: int, owner_id: int | None
) -> dict[int, tuple[int, Decimal, Decimal]]:
    """Open deals per stage: count, amount, amount × the stage's win probability (still ×100)."""
    weighted = type_coerce(deals.c.amount * stages.c.probability, Money)
    stmt = (
        select(deals.c.stage_id, func.count(deals.c.id), func.sum(deals.c.amount), func.sum(weighted))
        .select_from(deals.join(stages, stages.c.id == deals.c.stage_id))
        .where(deals.c.pipeline_id == pipeline_id, is_open())
        .group_by(deals.c.stage_id)
    )
    rows = await conn.execute(_scoped(stmt, owner_id))
    return {sid: (n, amount or ZERO, w or ZERO) for sid, n, amount, w in rows}


async def flow(
    conn: AsyncConnection, *, start: datetime, end: datetime, owner_id: int | None
) -> dict[int, list[int]]:
    """Per stage, within [start, end): deals that entered, advanced out of it, were won or lost from it."""
    in_period = and_(deal_events.c.at >= start, deal_events.c.at < end, standing())
    entered = _scoped(
        select(deal_events.c.to_stage_id, func.count(func.distinct(deal_events.c.deal_id)))
        .select_from(deal_events.join(deals, deals.c.id == deal_events.c.deal_id))
        .where(in_period, deal_events.c.to_stage_id.is_not(None))
        .group_by(deal_events.c.to_stage_id),
        owner_id,
    )
    from_stage, to_stage = stages.alias("from_stage"), stages.alias("to_stage")
    forward = and_(to_stage.c.kind != StageKind.LOST.value, to_stage.c.position > from_stage.c.position)
    kind = deal_events.c.kind
    deal = deal_events.c.deal_id
    advancing = and_(kind.in_([EventKind.MOVED.value, EventKind.WON.value]), forward)
    outcomes = _scoped(
        select(  # in deals, like `entered`: a deal that advanced out of a stage twice counts once
            deal_events.c.from_stage_id,
            func.count(func.distinct(case((advancing, deal)))),
            func.count(func.distinct(case((kind == EventKind.WON.value, deal)))),
            func.count(func.distinct(case((kind == EventKind.LOST.value, deal)))),
        )
        .select_from(
            deal_events.join(deals, deals.c.id == deal_events.c.deal_id)
            .join(from_stage, from_stage.c.id == deal_events.c.from_stage_id)
            .join(to_stage, to_stage.c.id == deal_events.c.to_stage_id)
        )
        .where(in_period, kind.in_([EventKind.MOVED.value, EventKind.WON.value, EventKind.LOST.value]))
        .group_by(deal_events.c.from_stage_id),
        owner_id,
    )
    result: dict[int, list[int]] = {}
    for stage_id, count in await conn.execute(entered):
        result.setdefault(stage_id, [0, 0, 0, 0])[0] = count
    for stage_id, advanced, won, lost in await conn.execute(outcomes):
        row = result.setdefault(stage_id, [0, 0, 0, 0])
        row[1:] = [int(advanced or 0), int(won or 0), int(lost or 0)]
    return result


def _stage_walk(end: datetime, start: datetime, owner_id: int | None, by_owner: bool) -> Any:
    """Each stage entry of the deals that entered a stage in [start, end), with what came after it.

    The cohort's histories are read through the (deal_id, at) index rather than by scanning every
    stage event before ``end``; the deals table is joined only when the owner matters.
    """
    cohort = (
        select(deal_events.c.deal_id)
        .where(deal_events.c.at >= start, deal_events.c.at < end, deal_events.c.kind.in_(STAGE_EVENT_KINDS))
        .distinct()
    )
    if owner_id is not None:
        cohort = cohort.join(deals, deals.c.id == deal_events.c.deal_id).where(deals.c.owner_id == owner_id)
    members = cohort.subquery("cohort")
    window: dict[str, Any] = {
        "partition_by": deal_events.c.deal_id,
        "order_by": (deal_events.c.at, deal_events.c.id),
    }
    # What came later on the path counts within the stage's own pipeline: a deal that changed
    # pipeline did not advance (nor win) from a stage of the one it left.
    later: dict[str, Any] = {
        "partition_by": (deal_events.c.deal_id, stages.c.pipeline_id),
        "order_by": (deal_events.c.at, deal_events.c.id),
        "rows": (1, None),
    }
    on_path = case((stages.c.kind != StageKind.LOST.value, stages.c.position))
    source = members.join(deal_events, deal_events.c.deal_id == members.c.deal_id).join(
        stages, stages.c.id == deal_events.c.to_stage_id
    )
    if by_owner:
        source = source.join(deals, deals.c.id == deal_events.c.deal_id)
    walk = (
        select(
            deal_events.c.deal_id,
            deal_events.c.at,
            deal_events.c.to_stage_id,
            stages.c.position.label("position"),
            stages.c.kind.label("stage_kind"),
            deals.c.owner_id.label("owner_id") if by_owner else literal(None).label("owner_id"),
            func.lead(deal_events.c.kind).over(**window).label("next_kind"),
            func.max(on_path).over(**later).label("max_later_position"),
            func.max(case((stages.c.kind == StageKind.WON.value, 1), else_=0))
            .over(**later)
            .label("won_later"),
        )
        .select_from(source)
        .where(standing(), deal_events.c.at < end)
    )
    return walk.subquery("walk")


async def conversion(
    conn: AsyncConnection, *, start: datetime, end: datetime, owner_id: int | None, by_owner: bool = False
) -> dict[tuple[int | None, int], tuple[int, int, int, int]]:
    """Per (owner if ``by_owner``, stage): entered, advanced later, won later, lost right there."""
    walk = _stage_walk(end, start, owner_id, by_owner)
    # One row per (owner, stage, deal) first: plain sums then count each deal once, without the four
    # sorts that COUNT(DISTINCT ...) costs.
    per_deal = (
        select(
            walk.c.owner_id,
            walk.c.to_stage_id,
            func.max(case((walk.c.max_later_position > walk.c.position, 1), else_=0)).label("advanced"),
            func.max(case((walk.c.won_later == 1, 1), else_=0)).label("won"),
            func.max(case((walk.c.next_kind == EventKind.LOST.value, 1), else_=0)).label("lost"),
        )
        .where(walk.c.at >= start, walk.c.stage_kind.in_([StageKind.INBOX.value, StageKind.OPEN.value]))
        .group_by(walk.c.owner_id, walk.c.to_stage_id, walk.c.deal_id)
        .subquery("per_deal")
    )
    stmt = select(
        per_deal.c.owner_id,
        per_deal.c.to_stage_id,
        func.count(),
        func.sum(per_deal.c.advanced),
        func.sum(per_deal.c.won),
        func.sum(per_deal.c.lost),
    ).group_by(per_deal.c.owner_id, per_deal.c.to_stage_id)
    return {
        (o, s): (int(e), int(a or 0), int(w or 0), int(lost or 0))
        for o, s, e, a, w, lost in await conn.execute(stmt)
    }


async def velocity(
    conn: AsyncConnection, *, start: datetime, end: datetime, owner_id: int | None
) -> dict[int, tuple[float, int]]:
    """Per stage: the median seconds a deal spent there, over stays that ended in [start, end)."""
    window: dict[str, Any] = {
        "partition_by": deal_events.c.deal_id,
        "order_by": (deal_events.c.at, deal_events.c.id),
    }
    spans = _scoped(
        select(
            deal_events.c.to_stage_id.label("stage_id"),
            deal_events.c.at.label("entered_at"),
            func.lead(deal_events.c.at).over(**window).label("left_at"),
        )
        .select_from(deal_events.join(deals, deals.c.id == deal_events.c.deal_id))
        .where(standing(), deal_events.c.at < end),
        owner_id,
    ).subquery("spans")
    stays = (
        select(
            spans.c.stage_id,
            (epoch_seconds(spans.c.left_at) - epoch_seconds(spans.c.entered_at)).label("seconds"),
        )
        .where(spans.c.left_at.is_not(None), spans.c.left_at >= start, spans.c.left_at < end)
        .subquery("stays")
    )
    ranked = select(
        stays.c.stage_id,
        stays.c.seconds,
        func.row_number().over(partition_by=stays.c.stage_id, order_by=stays.c.seconds).label("rn"),
        func.count().over(partition_by=stays.c.stage_id).label("n"),
    ).subquery("ranked")
    middle = or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2)
    stmt = (
        select(ranked.c.stage_id, func.avg(ranked.c.seconds), func.max(ranked.c.n))
        .where(middle)
        .group_by(ranked.c.stage_id)
    )
    return {sid: (float(median), int(n)) for sid, median, n in await conn.execute(stmt)}


async def sellers(
    conn: AsyncConnection,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    owner_id: int | None,
    pipeline_id: int | None = None,
) -> dict[int, tuple[int, Decimal, int, Decimal, int, int]]:
    """Per owner: open count and amount (their ``owned_open`` deals), won count and amount and lost count
    in the period, stale count; of the deals now in ``pipeline_id`` when given."""
    open_deal = is_open()
    closed_in = and_(deals.c.closed_at >= start, deals.c.closed_at < end)
    won = and_(closed_in, stages.c.kind == StageKind.WON.value)
    lost = and_(closed_in, stages.c.kind == StageKind.LOST.value)
    stale = and_(open_deal, deals.c.follow_up_due_at <= now)
    stmt = _scoped(
        select(
            deals.c.owner_id,
            func.sum(case((open_deal, 1), else_=0)),
            func.sum(case((open_deal, deals.c.amount))),
            func.sum(case((won, 1), else_=0)),
            func.sum(case((won, deals.c.amount))),
            func.sum(case((lost, 1), else_=0)),
            func.sum(case((stale, 1), else_=0)),
        )
        .select_from(deals.join(stages, stages.c.id == deals.c.stage_id))
        .where(deals.c.owner_id.is_not(None), or_(open_deal, closed_in), _in_pipeline(pipeline_id))
        .group_by(deals.c.owner_id),
        owner_id,
    )
    return {
        oid: (int(oc or 0), oa or ZERO, int(wc or 0), wa or ZERO, int(lc or 0), int(sc or 0))
        for oid, oc, oa, wc, wa, lc, sc in await conn.execute(stmt)
    }


async def activity(
    conn: AsyncConnection,
    *,
    start: datetime,
    end: datetime,
    owner_id: int | None,
    pipeline_id: int | None = None,
) -> dict[str, Any]:
    """Counts for the digest: new deals (from calls), forward moves, wins with their sum, losses by reason;
    with ``pipeline_id``, of what happened in that pipeline's stages."""
    in_period = and_(deal_events.c.at >= start, deal_events.c.at < end)
    from_stage, to_stage = stages.alias("from_stage"), stages.alias("to_stage")
    kind = deal_events.c.kind
    forward = and_(
        kind.in_([EventKind.MOVED.value, EventKind.WON.value]),
        to_stage.c.position > from_stage.c.position,
        to_stage.c.kind != StageKind.LOST.value,
    )
    counts = _scoped(
        select(
            func.sum(case((kind == EventKind.CREATED.value, 1), else_=0)),
            func.sum(
                case(
                    (and_(kind == EventKind.CREATED.value, deals.c.source.in_(["call", "missed_call"])), 1),
                    else_=0,
                )
            ),
            func.sum(case((forward, 1), else_=0)),
            func.sum(case((kind == EventKind.WON.value, 1), else_=0)),
            func.sum(case((kind == EventKind.LOST.value, 1), else_=0)),
        )
        .select_from(
            deal_events.join(deals, deals.c.id == deal_events.c.deal_id)
            .outerjoin(from_stage, from_stage.c.id == deal_events.c.from_stage_id)
            .outerjoin(to_stage, to_stage.c.id == deal_events.c.to_stage_id)
        )
        .where(in_period, standing(), _in_pipeline(pipeline_id, to_stage)),
        owner_id,
    )
    new, from_calls, moved, won, lost = (await conn.execute(counts)).one()
    closed_in = and_(deals.c.closed_at >= start, deals.c.closed_at < end)
    won_amount = await conn.scalar(
        _scoped(
            select(func.sum(deals.c.amount))
            .select_from(deals.join(stages, stages.c.id == deals.c.stage_id))
            .where(closed_in, stages.c.kind == StageKind.WON.value, _in_pipeline(pipeline_id)),
            owner_id,
        )
    )
    reasons = await conn.execute(
        _scoped(
            select(deals.c.lost_reason, func.count())
            .select_from(deals.join(stages, stages.c.id == deals.c.stage_id))
            .where(closed_in, stages.c.kind == StageKind.LOST.value, _in_pipeline(pipeline_id))
            .group_by(deals.c.lost_reason)
            .order_by(func.count().desc(), deals.c.lost_reason)
            .limit(3),
            owner_id,
        )
    )
    return {
        "new": int(new or 0),
        "from_calls": int(from_calls or 0),
        "moved": int(moved or 0),
        "won": int(won or 0),
        "lost": int(lost or 0),
        "won_amount": won_amount or ZERO,
        "reasons": [(r or "?", n) for r, n in reasons],
    }


class ReportRepository:
    """The reports' figures, read on the unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def funnel(
        self, *, pipeline_id: int, owner_id: int | None
    ) -> dict[int, tuple[int, Decimal, Decimal]]:
        return await funnel(self.conn, pipeline_id=pipeline_id, owner_id=owner_id)

    async def flow(self, *, start: datetime, end: datetime, owner_id: int | None) -> dict[int, list[int]]:
        return await flow(self.conn, start=start, end=end, owner_id=owner_id)

    async def conversion(
        self, *, start: datetime, end: datetime, owner_id: int | None, by_owner: bool = False
    ) -> dict[tuple[int | None, int], tuple[int, int, int, int]]:
        return await conversion(self.conn, start=start, end=end, owner_id=owner_id, by_owner=by_owner)

    async def velocity(
        self, *, start: datetime, end: datetime, owner_id: int | None
    ) -> dict[int, tuple[float, int]]:
        return await velocity(self.conn, start=start, end=end, owner_id=owner_id)

    async def sellers(
        self,
        *,
        start: datetime,
        end: datetime,
        now: datetime,
        owner_id: int | None,
        pipeline_id: int | None = None,
    ) -> dict[int, tuple[int, Decimal, int, Decimal, int, int]]:
        return await sellers(
            self.conn, start=start, end=end, now=now, owner_id=owner_id, pipeline_id=pipeline_id
        )

    async def activity(
        self, *, start: datetime, end: datetime, owner_id: int | None, pipeline_id: int | None = None
    ) -> dict[str, Any]:
        return await activity(self.conn, start=start, end=end, owner_id=owner_id, pipeline_id=pipeline_id)

    async def call_missed(
        self, *, start: datetime, end: datetime, owner_id: int | None
    ) -> dict[int | None, tuple[int, int, float | None]]:
        return await call_reports.missed(self.conn, start=start, end=end, owner_id=owner_id)

    async def call_team_median(self, *, start: datetime, end: datetime, owner_id: int | None) -> float | None:
        return await call_reports.team_median(self.conn, start=start, end=end, owner_id=owner_id)

    async def call_handled(
        self, *, start: datetime, end: datetime, owner_id: int | None
    ) -> dict[int | None, tuple[int, int, int, int]]:
        return await call_reports.handled(self.conn, start=start, end=end, owner_id=owner_id)

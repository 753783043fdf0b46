"""The calls report's queries (docs/reports.md, "Calls"): aggregated by the database, per seller.

A seller's calls: the inbound calls they answered, the outbound calls they placed, and the missed
calls of their deals' customers (a missed call belongs to whoever owns the deal it made or joined).
Group ``None`` holds what nobody owns; the team is every group together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.sqlfunc import epoch_seconds
from crm_core.adapters.tables import calls, deals

INBOUND, OUTBOUND = "inbound", "outbound"
ANSWERED, MISSED = "answered", "missed"
_reach = calls.alias("reach")


def _in(start: datetime, end: datetime, table: Any = calls) -> ColumnElement[bool]:
    return and_(table.c.started_at >= start, table.c.started_at < end, table.c.held.is_(False))


def returned_at(end: datetime) -> Any:
    """When a missed call's customer was first reached after it, before ``end``: a call from their
    number answered by anyone, or a call to it that connected (``None``: not reached)."""
    m, r = calls.c, _reach.c
    return (
        select(func.min(func.coalesce(r.answered_at, r.started_at)))
        .where(
            r.status == ANSWERED,
            or_(
                and_(r.direction == INBOUND, r.caller == m.caller),
                and_(r.direction == OUTBOUND, r.dialed == m.caller),
            ),
            r.started_at > m.started_at,
            r.started_at < end,
        )
        .scalar_subquery()
    )


def _missed(start: datetime, end: datetime) -> Select[Any]:
    """The missed calls of the period that someone was asked to return (they are on a deal)."""
    return (
        select(
            deals.c.owner_id.label("seller_id"),
            (epoch_seconds(returned_at(end)) - epoch_seconds(calls.c.started_at)).label("seconds"),
        )
        .select_from(calls.join(deals, deals.c.id == calls.c.deal_id))
        .where(
            _in(start, end),
            calls.c.direction == INBOUND,
            calls.c.status == MISSED,
            calls.c.caller.is_not(None),
        )
    )


async def missed(
    conn: AsyncConnection, *, start: datetime, end: datetime, owner_id: int | None
) -> dict[int | None, tuple[int, int, float | None]]:
    """Per seller: missed calls, how many were returned, and the median seconds to return one."""
    rows = _missed(start, end)
    if owner_id is not None:
        rows = rows.where(deals.c.owner_id == owner_id)
    sub = rows.subquery("missed")
    counts = select(sub.c.seller_id, func.count(), func.count(sub.c.seconds)).group_by(sub.c.seller_id)
    result: dict[int | None, tuple[int, int, float | None]] = {
        seller: (int(n), int(back), None) for seller, n, back in await conn.execute(counts)
    }
    for seller, median in (await _medians(conn, sub)).items():
        n, back, _ = result[seller]
        result[seller] = (n, back, median)
    return result


async def team_median(
    conn: AsyncConnection, *, start: datetime, end: datetime, owner_id: int | None
) -> float | None:
    """The median seconds to return a missed call, over everyone's (or one seller's) calls."""
    rows = _missed(start, end)
    if owner_id is not None:
        rows = rows.where(deals.c.owner_id == owner_id)
    team = select(literal(0).label("seller_id"), rows.subquery("m").c.seconds).subquery("team")
    return (await _medians(conn, team)).get(0)


async def _medians(conn: AsyncConnection, sub: Any) -> dict[Any, float]:
    returned = select(sub.c.seller_id, sub.c.seconds).where(sub.c.seconds.is_not(None)).subquery("ret")
    ranked = select(
        returned.c.seller_id,
        returned.c.seconds,
        func.row_number().over(partition_by=returned.c.seller_id, order_by=returned.c.seconds).label("rn"),
        func.count().over(partition_by=returned.c.seller_id).label("n"),
    ).subquery("ranked")
    middle = or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2)
    stmt = select(ranked.c.seller_id, func.avg(ranked.c.seconds)).where(middle).group_by(ranked.c.seller_id)
    return {seller: float(median) for seller, median in await conn.execute(stmt)}


async def handled(
    conn: AsyncConnection, *, start: datetime, end: datetime, owner_id: int | None
) -> dict[int | None, tuple[int, int, int, int]]:
    """Per seller: inbound calls answered, outbound calls placed and connected, and answered calls
    (either way) that have no outcome yet."""
    c = calls.c
    talked = c.status == ANSWERED
    stmt = (
        select(
            c.answered_by_id,
            func.count(case((and_(c.direction == INBOUND, talked), c.id))),
            func.count(case((c.direction == OUTBOUND, c.id))),
            func.count(case((and_(c.direction == OUTBOUND, talked), c.id))),
            func.count(case((and_(talked, c.outcome.is_(None)), c.id))),
        )
        .where(_in(start, end), c.direction.in_([INBOUND, OUTBOUND]))
        .group_by(c.answered_by_id)
    )
    if owner_id is not None:
        stmt = stmt.where(c.answered_by_id == owner_id)
    return {seller: (int(a), int(o), int(oc), int(no)) for seller, a, o, oc, no in await conn.execute(stmt)}

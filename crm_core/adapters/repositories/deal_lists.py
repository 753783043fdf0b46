"""The board, search and lists of deals, written so their cost follows the page shown, not the history.

The board reads ``deal_counts`` (kept by triggers on ``deals``), never the deals. Search first asks
the text indexes (SQLite FTS5 trigram tables, PostgreSQL ``pg_trgm``) and the reversed-phone index
for the matching deals' ids; when there are few, it reads and orders just those, and when a word is
so common that there are many, it walks the deals in result order (``ix_deals_search_order``) and
stops at the page. Lists are ordered and limited in SQL.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, column, func, or_, select, table, text, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.repositories.deal_rows import deal_select, deals_from_rows, owned_open, visible_to
from crm_core.adapters.tables import contacts, deal_counts, deals, stages
from crm_core.domain.deals import Deal
from crm_core.domain.funnel import StageKind
from crm_core.domain.phones import digits_of
from crm_core.domain.users import User
from crm_core.domain.values import search_key

# Up to this many matching ids, search reads and orders them; beyond, it walks deals in result order.
SEARCH_CANDIDATES = 2000
_TRIGRAM = 3  # the text indexes find substrings of at least three characters
_deals_fts = table("deals_fts", column("rowid"))
_contacts_fts = table("contacts_fts", column("rowid"))


class DealLists:
    """Read-only queries of many deals at once; every one ordered and limited in SQL."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def board(
        self, *, pipeline_id: int, viewer: User, owner_id: int | None = None
    ) -> dict[int, tuple[int, Decimal, int]]:
        """Per stage id, of the deals ``viewer`` may see: how many are theirs to count and the sum of
        their amounts, and how many unassigned ones are shown beside them, not counted.

        Counted: a seller's own deals; a boss's, everyone's (or ``owner_id``'s). Beside them: the
        unassigned inbox deals a seller may take (none when an owner is picked, who owns them all).
        """
        return await _board(self.conn, pipeline_id=pipeline_id, viewer=viewer, owner_id=owner_id)

    async def owned_open_page(
        self, owner_id: int, *, now: datetime, offset: int, limit: int
    ) -> tuple[list[Deal], int, int]:
        """A page of the owner's open deals, those needing a follow-up first, then the most recently
        active; and how many open deals the owner has, and how many of them need a follow-up."""
        return await _owned_open_page(self.conn, owner_id, now=now, offset=offset, limit=limit)

    async def recent_open(self, owner_id: int, *, limit: int) -> list[Deal]:
        """The owner's most recently active open deals."""
        return await _recent_open(self.conn, owner_id, limit=limit)

    async def find(self, query: str, *, viewer: User, region_e164: str | None, limit: int = 20) -> list[Deal]:
        """Deals whose phone (any format, or its last digits), title or contact name matches, as ``viewer``
        may see them: open first, most recently active first."""
        return await _find(self.conn, query, viewer=viewer, region_e164=region_e164, limit=limit)


async def _board(
    conn: AsyncConnection, *, pipeline_id: int, viewer: User, owner_id: int | None
) -> dict[int, tuple[int, Decimal, int]]:
    c = deal_counts.c
    figures: tuple[Any, ...] = (func.sum(c.deals), func.sum(c.amount), func.sum(0))
    scope: ColumnElement[bool] | None = None
    if owner_id is not None:
        scope = c.owner_key == owner_id
    elif not viewer.is_boss:
        mine = c.owner_key == viewer.id
        scope = or_(mine, and_(c.owner_key == 0, stages.c.kind == StageKind.INBOX.value))
        figures = (
            func.sum(case((mine, c.deals), else_=0)),
            func.sum(case((mine, c.amount))),
            func.sum(case((mine, 0), else_=c.deals)),
        )
    stmt = (
        select(c.stage_id, *figures)
        .select_from(deal_counts.join(stages, stages.c.id == c.stage_id))
        .where(stages.c.pipeline_id == pipeline_id, c.deals > 0)
        .group_by(c.stage_id)
    )
    if scope is not None:
        stmt = stmt.where(scope)
    return {
        stage_id: (int(count or 0), total or Decimal("0.00"), int(beside or 0))
        for stage_id, count, total, beside in await conn.execute(stmt)
    }


def _stale(now: datetime) -> ColumnElement[bool]:
    return and_(deals.c.follow_up_due_at.is_not(None), deals.c.follow_up_due_at <= now)


async def _owned_open_page(
    conn: AsyncConnection, owner_id: int, *, now: datetime, offset: int, limit: int
) -> tuple[list[Deal], int, int]:
    stale = _stale(now)
    total, stale_count = (
        await conn.execute(
            select(func.count(), func.coalesce(func.sum(case((stale, 1), else_=0)), 0)).where(
                owned_open(owner_id)
            )
        )
    ).one()
    # The page's ids from the index alone, then only those deals' rows.
    ids = list(
        (
            await conn.execute(
                select(deals.c.id)
                .where(owned_open(owner_id))
                .order_by(case((stale, 0), else_=1), deals.c.last_activity_at.desc(), deals.c.id.desc())
                .offset(offset)
                .limit(limit)
            )
        ).scalars()
    )
    if not ids:
        return [], int(total), int(stale_count)
    by_id = {d.id: d for d in deals_from_rows(await conn.execute(deal_select().where(deals.c.id.in_(ids))))}
    return [by_id[i] for i in ids if i in by_id], int(total), int(stale_count)


async def _recent_open(conn: AsyncConnection, owner_id: int, *, limit: int) -> list[Deal]:
    stmt = (
        deal_select()
        .where(owned_open(owner_id))
        .order_by(deals.c.last_activity_at.desc(), deals.c.id.desc())
        .limit(limit)
    )
    return deals_from_rows(await conn.execute(stmt))


def _like(text_: str) -> str:
    escaped = text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(key: str) -> str:
    """An FTS5 query matching ``key`` as a substring (a trigram phrase)."""
    return '"' + key.replace('"', '""') + '"'


class _Terms:
    """What a search looks for: a whole number, the last digits of one, and folded text."""

    def __init__(self, query: str, region_e164: str | None) -> None:
        digits = digits_of(query)
        self.e164 = region_e164
        self.phone_end = (
            digits[::-1] if len(digits) >= 3 and len(digits) >= len(query.strip(" +()-")) - 2 else None
        )
        self.key = search_key(query)

    def contact_conditions(self) -> list[ColumnElement[bool]]:
        conditions = []
        if self.e164:
            conditions.append(contacts.c.phone == self.e164)
        if self.phone_end:  # a range, not LIKE: SQLite's LIKE ignores case and so skips the index
            conditions.append(contacts.c.phone_rev.between(self.phone_end, self.phone_end + "~"))
        return conditions

    def scan_conditions(self) -> list[ColumnElement[bool]]:
        """Every condition as a plain filter, for walking the deals in result order."""
        conditions = self.contact_conditions()
        if self.key:
            conditions += [
                deals.c.title_key.like(_like(self.key), escape="\\"),
                contacts.c.name_key.like(_like(self.key), escape="\\"),
            ]
        return conditions


def _candidates(terms: _Terms, sqlite: bool) -> Select[Any] | None:
    """The ids of matching deals, through indexes only; None when the text is too short to index."""
    if terms.key and len(terms.key) < _TRIGRAM:
        return None
    by_contact = deals.join(contacts, contacts.c.id == deals.c.contact_id)
    parts: list[Select[Any]] = [
        select(deals.c.id).select_from(by_contact).where(condition)
        for condition in terms.contact_conditions()
    ]
    if terms.key and sqlite:
        match = _phrase(terms.key)
        parts.append(
            select(_deals_fts.c.rowid).where(text("deals_fts MATCH :deal_words").bindparams(deal_words=match))
        )
        parts.append(
            select(deals.c.id)
            .select_from(_contacts_fts.join(deals, deals.c.contact_id == _contacts_fts.c.rowid))
            .where(text("contacts_fts MATCH :contact_words").bindparams(contact_words=match))
        )
    elif terms.key:
        pattern = _like(terms.key)
        parts.append(select(deals.c.id).where(deals.c.title_key.like(pattern, escape="\\")))
        parts.append(
            select(deals.c.id).select_from(by_contact).where(contacts.c.name_key.like(pattern, escape="\\"))
        )
    if not parts:
        return None
    return union_all(*parts).limit(SEARCH_CANDIDATES + 1)  # type: ignore[return-value]


async def _find(
    conn: AsyncConnection, query: str, *, viewer: User, region_e164: str | None, limit: int
) -> list[Deal]:
    terms = _Terms(query, region_e164)
    conditions = terms.scan_conditions()
    if not conditions:
        return []
    order = (deals.c.closed_at.is_not(None), deals.c.last_activity_at.desc())
    candidates = _candidates(terms, conn.dialect.name == "sqlite")
    if candidates is not None:
        ids = set((await conn.execute(candidates)).scalars())
        if len(ids) <= SEARCH_CANDIDATES:
            if not ids:
                return []
            stmt = deal_select().where(deals.c.id.in_(ids)).order_by(*order)
            return deals_from_rows(await conn.execute(visible_to(stmt, viewer).limit(limit)))
    stmt = deal_select().where(or_(*conditions)).order_by(*order)
    return deals_from_rows(await conn.execute(visible_to(stmt, viewer).limit(limit)))

"""Deals: stored with their version checked, and the lists of them the services ask for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.repositories.deal_rows import (
    deal_from_row,
    deal_select,
    deals_from_rows,
    is_open,
    owned_open,
    seller_scope,
    visible_to,
)
from crm_core.adapters.tables import deals, stages, tasks
from crm_core.domain.deals import Deal
from crm_core.domain.errors import DealNotFound, StaleVersion
from crm_core.domain.listing import DealOrder, Page
from crm_core.domain.users import User
from crm_core.domain.values import search_key


def follow_up_due(deal: Deal, latest_open_task_due: datetime | None) -> datetime | None:
    """When the deal goes stale if nothing happens (see the ``follow_up_due_at`` column)."""
    if deal.is_closed or deal.stage.follow_up_after is None:
        return None
    candidates = [
        deal.last_activity_at + deal.stage.follow_up_after,
        deal.snoozed_until,
        latest_open_task_due,
    ]
    return max(c for c in candidates if c is not None)


# Built once, with bound parameters: every press on a deal's card reads the deal as its viewer sees it,
# and every save asks when its open tasks are due at the latest.
_GET = deal_select().where(deals.c.id == bindparam("deal_id"))
_GET_SEEN_BY_SELLER = _GET.where(seller_scope(bindparam("seller_id")))
_LATEST_OPEN_TASK_DUE = select(func.max(tasks.c.due_at)).where(
    tasks.c.deal_id == bindparam("deal_id"), tasks.c.done_at.is_(None)
)


class DealRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, deal_id: int) -> Deal | None:
        row = (await self.conn.execute(_GET, {"deal_id": deal_id})).first()
        return deal_from_row(row) if row else None

    async def get_visible(self, deal_id: int, *, viewer: User) -> Deal:
        """The deal, or ``DealNotFound`` when it does not exist or ``viewer`` may not see it."""
        if not isinstance(deal_id, int) or not 0 < deal_id < 2**31:  # ids are INTEGER: int4 on PostgreSQL
            raise DealNotFound(deal_id)
        if viewer.is_boss:
            result = await self.conn.execute(_GET, {"deal_id": deal_id})
        else:
            params = {"deal_id": deal_id, "seller_id": viewer.id}
            result = await self.conn.execute(_GET_SEEN_BY_SELLER, params)
        row = result.first()
        if row is None:
            raise DealNotFound(deal_id)
        return deal_from_row(row)

    async def _latest_open_task_due(self, deal_id: int) -> datetime | None:
        value: datetime | None = await self.conn.scalar(_LATEST_OPEN_TASK_DUE, {"deal_id": deal_id})
        return value

    def _values(self, deal: Deal) -> dict[str, Any]:
        return {
            "pipeline_id": deal.pipeline_id,
            "title": deal.title,
            "title_key": search_key(deal.title)[:200],
            "contact_id": deal.contact.id if deal.contact else None,
            "amount": deal.amount,
            "currency": deal.currency,
            "stage_id": deal.stage.id,
            "owner_id": deal.owner_id,
            "source": deal.source.value,
            "priority": deal.priority.value,
            "stage_entered_at": deal.stage_entered_at,
            "last_activity_at": deal.last_activity_at,
            "closed_at": deal.closed_at,
            "lost_reason": deal.lost_reason,
            "lost_note": deal.lost_note,
            "snoozed_until": deal.snoozed_until,
            "closed_from_stage_id": deal.closed_from_stage_id,
        }

    async def add(self, deal: Deal) -> Deal:
        values = self._values(deal) | {"created_at": deal.created_at, "version": 1}
        values["follow_up_due_at"] = deal.follow_up_due_at = follow_up_due(deal, None)
        result = await self.conn.execute(insert(deals).values(**values))
        deal.id, deal.version = int(result.inserted_primary_key[0]), 1  # type: ignore[index]
        return deal

    async def save(self, deal: Deal) -> None:
        """Write the deal back if nobody changed it since it was read; bump its version."""
        await self.save_knowing_tasks(deal, latest_open_task_due=await self._latest_open_task_due(deal.id))

    # ``save`` built once: the changed columns come as parameters (the telephony path saves many deals).
    _SAVE = (
        update(deals)
        .where(deals.c.id == bindparam("deal_id"), deals.c.version == bindparam("expected_version"))
        .values(version=deals.c.version + 1)
    )

    async def save_knowing_tasks(self, deal: Deal, *, latest_open_task_due: datetime | None) -> None:
        """``save`` for a caller who already knows when the deal's open tasks are due at the latest."""
        values = self._values(deal)
        values["follow_up_due_at"] = due = follow_up_due(deal, latest_open_task_due)
        result = await self.conn.execute(
            self._SAVE, values | {"deal_id": deal.id, "expected_version": deal.version}
        )
        if result.rowcount != 1:
            raise StaleVersion(deal.id)
        deal.version += 1
        deal.follow_up_due_at = due

    async def refresh_follow_up(self, deal: Deal) -> None:
        """Recompute when the deal goes stale (after a task changed), without touching its version."""
        deal.follow_up_due_at = follow_up_due(deal, await self._latest_open_task_due(deal.id))
        await self.conn.execute(
            update(deals).where(deals.c.id == deal.id).values(follow_up_due_at=deal.follow_up_due_at)
        )

    async def list_in_stage(
        self,
        *,
        stage_id: int,
        viewer: User,
        owner_id: int | None = None,
        order: DealOrder = DealOrder.NEWEST,
        cursor: str | None = None,
        backwards: bool = False,
        limit: int = 8,
    ) -> Page[Deal]:
        """One page of a kanban column, by the date deals entered the stage (keyset pagination)."""
        stmt = visible_to(deal_select().where(deals.c.stage_id == stage_id), viewer)
        if owner_id is not None:
            stmt = stmt.where(deals.c.owner_id == owner_id)
        newest_first = (order is DealOrder.NEWEST) != backwards
        key = (deals.c.stage_entered_at, deals.c.id)
        if cursor:
            at, deal_id = Page.decode_cursor(cursor)
            after = (
                or_(key[0] < at, and_(key[0] == at, key[1] < deal_id))
                if newest_first
                else or_(key[0] > at, and_(key[0] == at, key[1] > deal_id))
            )
            stmt = stmt.where(after)
        stmt = stmt.order_by(*(k.desc() if newest_first else k.asc() for k in key)).limit(limit + 1)
        rows = (await self.conn.execute(stmt)).all()
        items = deals_from_rows(rows[:limit])
        more = len(rows) > limit
        if backwards:
            items.reverse()
            has_next, has_prev = cursor is not None, more
        else:
            has_next, has_prev = more, cursor is not None
        return Page(
            items=items,
            next_cursor=Page.encode_cursor(items[-1].stage_entered_at, items[-1].id)
            if has_next and items
            else None,
            prev_cursor=Page.encode_cursor(items[0].stage_entered_at, items[0].id)
            if has_prev and items
            else None,
        )

    async def owned_open(self, owner_id: int) -> list[Deal]:
        """The owner's open deals (``owned_open``), by stage, newest in the stage first."""
        stmt = (
            deal_select()
            .where(owned_open(owner_id))
            .order_by(stages.c.position, deals.c.stage_entered_at.desc(), deals.c.id.desc())
        )
        return deals_from_rows(await self.conn.execute(stmt))

    async def open_deals_of_contact(self, contact_id: int) -> list[Deal]:
        """The contact's open deals, most recently active first."""
        rows = await self.conn.execute(
            deal_select()
            .where(deals.c.contact_id == contact_id, deals.c.closed_at.is_(None))
            .order_by(deals.c.last_activity_at.desc(), deals.c.id.desc())
        )
        return deals_from_rows(rows)

    async def open_of_contact_as_seen_by(self, contact_id: int, *, viewer: User) -> tuple[list[Deal], int]:
        """The contact's open deals ``viewer`` may see (most recently active first), and how many
        other open deals the contact has: access is the query scope, the rest only a count."""
        of_contact = and_(deals.c.contact_id == contact_id, is_open())
        stmt = deal_select().where(of_contact).order_by(deals.c.last_activity_at.desc(), deals.c.id.desc())
        seen = deals_from_rows(await self.conn.execute(visible_to(stmt, viewer)))
        total = int(await self.conn.scalar(select(func.count()).where(of_contact)) or 0)
        return seen, total - len(seen)

    async def of_contact(self, contact_id: int) -> list[Deal]:
        """Every deal of the contact, open or closed, oldest first."""
        rows = await self.conn.execute(
            deal_select().where(deals.c.contact_id == contact_id).order_by(deals.c.id)
        )
        return deals_from_rows(rows)

    async def count_of_contact(self, contact_id: int) -> int:
        """How many deals, open or closed, have this contact."""
        return int(await self.conn.scalar(select(func.count()).where(deals.c.contact_id == contact_id)) or 0)

    async def open_deal_ids_of_owner(self, owner_id: int) -> list[int]:
        rows = await self.conn.execute(
            select(deals.c.id)
            .where(deals.c.owner_id == owner_id, deals.c.closed_at.is_(None))
            .order_by(deals.c.id)
        )
        return list(rows.scalars())

    async def reopen_elsewhere(self, *, instead_of: int, stage_id: int) -> None:
        """Closed deals that would reopen in ``instead_of`` (a stage being removed) reopen in ``stage_id``."""
        await self.conn.execute(
            update(deals)
            .where(deals.c.closed_from_stage_id == instead_of)
            .values(closed_from_stage_id=stage_id)
        )

    async def ids_in_stage(self, stage_id: int) -> list[int]:
        return list(
            (await self.conn.execute(select(deals.c.id).where(deals.c.stage_id == stage_id))).scalars()
        )

    async def count_in_stage(self, stage_id: int) -> int:
        return int(await self.conn.scalar(select(func.count()).where(deals.c.stage_id == stage_id)) or 0)

    async def ids_in_pipeline(self, pipeline_id: int) -> list[int]:
        return list(
            (
                await self.conn.execute(
                    select(deals.c.id).where(deals.c.pipeline_id == pipeline_id).order_by(deals.c.id)
                )
            ).scalars()
        )

    async def list_all(
        self,
        *,
        viewer: User,
        stage_id: int | None = None,
        owner_id: int | None = None,
        limit: int | None = None,
        pipeline_id: int | None = None,
    ) -> list[Deal]:
        stmt = deal_select().order_by(stages.c.position, deals.c.stage_entered_at.desc(), deals.c.id.desc())
        if pipeline_id is not None:
            stmt = stmt.where(deals.c.pipeline_id == pipeline_id)
        if stage_id is not None:
            stmt = stmt.where(deals.c.stage_id == stage_id)
        if owner_id is not None:
            stmt = stmt.where(deals.c.owner_id == owner_id)
        if limit is not None:
            stmt = stmt.limit(limit)
        return deals_from_rows(await self.conn.execute(visible_to(stmt, viewer)))

    async def stale(
        self,
        *,
        now: datetime,
        viewer: User | None = None,
        owner_id: int | None = None,
        limit: int | None = None,
    ) -> list[Deal]:
        """Open deals past their stage's follow-up since their last activity, not snoozed, no future task.

        The ``follow_up_due_at`` index makes the cost grow with the number of stale deals only. A closed
        deal's ``follow_up_due_at`` is NULL (``follow_up_due``), so no ``closed_at IS NULL`` here: SQLite,
        without statistics, would take that for the selective condition and walk every open deal.
        """
        stmt = (
            deal_select()
            .where(deals.c.follow_up_due_at <= now)
            .order_by(deals.c.follow_up_due_at, deals.c.id)
        )
        if owner_id is not None:
            stmt = stmt.where(deals.c.owner_id == owner_id)
        if viewer is not None:
            stmt = visible_to(stmt, viewer)
        if limit is not None:
            stmt = stmt.limit(limit)
        return deals_from_rows(await self.conn.execute(stmt))

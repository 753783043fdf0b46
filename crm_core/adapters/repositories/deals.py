"""Deals, contacts and deal history. Deal queries go through ``visible_to``: access is a query scope."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.repositories.funnel import stage_from_row
from crm_core.adapters.tables import contacts, deal_events, deals, stages, tasks, users
from crm_core.domain.deals import STAGE_EVENTS, Contact, Deal, DealEvent, EventKind, Priority, Source
from crm_core.domain.errors import DealNotFound, InvalidInput, StaleVersion, Why
from crm_core.domain.funnel import Stage, StageKind
from crm_core.domain.listing import DealOrder, Page
from crm_core.domain.phones import digits_of
from crm_core.domain.users import Role, User
from crm_core.domain.values import search_key

owners = users.alias("owner")
actors = users.alias("actor")

_COLUMNS: tuple[Any, ...] = (
    deals,
    *(c.label(f"st_{c.name}") for c in stages.c),
    *(
        owners.c[name].label(f"owner_{name}")
        for name in ("telegram_id", "name", "role", "timezone", "locale", "active", "blocked_bot")
    ),
    contacts.c.name.label("contact_name"),
    contacts.c.phone.label("contact_phone"),
    contacts.c.company.label("contact_company"),
)
_FROM = (
    deals.join(stages, stages.c.id == deals.c.stage_id)
    .outerjoin(owners, owners.c.id == deals.c.owner_id)
    .outerjoin(contacts, contacts.c.id == deals.c.contact_id)
)


def visible_to(stmt: Select[Any], viewer: User) -> Select[Any]:
    """Bosses see every deal; sellers their own and the unassigned ones in the inbox."""
    if viewer.is_boss:
        return stmt
    return stmt.where(
        or_(
            deals.c.owner_id == viewer.id,
            and_(deals.c.owner_id.is_(None), stages.c.kind == StageKind.INBOX.value),
        )
    )


def is_open() -> ColumnElement[bool]:
    """An open deal: neither won nor lost (its stage is the inbox or an open one)."""
    return deals.c.closed_at.is_(None)


def owned_open(owner_id: int) -> ColumnElement[bool]:
    """Someone's "my open deals": open and owned by ``owner_id`` — the one definition that /deals, the
    board, the Mini App, /team, the digest, the reports and the CLI all count by. The unassigned inbox
    is nobody's: a seller sees it and may take from it, but it is shown apart, never counted as theirs."""
    return and_(deals.c.owner_id == owner_id, is_open())


def deal_select() -> Select[Any]:
    return select(*_COLUMNS).select_from(_FROM)


_AT = {name: index for index, name in enumerate(deal_select().selected_columns.keys())}
_SOURCES, _PRIORITIES, _ROLES = (
    {s.value: s for s in Source},
    {p.value: p for p in Priority},
    {r.value: r for r in Role},
)


@dataclass(slots=True)
class _Shared:
    """What the rows of one result have in common: their stages (frozen) and their owners."""

    stages: dict[int, Stage] = field(default_factory=dict)
    owners: dict[int, User] = field(default_factory=dict)


def deal_from_row(row: Row[Any], shared: _Shared | None = None) -> Deal:
    """The deal in a ``deal_select`` row, read by position (a list of thousands is read in a hot loop)."""
    shared = shared or _Shared()
    v, at = tuple(row), _AT
    stage = shared.stages.get(v[at["stage_id"]])
    if stage is None:
        stage = shared.stages[v[at["stage_id"]]] = stage_from_row(row, "st_")
    owner_id = v[at["owner_id"]]
    owner = shared.owners.get(owner_id) if owner_id is not None else None
    if owner is None and owner_id is not None:
        owner = shared.owners[owner_id] = User(
            id=owner_id,
            telegram_id=v[at["owner_telegram_id"]],
            name=v[at["owner_name"]],
            role=_ROLES[v[at["owner_role"]]],
            timezone=v[at["owner_timezone"]],
            locale=v[at["owner_locale"]],
            active=v[at["owner_active"]],
            blocked_bot=v[at["owner_blocked_bot"]],
        )
    contact_id = v[at["contact_id"]]
    contact = None
    if contact_id is not None:
        contact = Contact(
            id=contact_id,
            name=v[at["contact_name"]],
            phone=v[at["contact_phone"]],
            company=v[at["contact_company"]],
        )
    return Deal(
        id=v[at["id"]],
        pipeline_id=v[at["pipeline_id"]],
        title=v[at["title"]],
        stage=stage,
        currency=v[at["currency"]],
        created_at=v[at["created_at"]],
        stage_entered_at=v[at["stage_entered_at"]],
        last_activity_at=v[at["last_activity_at"]],
        source=_SOURCES[v[at["source"]]],
        priority=_PRIORITIES[v[at["priority"]]],
        amount=v[at["amount"]],
        contact=contact,
        owner=owner,
        closed_at=v[at["closed_at"]],
        lost_reason=v[at["lost_reason"]],
        lost_note=v[at["lost_note"]],
        snoozed_until=v[at["snoozed_until"]],
        version=v[at["version"]],
        follow_up_due_at=v[at["follow_up_due_at"]],
        closed_from_stage_id=v[at["closed_from_stage_id"]],
    )


def deals_from_rows(rows: Iterable[Row[Any]]) -> list[Deal]:
    """The deals of one result; deals with the same owner share one ``User``."""
    shared = _Shared()
    return [deal_from_row(row, shared) for row in rows]


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


class DealRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, deal_id: int) -> Deal | None:
        row = (await self.conn.execute(deal_select().where(deals.c.id == deal_id))).first()
        return deal_from_row(row) if row else None

    async def get_visible(self, deal_id: int, *, viewer: User) -> Deal:
        """The deal, or ``DealNotFound`` when it does not exist or ``viewer`` may not see it."""
        if not isinstance(deal_id, int) or not 0 < deal_id < 2**31:  # ids are INTEGER: int4 on PostgreSQL
            raise DealNotFound(deal_id)
        row = (
            await self.conn.execute(visible_to(deal_select().where(deals.c.id == deal_id), viewer))
        ).first()
        if row is None:
            raise DealNotFound(deal_id)
        return deal_from_row(row)

    async def _latest_open_task_due(self, deal_id: int) -> datetime | None:
        value: datetime | None = await self.conn.scalar(
            select(func.max(tasks.c.due_at)).where(tasks.c.deal_id == deal_id, tasks.c.done_at.is_(None))
        )
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

    async def list_all(
        self,
        *,
        viewer: User,
        stage_id: int | None = None,
        owner_id: int | None = None,
        limit: int | None = None,
    ) -> list[Deal]:
        stmt = deal_select().order_by(stages.c.position, deals.c.stage_entered_at.desc(), deals.c.id.desc())
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


class ContactRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def by_phone(self, phone: str) -> Contact | None:
        row = (await self.conn.execute(select(contacts).where(contacts.c.phone == phone))).first()
        return Contact(id=row.id, name=row.name, phone=row.phone, company=row.company) if row else None

    async def add(self, *, name: str | None, phone: str | None, company: str | None, at: datetime) -> Contact:
        if name is not None and len(name) > 100:
            raise InvalidInput("contact name", name, Why.TOO_LONG, most=100)
        result = await self.conn.execute(
            insert(contacts).values(
                name=name,
                name_key=search_key(name)[:100] if name else None,
                phone=phone,
                phone_rev=digits_of(phone)[::-1] if phone else None,
                company=company,
                created_at=at,
            )
        )
        return Contact(id=int(result.inserted_primary_key[0]), name=name, phone=phone, company=company)  # type: ignore[index]

    async def save(self, contact: Contact) -> None:
        await self.conn.execute(
            update(contacts)
            .where(contacts.c.id == contact.id)
            .values(
                name=contact.name,
                name_key=search_key(contact.name)[:100] if contact.name else None,
                phone=contact.phone,
                phone_rev=digits_of(contact.phone)[::-1] if contact.phone else None,
                company=contact.company,
            )
        )


class EventRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, *events: DealEvent) -> None:
        if not events:
            return
        await self.conn.execute(
            insert(deal_events),
            [
                {
                    "deal_id": e.deal_id,
                    "kind": e.kind.value,
                    "at": e.at,
                    "actor_id": e.actor_id,
                    "actor_system": e.actor_system,
                    "from_stage_id": e.from_stage_id,
                    "to_stage_id": e.to_stage_id,
                    "data": e.data,
                    "undoes_event_id": e.undoes_id,
                }
                for e in events
            ],
        )

    async def history(
        self, deal_id: int, *, limit: int | None = None, newest_first: bool = False
    ) -> list[DealEvent]:
        order = (
            (deal_events.c.at.desc(), deal_events.c.id.desc())
            if newest_first
            else (deal_events.c.at, deal_events.c.id)
        )
        stmt = (
            select(deal_events, actors.c.name.label("actor_name"))
            .select_from(deal_events.outerjoin(actors, actors.c.id == deal_events.c.actor_id))
            .where(deal_events.c.deal_id == deal_id)
            .order_by(*order)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return [_event_from_row(r) for r in await self.conn.execute(stmt)]

    async def stage_history(self, deal_id: int) -> list[DealEvent]:
        """The deal's stage events (created, moved, won, lost, reopened), oldest first."""
        rows = await self.conn.execute(
            _STAGE_HISTORY, {"deal_id": deal_id, "kinds": [k.value for k in STAGE_EVENTS]}
        )
        return [_event_from_row(r) for r in rows]

    async def last_of(self, deal_id: int, kinds: Sequence[EventKind]) -> DealEvent | None:
        row = (
            await self.conn.execute(
                select(deal_events, actors.c.name.label("actor_name"))
                .select_from(deal_events.outerjoin(actors, actors.c.id == deal_events.c.actor_id))
                .where(deal_events.c.deal_id == deal_id, deal_events.c.kind.in_([k.value for k in kinds]))
                .order_by(deal_events.c.at.desc(), deal_events.c.id.desc())
                .limit(1)
            )
        ).first()
        return _event_from_row(row) if row else None


def _event_from_row(row: Row[Any]) -> DealEvent:
    return DealEvent(
        id=row.id,
        deal_id=row.deal_id,
        kind=EventKind(row.kind),
        at=row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC),
        actor_id=row.actor_id,
        actor_system=row.actor_system,
        from_stage_id=row.from_stage_id,
        to_stage_id=row.to_stage_id,
        data=dict(row.data or {}),
        actor_name=row.actor_name,
        undoes_id=row.undoes_event_id,
    )


_STAGE_HISTORY = (
    select(deal_events, actors.c.name.label("actor_name"))
    .select_from(deal_events.outerjoin(actors, actors.c.id == deal_events.c.actor_id))
    .where(
        deal_events.c.deal_id == bindparam("deal_id"),
        deal_events.c.kind.in_(bindparam("kinds", expanding=True)),
    )
    .order_by(deal_events.c.at, deal_events.c.id)
)

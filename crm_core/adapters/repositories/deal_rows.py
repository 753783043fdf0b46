"""Reading deals: the one select every deal query starts from, the viewer's scope, and rows into ``Deal``s.

Deal queries go through ``visible_to``: access is a query scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Row, Select, and_, or_, select

from crm_core.adapters.repositories.funnel import stage_from_row
from crm_core.adapters.tables import contacts, deals, stages, users
from crm_core.domain.contacts import Contact
from crm_core.domain.deals import Deal, Priority, Source
from crm_core.domain.funnel import Stage, StageKind
from crm_core.domain.users import Role, User

owners = users.alias("owner")

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
    return stmt.where(seller_scope(viewer.id))


def seller_scope(seller_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """What a seller sees (``visible_to``): ``seller_id`` is theirs, or a ``bindparam`` for a statement
    built once."""
    return or_(
        deals.c.owner_id == seller_id,
        and_(deals.c.owner_id.is_(None), stages.c.kind == StageKind.INBOX.value),
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

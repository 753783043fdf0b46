"""Calls, unique per (provider, external id); and who is calling: the caller's contact and open deals.

A call is one short write transaction that the telephony bridge repeats under load, so its statements
are built once here, with bound parameters, and SQLAlchemy only looks up their compiled form.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, case, func, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.repositories.deal_rows import deal_select, deals_from_rows, owners
from crm_core.adapters.tables import call_seals, calls, contacts, deals, stages, tasks
from crm_core.domain.calls import (
    CallDirection,
    Caller,
    CallEvent,
    CallOutcome,
    CallRecord,
    CallSeal,
    CallStatus,
    StoredSeal,
)
from crm_core.domain.contacts import Contact


def _record(row: Row[Any]) -> CallRecord:
    return CallRecord(
        id=row.id,
        provider=row.provider,
        external_id=row.external_id,
        direction=CallDirection(row.direction),
        status=CallStatus(row.status),
        caller=row.caller,
        answered_by_ext=row.answered_by_ext,
        answered_by_id=row.answered_by_id,
        started_at=row.started_at,
        ended_at=row.ended_at,
        duration_s=row.duration_s,
        deal_id=row.deal_id,
        held=row.held,
        dialed=row.dialed,
        outcome=CallOutcome(row.outcome) if row.outcome else None,
    )


_FIND = select(calls).where(
    calls.c.provider == bindparam("provider"), calls.c.external_id == bindparam("external_id")
)
_ADD = insert(calls)
_NEW_NUMBERS_SINCE = select(func.count(), func.min(calls.c.created_at)).where(
    calls.c.new_number.is_(True), calls.c.created_at >= bindparam("since")
)
_LAST_HELD_AT = select(func.max(calls.c.created_at)).where(calls.c.held.is_(True))
_COMPLETE = update(calls).where(calls.c.id == bindparam("call_id"))
_COUNT_OF_DEAL = select(func.count()).where(calls.c.deal_id == bindparam("deal_id"))  # every deal card
_LATEST_OPEN_TASK_DUE = (
    select(func.max(tasks.c.due_at))
    .where(tasks.c.deal_id == deals.c.id, tasks.c.done_at.is_(None))
    .scalar_subquery()
    .label("latest_open_task_due")
)
# The contact with each of its open deals (one row with no deal when it has none): the columns of
# ``deal_select`` first, in its order, so ``deals_from_rows`` reads them; the contact's own id after.
_CALLER = (
    select(*deal_select().selected_columns, contacts.c.id.label("caller_contact_id"), _LATEST_OPEN_TASK_DUE)
    .select_from(
        contacts.outerjoin(deals, and_(deals.c.contact_id == contacts.c.id, deals.c.closed_at.is_(None)))
        .outerjoin(stages, stages.c.id == deals.c.stage_id)
        .outerjoin(owners, owners.c.id == deals.c.owner_id)
    )
    .where(contacts.c.phone == bindparam("phone"))
    .order_by(deals.c.last_activity_at.desc(), deals.c.id.desc())
)


# What a call needs to know as it arrives, in one query: the call if it is known already (a re-post,
# or the final event of a call first seen in progress), and the caller (``_CALLER``'s columns, first).
known_calls = calls.alias("known")
_KNOWN_COLUMNS = [c.label(f"known_{c.name}") for c in known_calls.c]
_ONE = select(literal(1).label("one")).subquery("one")
_ARRIVAL = (
    select(*_CALLER.selected_columns, *_KNOWN_COLUMNS)
    .select_from(
        _ONE.outerjoin(
            known_calls,
            and_(
                known_calls.c.provider == bindparam("provider"),
                known_calls.c.external_id == bindparam("external_id"),
            ),
        )
        .outerjoin(contacts, contacts.c.phone == bindparam("phone"))
        .outerjoin(deals, and_(deals.c.contact_id == contacts.c.id, deals.c.closed_at.is_(None)))
        .outerjoin(stages, stages.c.id == deals.c.stage_id)
        .outerjoin(owners, owners.c.id == deals.c.owner_id)
    )
    .order_by(deals.c.last_activity_at.desc(), deals.c.id.desc())
)


def _known(row: Row[Any]) -> CallRecord | None:
    if row.known_id is None:
        return None
    return _record(_Prefixed(row, "known_"))  # type: ignore[arg-type]


class _Prefixed:
    """A row's columns named with ``prefix``, read without it."""

    def __init__(self, row: Row[Any], prefix: str) -> None:
        self._mapping, self._prefix = row._mapping, prefix

    def __getattr__(self, name: str) -> Any:
        return self._mapping[self._prefix + name]


class CallRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def find(self, provider: str, external_id: str) -> CallRecord | None:
        row = (await self.conn.execute(_FIND, {"provider": provider, "external_id": external_id})).first()
        return _record(row) if row else None

    async def caller(self, phone: str) -> Caller:
        """The contact with ``phone`` and their open deals, in one query."""
        rows: list[Row[Any]] = list(await self.conn.execute(_CALLER, {"phone": phone}))
        if not rows:
            return Caller(None, [], None)
        head = rows[0]
        contact = Contact(
            id=head.caller_contact_id,
            name=head.contact_name,
            phone=head.contact_phone,
            company=head.contact_company,
        )
        with_deals = [r for r in rows if r.id is not None]
        return Caller(contact, deals_from_rows(with_deals), head.latest_open_task_due)

    async def arrival(
        self, provider: str, external_id: str, *, phone: str | None
    ) -> tuple[CallRecord | None, Caller]:
        """``find`` and ``caller`` in one query: the call if it is known already, and who ``phone`` is
        (no contact and no deals when ``phone`` is ``None``)."""
        params = {"provider": provider, "external_id": external_id, "phone": phone}
        rows: list[Row[Any]] = list(await self.conn.execute(_ARRIVAL, params))
        head = rows[0]  # the one row, at least
        if head.caller_contact_id is None:
            return _known(head), Caller(None, [], None)
        contact = Contact(
            id=head.caller_contact_id,
            name=head.contact_name,
            phone=head.contact_phone,
            company=head.contact_company,
        )
        with_deals = [r for r in rows if r.id is not None]
        return _known(head), Caller(contact, deals_from_rows(with_deals), head.latest_open_task_due)

    def _values(self, event: CallEvent) -> dict[str, Any]:
        return {
            "direction": event.direction.value,
            "status": event.status.value,
            "caller": event.caller,
            "dialed": event.dialed,
            "answered_by_ext": event.answered_by,
            "rang": list(event.rang),
            "transfers": list(event.transfers),
            "started_at": event.started_at,
            "answered_at": event.answered_at,
            "ended_at": event.ended_at,
            "duration_s": event.duration_s,
        }

    async def add(
        self,
        event: CallEvent,
        *,
        deal_id: int | None,
        answered_by_id: int | None,
        at: datetime,
        new_number: bool = False,
        held: bool = False,
    ) -> int:
        values = self._values(event) | {
            "provider": event.provider,
            "external_id": event.call_id,
            "deal_id": deal_id,
            "answered_by_id": answered_by_id,
            "created_at": at,
            "new_number": new_number,
            "held": held,
        }
        result = await self.conn.execute(_ADD, values)
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    async def complete(
        self, call_id: int, event: CallEvent, *, deal_id: int | None, answered_by_id: int | None
    ) -> None:
        values = self._values(event) | {"deal_id": deal_id, "answered_by_id": answered_by_id}
        await self.conn.execute(_COMPLETE, values | {"call_id": call_id})

    async def get(self, call_id: int) -> CallRecord | None:
        if not 0 < call_id < 2**31:  # ids are INTEGER: int4 on PostgreSQL
            return None
        row = (await self.conn.execute(select(calls).where(calls.c.id == call_id))).first()
        return _record(row) if row else None

    async def set_outcome(self, call_id: int, outcome: CallOutcome, *, at: datetime) -> None:
        await self.conn.execute(
            update(calls).where(calls.c.id == call_id).values(outcome=outcome.value, outcome_at=at)
        )

    async def link(self, call_id: int, deal_id: int) -> None:
        await self.conn.execute(update(calls).where(calls.c.id == call_id).values(deal_id=deal_id))

    async def of_deal(self, deal_id: int, *, limit: int = 20) -> list[CallRecord]:
        rows = await self.conn.execute(
            select(calls).where(calls.c.deal_id == deal_id).order_by(calls.c.started_at.desc()).limit(limit)
        )
        return [_record(r) for r in rows]

    async def missed_call_of(self, phone: str, *, recorded_at: datetime) -> datetime | None:
        """When the latest missed call from ``phone`` recorded by ``recorded_at`` started (the call
        that made a call-back task recorded at that moment)."""
        started_at: datetime | None = await self.conn.scalar(
            select(calls.c.started_at)
            .where(
                calls.c.caller == phone,
                calls.c.direction == CallDirection.INBOUND.value,
                calls.c.status == CallStatus.MISSED.value,
                calls.c.created_at <= recorded_at,
            )
            .order_by(calls.c.created_at.desc(), calls.c.id.desc())
            .limit(1)
        )
        return started_at

    async def last_reached(self, phones: Collection[str], *, since: datetime) -> dict[str, datetime]:
        """For each of ``phones`` reached since ``since`` (a call from it answered, or a call to it that
        connected), when it was last reached."""
        if not phones:
            return {}
        number = case(
            (calls.c.direction == CallDirection.INBOUND.value, calls.c.caller), else_=calls.c.dialed
        )
        stmt = (
            select(number, func.max(func.coalesce(calls.c.answered_at, calls.c.started_at)))
            .where(
                calls.c.status == CallStatus.ANSWERED.value,
                calls.c.started_at >= since,
                or_(
                    and_(calls.c.direction == CallDirection.INBOUND.value, calls.c.caller.in_(list(phones))),
                    and_(calls.c.direction == CallDirection.OUTBOUND.value, calls.c.dialed.in_(list(phones))),
                ),
            )
            .group_by(number)
        )
        return {str(phone): at for phone, at in await self.conn.execute(stmt)}

    async def new_numbers_since(self, since: datetime) -> int:
        """How many calls came from numbers the CRM did not know (and would make deals) since ``since``."""
        return (await self.new_numbers_from(since))[0]

    async def new_numbers_from(self, since: datetime) -> tuple[int, datetime | None]:
        """``new_numbers_since``, and when the first of those calls came."""
        count, first_at = (await self.conn.execute(_NEW_NUMBERS_SINCE, {"since": since})).one()
        return int(count), first_at

    async def last_held_at(self) -> datetime | None:
        """When the latest call held back in a flood was recorded."""
        held_at: datetime | None = (await self.conn.execute(_LAST_HELD_AT)).scalar()
        return held_at

    async def seals(self, provider: str, *, digest: str, external_id: str) -> list[StoredSeal]:
        """The seals bound to ``external_id``, and the one with ``digest`` whatever call it is bound to."""
        rows = await self.conn.execute(
            select(call_seals).where(
                call_seals.c.provider == provider,
                or_(call_seals.c.digest == digest, call_seals.c.external_id == external_id),
            )
        )
        return [StoredSeal(r.external_id, r.digest, dict(r.fields)) for r in rows]

    async def bind_seal(self, provider: str, external_id: str, seal: CallSeal, *, at: datetime) -> bool:
        """Bind ``seal`` to the call ``external_id``; ``False`` when another transaction bound it first."""
        values = {
            "provider": provider,
            "digest": seal.digest,
            "external_id": external_id,
            "fields": dict(seal.fields),
            "created_at": at,
        }
        dialect = self.conn.dialect.name
        stmt = (pg_insert(call_seals) if dialect == "postgresql" else sqlite_insert(call_seals)).values(
            **values
        )
        result = await self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["provider", "digest"]))
        return bool(result.rowcount)

    async def count_of_deal(self, deal_id: int) -> int:
        """How many calls the deal has, all of them (a list of them is a page: ``of_deal``)."""
        return int(await self.conn.scalar(_COUNT_OF_DEAL, {"deal_id": deal_id}) or 0)

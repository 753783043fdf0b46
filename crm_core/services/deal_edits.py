"""Editing a deal's fields: title, amount, currency, priority, and its customer's name, phone, company.

A customer other deals share is changed for all of them or replaced on this deal by its own, as the
seller chooses (``crm_core.domain.contacts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from functools import partial

from crm_core.domain.contacts import ContactScope, ContactShared, needs_a_choice
from crm_core.domain.deals import Deal, Priority
from crm_core.domain.errors import InvalidInput, Why
from crm_core.domain.funnel import Pipeline
from crm_core.domain.history import Actor, DealEvent, EventKind
from crm_core.domain.phones import to_e164
from crm_core.domain.users import User, valid_name
from crm_core.domain.values import parse_amount, valid_currency, valid_title
from crm_core.services.deal_fields import DealFieldEdits
from crm_core.services.unit_of_work import UnitOfWork

EDITABLE = ("title", "amount", "currency", "contact", "phone", "company", "priority")


def deal_amount(value: Decimal | str | None) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, Decimal):
        if value < 0:
            raise InvalidInput("amount", str(value), Why.NEGATIVE)
        return parse_amount(str(value))
    return parse_amount(value)


class DealEdits(DealFieldEdits):
    """The edits of ``DealService``: one field or several at once, all or none."""

    async def edit(
        self,
        *,
        deal_id: int,
        field: str,
        value: str,
        actor: User,
        expected_version: int | None = None,
        contact_scope: ContactScope | None = None,
    ) -> Deal:
        """Change the title, amount, currency, contact name, phone, company or priority.

        A contact other deals share is changed for all of them (``ContactScope.ALL``) or replaced on
        this deal by its own (``ContactScope.THIS``); without a scope, ``ContactShared`` refuses it.
        """
        return await self.edit_fields(
            deal_id=deal_id,
            changes={field: value},
            actor=actor,
            expected_version=expected_version,
            contact_scope=contact_scope,
        )

    async def edit_fields(
        self,
        *,
        deal_id: int,
        changes: Mapping[str, str],
        actor: User,
        expected_version: int | None = None,
        contact_scope: ContactScope | None = None,
        own: Mapping[str, str | None] | None = None,
    ) -> Deal:
        """``edit`` for several fields at once: all of them, or none when one is refused. ``own``: the
        team's own fields to set (or clear) in the same change, by key."""
        if not changes and not own:
            raise InvalidInput("field", "", detail="name at least one of " + ", ".join(EDITABLE))
        for field in changes:
            if field not in EDITABLE:
                raise InvalidInput("field", field, detail="one of " + ", ".join(EDITABLE))
        now = self.now()
        who = Actor.of(actor)

        async def change(uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> list[DealEvent]:
            events: list[DealEvent] = []
            for field, value in changes.items():
                events += await self._edit_one(uow, deal, field, value, now, who, contact_scope)
            if own:
                events += await self.write_fields(uow, deal, own, now=now, who=who)
            return events

        return await self._change(
            deal_id=deal_id, actor=actor, expected_version=expected_version, change=change
        )

    async def _edit_one(
        self,
        uow: UnitOfWork,
        deal: Deal,
        field: str,
        value: str,
        now: datetime,
        who: Actor,
        scope: ContactScope | None,
    ) -> list[DealEvent]:
        if field == "title":
            return [deal.edit("title", valid_title(value), at=now, actor=who)]
        if field == "amount":
            return [deal.edit("amount", deal_amount(value), at=now, actor=who)]
        if field == "currency":
            return [deal.edit("currency", valid_currency(value), at=now, actor=who)]
        if field == "priority":
            try:
                level = Priority(value.strip().lower())
            except ValueError:
                raise InvalidInput("priority", value, Why.PRIORITY) from None
            return [deal.set_priority(level, at=now, actor=who)]
        return await self._edit_contact(uow, deal, field, value, now, who, scope)

    async def _edit_contact(
        self,
        uow: UnitOfWork,
        deal: Deal,
        field: str,
        value: str,
        now: datetime,
        who: Actor,
        scope: ContactScope | None,
    ) -> list[DealEvent]:
        """Change the deal's customer: in place when only this deal has them, else as ``scope`` says."""
        attribute = {"contact": "name", "phone": "phone", "company": "company"}[field]
        new = to_e164(value, region=self.config.default_region) if field == "phone" else valid_name(value)
        old = deal.contact
        previous = getattr(old, attribute) if old is not None else None
        if previous == new:
            raise InvalidInput(field, value, Why.UNCHANGED)
        holder = await uow.contacts.by_phone(new) if field == "phone" else None
        sharing = await uow.deals.count_of_contact(old.id) if old is not None else 0
        if old is not None and needs_a_choice(field, sharing, scope):
            raise ContactShared(deal_id=deal.id, name=old.name or old.phone or "?", deal_count=sharing)
        shared = sharing > 1
        event = partial(DealEvent.new, kind=EventKind.EDITED, at=now, actor=who, field=field, old=previous)
        if holder is not None:  # the number is a known customer's: this deal joins them
            if shared and scope is ContactScope.ALL:
                raise InvalidInput("phone", value, Why.OTHERS_NUMBER)
            deal.contact = holder
            deal.touch(now)
            return [event(deal, new=new, joined=holder.name or holder.phone)]
        if old is None or (shared and scope is ContactScope.THIS):
            # The deal's own contact keeps the name and company; a number is one customer's, so it
            # stays with the shared contact.
            keep = {"name": old.name if old else None, "phone": None, "company": old.company if old else None}
            deal.contact = await uow.contacts.add(**(keep | {attribute: new}), at=now)
            deal.touch(now)
            return [event(deal, new=new, own_contact=True if old is not None else None)]
        setattr(old, attribute, new)
        await uow.contacts.save(old)
        deal.touch(now)
        events = [event(deal, new=new, deals=sharing if shared else None)]
        if shared:
            for other in await uow.deals.of_contact(old.id):
                if other.id != deal.id:  # its history says so; it is not activity on it
                    events.append(event(other, new=new, via_deal=deal.id))
                    await uow.deals.save(other)
        return events

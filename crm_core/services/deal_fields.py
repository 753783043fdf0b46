"""Setting and clearing the team's own fields on a deal, or on its customer, as editing the deal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from crm_core.domain.deals import Deal
from crm_core.domain.errors import InvalidInput, Why
from crm_core.domain.fields import FieldDef, FieldEntity, Values
from crm_core.domain.funnel import Pipeline
from crm_core.domain.history import Actor, DealEvent, EventKind
from crm_core.domain.users import User
from crm_core.services.deal_changes import DealChanges
from crm_core.services.unit_of_work import UnitOfWork


def field_by_key(defs: Sequence[FieldDef], key: str) -> FieldDef:
    """The field named by ``key`` (its key, or its name in any language, whatever the case)."""
    folded = key.strip().casefold()
    for d in defs:
        if d.key == folded or any(n.casefold() == folded for n in d.names.values()):
            return d
    raise InvalidInput(
        "field", key, detail="one of " + ", ".join(d.key for d in defs) if defs else "no fields"
    )


async def deal_field_values(uow: UnitOfWork, deal: Deal) -> dict[str, Values]:
    """The deal's values and its customer's, by key (keys are unique across both)."""
    values = await uow.fields.values_of(FieldEntity.DEAL, deal.id)
    if deal.contact is not None:
        values |= await uow.fields.values_of(FieldEntity.CONTACT, deal.contact.id)
    return values


async def many_deal_field_values(uow: UnitOfWork, deals: Sequence[Deal]) -> dict[int, dict[str, Values]]:
    """``deal_field_values`` of each of ``deals``, by deal id, in two queries."""
    own = await uow.fields.values_of_many(FieldEntity.DEAL, [d.id for d in deals])
    contact_ids = sorted({d.contact.id for d in deals if d.contact is not None})
    theirs = await uow.fields.values_of_many(FieldEntity.CONTACT, contact_ids)
    return {
        d.id: own.get(d.id, {}) | (theirs.get(d.contact.id, {}) if d.contact is not None else {})
        for d in deals
    }


class DealFieldEdits(DealChanges):
    """The team's own fields of ``DealService``."""

    async def set_fields(
        self,
        *,
        deal_id: int,
        changes: Mapping[str, str | None],
        actor: User,
        expected_version: int | None = None,
    ) -> Deal:
        """Set (or, with ``None`` or "", clear) several fields of the deal or its customer: all or none."""
        if not changes:
            raise InvalidInput("field", "", Why.EMPTY)
        now, who = self.now(), Actor.of(actor)

        async def change(uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> list[DealEvent]:
            return await self.write_fields(uow, deal, changes, now=now, who=who)

        return await self._change(
            deal_id=deal_id, actor=actor, expected_version=expected_version, change=change
        )

    async def set_field(
        self, *, deal_id: int, key: str, value: str | None, actor: User, expected_version: int | None = None
    ) -> Deal:
        """Set one field of the deal (or of its customer); ``None`` or "" clears it."""
        return await self.set_fields(
            deal_id=deal_id, changes={key: value}, actor=actor, expected_version=expected_version
        )

    async def write_fields(
        self, uow: UnitOfWork, deal: Deal, changes: Mapping[str, str | None], *, now: datetime, who: Actor
    ) -> list[DealEvent]:
        """Store each change (read by its field's type), with a line of history each."""
        defs = await uow.fields.definitions()
        parsed = []
        for key, raw in changes.items():
            definition = field_by_key(defs, key)
            values: Values = ()
            if raw is not None and raw.strip():
                values = definition.parse(raw, region=self.config.default_region)
            parsed.append((definition, values))
        current = await deal_field_values(uow, deal)
        events = []
        for definition, values in parsed:
            old = current.get(definition.key, ())
            if old == values:
                raise InvalidInput(definition.key, definition.as_text(values), Why.UNCHANGED)
            owner_id = deal.id
            if definition.entity is FieldEntity.CONTACT:
                if deal.contact is None:
                    deal.contact = await uow.contacts.add(name=None, phone=None, company=None, at=now)
                owner_id = deal.contact.id
            await uow.fields.set_value(definition.entity, owner_id, definition.key, values)
            current[definition.key] = values
            events.append(
                DealEvent.new(
                    deal,
                    EventKind.EDITED,
                    now,
                    who,
                    field=definition.key,
                    custom=True,
                    names=dict(definition.names),
                    old=definition.as_text(old) or None,
                    new=definition.as_text(values) or None,
                )
            )
        deal.touch(now)
        return events

"""Customers' contacts as a user may see them: a boss every one, a seller those of the deals the seller
sees (as the chat shows them on the seller's deals)."""

from __future__ import annotations

from collections.abc import Mapping

from crm_core.domain.contacts import Contact, ContactScope
from crm_core.domain.errors import InvalidInput, NotAllowed, NotFound, Why
from crm_core.domain.phones import digits_of, to_e164, try_e164
from crm_core.domain.users import User, valid_name
from crm_core.domain.values import search_key
from crm_core.services.base import ServiceBase, require_active, require_boss
from crm_core.services.deals import DealService

MOST = 100


class ContactService(ServiceBase):
    async def page(
        self, *, actor: User, query: str | None = None, after_id: int = 0, limit: int = 50
    ) -> tuple[list[Contact], bool]:
        """Contacts by id after ``after_id``, at most ``limit``, and whether more follow; ``query``: a
        name (or part of it) or a phone's digits (any format, or its last digits)."""
        require_active(actor)
        if not 1 <= limit <= MOST:
            raise InvalidInput("limit", limit, detail=f"from 1 to {MOST}")
        name_key = phone_digits = None
        if query is not None:
            text = query.strip()
            if not text:
                raise InvalidInput("search", query, Why.SEARCH)
            if len(text) > 100:
                raise InvalidInput("search", query, Why.TOO_LONG, most=100)
            digits = digits_of(try_e164(text, region=self.config.default_region) or text)
            phone_digits = digits if len(digits) >= 3 else None
            name_key = search_key(text) if not phone_digits or any(c.isalpha() for c in text) else None
        async with self.db.uow(write=False) as uow:
            found = await uow.contacts.visible_page(
                viewer=actor, name_key=name_key, phone_digits=phone_digits, after_id=after_id, limit=limit + 1
            )
        return found[:limit], len(found) > limit

    async def get(self, *, contact_id: int, actor: User) -> Contact:
        """One contact the actor may see; ``NotFound`` otherwise, as one that does not exist."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            found = await uow.contacts.visible_page(
                viewer=actor, name_key=None, phone_digits=None, after_id=contact_id - 1, limit=1
            )
        if not found or found[0].id != contact_id:
            raise NotFound("contact", contact_id)
        return found[0]

    async def edit(self, *, contact_id: int, changes: Mapping[str, str], actor: User) -> Contact:
        """Change the contact's ``name``, ``phone`` or ``company`` for every deal of theirs, as a deal's
        edit with the scope "all" does in the chat: through one of its deals the actor may change (a
        boss any, a seller their own); all of it or none."""
        await self.get(contact_id=contact_id, actor=actor)
        fields = {"name": "contact", "phone": "phone", "company": "company"}
        for key in changes:
            if key not in fields:
                raise InvalidInput("field", key, detail="one of name, phone, company")
        async with self.db.uow(write=False) as uow:
            theirs = await uow.deals.of_contact(contact_id)
        mine = [d for d in theirs if actor.is_boss or d.owner_id == actor.id]
        if not mine:
            raise NotAllowed("change a contact of another seller's deals")
        deal = max(mine, key=lambda d: d.id)
        await DealService(self.db, self.clock, self.config).edit_fields(
            deal_id=deal.id,
            changes={fields[key]: value for key, value in changes.items()},
            actor=actor,
            contact_scope=ContactScope.ALL,
        )
        return await self.get(contact_id=contact_id, actor=actor)

    async def create(
        self, *, name: str, actor: User, phone: str | None = None, company: str | None = None
    ) -> Contact:
        """A customer without a deal yet (bosses only: a seller sees customers through their deals, so
        makes them with a deal). A phone another contact has is refused: that customer exists."""
        require_active(actor)
        require_boss(actor, "add contacts without a deal")
        valid = valid_name(name)
        number = to_e164(phone, region=self.config.default_region) if phone and phone.strip() else None
        firm = valid_name(company) if company and company.strip() else None
        async with self.db.uow() as uow:
            if number is not None and await uow.contacts.by_phone(number) is not None:
                uow.refused()
                raise InvalidInput("phone", phone, Why.OTHERS_NUMBER)
            contact = await uow.contacts.add(name=valid, phone=number, company=firm, at=self.now())
            await uow.commit()
        return contact

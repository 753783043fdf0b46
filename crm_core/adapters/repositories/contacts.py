"""Contacts: a customer's name, phone and company, with the keys they are searched by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.repositories.deal_rows import seller_scope
from crm_core.adapters.tables import contacts, deals, stages
from crm_core.domain.contacts import Contact
from crm_core.domain.errors import InvalidInput, Why
from crm_core.domain.phones import digits_of
from crm_core.domain.users import User
from crm_core.domain.values import search_key


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

    async def visible_page(
        self, *, viewer: User, name_key: str | None, phone_digits: str | None, after_id: int, limit: int
    ) -> list[Contact]:
        """Contacts by id after ``after_id``, as ``viewer`` may see them: a boss every one, a seller
        those of the deals the seller sees; matching a name (part of it) or a phone's last digits."""
        stmt = select(contacts).where(contacts.c.id > after_id).order_by(contacts.c.id).limit(limit)
        if not viewer.is_boss:
            seen = (
                select(deals.c.id)
                .select_from(deals.join(stages, stages.c.id == deals.c.stage_id))
                .where(deals.c.contact_id == contacts.c.id, seller_scope(viewer.id))
            )
            stmt = stmt.where(exists(seen))
        matches = []
        if name_key:
            matches.append(contacts.c.name_key.contains(name_key, autoescape=True))
        if phone_digits:
            matches.append(contacts.c.phone_rev.startswith(phone_digits[::-1], autoescape=True))
        if matches:
            stmt = stmt.where(or_(*matches))
        rows = await self.conn.execute(stmt)
        return [Contact(id=r.id, name=r.name, phone=r.phone, company=r.company) for r in rows]

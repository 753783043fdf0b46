"""Web forms and their leads: a lead makes or joins a deal in the form's pipeline inbox, as a call does.

A lead is matched by phone as a call is (the customer's first open deal, ``joined_deal``); a new one
opens in the inbox of the form's pipeline, owned by the form's owner or nobody. Its message and e-mail
become a note; its owner is told, or every active boss when the deal has none (as for an unowned call).
"""

from __future__ import annotations

from collections.abc import Mapping

from crm_core.domain.deals import Deal, Source
from crm_core.domain.errors import Duplicate, NotFound, StaleVersion
from crm_core.domain.history import Actor, DealEvent, EventKind
from crm_core.domain.notifications import Notification, WebLead
from crm_core.domain.phones import to_e164
from crm_core.domain.users import Role, User, valid_name
from crm_core.domain.values import valid_note
from crm_core.domain.web_forms import (
    FormNotFound,
    Lead,
    LeadTaken,
    WebForm,
    lead_note,
    new_form_key,
    valid_email,
    valid_form_name,
)
from crm_core.services.base import find_pipeline
from crm_core.services.call_deals import joined_deal
from crm_core.services.deal_fields import DealFieldEdits, deal_field_values, field_by_key
from crm_core.services.unit_of_work import UnitOfWork

MAX_KEY = 64
ATTEMPTS = 4  # leads of one number at once: each pass after a clash joins what the others wrote


class WebFormService(DealFieldEdits):
    """The forms (set up from the CLI, as an admin) and the leads posted through them."""

    async def create(
        self, *, name: str, pipeline: str | int | None = None, owner_telegram_id: int | None = None
    ) -> WebForm:
        """A new form with a fresh key; its leads go to ``pipeline`` (default one) and ``owner``."""
        clean = valid_form_name(name)
        async with self.db.uow() as uow:
            funnel = await find_pipeline(uow, pipeline) if pipeline is not None else None
            owner = None
            if owner_telegram_id is not None:
                owner = await uow.users.by_telegram_id(owner_telegram_id)
                if owner is None or not owner.active:
                    raise NotFound("user", owner_telegram_id)
            form = await uow.web_forms.add(
                name=clean,
                key=new_form_key(),
                pipeline_id=funnel.id if funnel else None,
                owner_id=owner.id if owner else None,
                at=self.now(),
            )
            await uow.commit()
        return form

    async def forms(self) -> list[WebForm]:
        async with self.db.uow(write=False) as uow:
            return await uow.web_forms.list()

    async def remove(self, *, form_id: int) -> None:
        """Remove a form: its key stops working; the deals it made stay."""
        async with self.db.uow() as uow:
            if not await uow.web_forms.remove(form_id):
                raise NotFound("form", form_id)
            await uow.commit()

    async def take_lead(self, *, key: str, lead: Lead) -> LeadTaken:
        """Make or join the lead's deal; bad input changes nothing (``InvalidInput`` names the field)."""
        name = valid_name(lead.name)
        e164 = (
            to_e164(lead.phone, region=self.config.default_region)
            if lead.phone and lead.phone.strip()
            else None
        )
        email = valid_email(lead.email) if lead.email and lead.email.strip() else None
        for attempt in range(ATTEMPTS):
            try:
                return await self._take(key, lead, name=name, phone=e164, email=email)
            except (Duplicate, StaleVersion):
                # The same number came in meanwhile (another lead, a call) and made its contact or
                # changed its deal: the next pass finds them and joins the deal as it is now.
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _take(
        self, key: str, lead: Lead, *, name: str, phone: str | None, email: str | None
    ) -> LeadTaken:
        e164, now = phone, self.now()
        async with self.db.uow() as uow:
            form = await uow.web_forms.by_key(key) if 0 < len(key) <= MAX_KEY else None
            if form is None:
                raise FormNotFound("form", key[:MAX_KEY])
            who = Actor.system_because(f"web form {form.id}: {form.name}"[:100])
            contact = await uow.contacts.by_phone(e164) if e164 else None
            deal = await joined_deal(uow, contact)
            created = deal is None
            if deal is None:
                deal = await self._new_deal(uow, form, name=name, phone=e164, who=who)
            elif deal.contact is not None and not deal.contact.name:
                deal.contact.name = name
                await uow.contacts.save(deal.contact)
            history: list[DealEvent] = []
            if lead.fields:
                history += await self.write_fields(
                    uow, deal, await self._changed(uow, deal, lead.fields), now=now, who=who
                )
            deal.touch(now)
            text = valid_note(lead_note(form, lead, email))
            history.append(DealEvent.new(deal, EventKind.NOTE, now, who, text=text))
            await uow.events.add(*history)
            await uow.deals.save(deal)
            await self._tell(uow, deal, form, created=created)
            await uow.commit()
        return LeadTaken(deal.id, created)

    async def _new_deal(
        self, uow: UnitOfWork, form: WebForm, *, name: str, phone: str | None, who: Actor
    ) -> Deal:
        now = self.now()
        funnel = await find_pipeline(uow, form.pipeline_id)
        owner = await uow.users.get(form.owner_id) if form.owner_id is not None else None
        contact = await uow.contacts.by_phone(phone) if phone else None
        if contact is None:
            contact = await uow.contacts.add(name=name, phone=phone, company=None, at=now)
        deal = Deal.start(
            pipeline=funnel,
            title=name,
            currency=self.config.default_currency,
            at=now,
            source=Source.WEB_FORM,
            contact=contact,
            owner=owner if owner is not None and owner.active else None,
        )
        await uow.deals.add(deal)
        await uow.events.add(deal.created_event(who))
        return deal

    async def _changed(self, uow: UnitOfWork, deal: Deal, fields: Mapping[str, str]) -> dict[str, str]:
        """The lead's fields that would change the deal (a joined deal may hold them already); every one
        is checked, so that a bad value is refused even when it would change nothing."""
        defs = await uow.fields.definitions()
        current = await deal_field_values(uow, deal)
        changed = {}
        for key, raw in fields.items():
            definition = field_by_key(defs, key)
            values = definition.parse(raw, region=self.config.default_region) if raw.strip() else ()
            if current.get(definition.key, ()) != values:
                changed[key] = raw
        return changed

    async def _tell(self, uow: UnitOfWork, deal: Deal, form: WebForm, *, created: bool) -> None:
        """Tell the deal's owner, or every active boss when it has none."""
        payload = WebLead(deal_id=deal.id, form_name=form.name, created=created)
        owner: User | None = deal.owner
        recipients = [owner] if owner is not None else await uow.users.list(role=Role.BOSS, active=True)
        for user in recipients:
            await uow.outbox.put(Notification(user.id, payload), at=self.now())

"""Web-form leads on the real database: they make or join a deal by phone as calls do, in the form's
pipeline, tell its owner or the bosses, and bad input or a wrong key changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.domain.deals import Source
from crm_core.domain.errors import InvalidInput
from crm_core.domain.history import EventKind
from crm_core.domain.notifications import NoteKind
from crm_core.domain.web_forms import FormNotFound, Lead
from crm_core.services import Crm
from tests.integration.support import Team, deal_count, outbox
from tests.support.funnels import two_funnels


async def notes_of(crm: Crm, deal_id: int) -> list[str]:
    async with crm.db.uow(write=False) as uow:
        return [e.data["text"] for e in await uow.events.history(deal_id) if e.kind is EventKind.NOTE]


async def test_a_lead_from_a_number_that_called_joins_the_calls_deal(crm: Crm, team: Team) -> None:
    at = crm.clock.now()
    call = await crm.calls.ingest_call(
        CallEvent(
            call_id="c1",
            provider="asterisk",
            direction=CallDirection.INBOUND,
            status=CallStatus.MISSED,
            caller="+74951234567",
            dialed="+74950000000",
            started_at=at,
            rang=("101",),
            ended_at=at + timedelta(seconds=20),
        )
    )
    form = await crm.web_forms.create(name="Website")

    taken = await crm.web_forms.take_lead(
        key=form.key, lead=Lead(name="Anna", phone="8 495 123-45-67", message="Call me back")
    )

    assert (taken.deal_id, taken.created) == (call.deal_id, False)
    assert await deal_count(crm) == 1
    deal = await crm.deals.get(deal_id=taken.deal_id, actor=team.boss)
    assert deal.owner_id == team.alice.id and deal.contact is not None and deal.contact.name == "Anna"
    leads = [n for n in await outbox(crm) if n["kind"] == NoteKind.WEB_LEAD]
    assert [(n["recipient_id"], n["payload"]["created"]) for n in leads] == [(team.alice.id, False)]


async def test_a_new_lead_opens_in_the_forms_pipeline_inbox_owned_by_its_owner(crm: Crm, team: Team) -> None:
    _sales, renewals = await two_funnels(crm)
    form = await crm.web_forms.create(
        name="Website", pipeline="Renewals", owner_telegram_id=team.bob.telegram_id
    )

    taken = await crm.web_forms.take_lead(key=form.key, lead=Lead(name="Dana", email="dana@example.com"))

    deal = await crm.deals.get(deal_id=taken.deal_id, actor=team.boss)
    assert taken.created and deal.owner_id == team.bob.id and deal.source is Source.WEB_FORM
    assert (deal.pipeline_id, deal.stage.id, deal.title) == (renewals.id, renewals.inbox.id, "Dana")
    assert await notes_of(crm, deal.id) == ["Web form «Website»: Dana\nE-mail: dana@example.com"]


async def test_an_unowned_lead_tells_every_boss(crm: Crm, team: Team) -> None:
    form = await crm.web_forms.create(name="Website")

    await crm.web_forms.take_lead(key=form.key, lead=Lead(name="Eve", phone="+79161112233"))

    leads = [n for n in await outbox(crm) if n["kind"] == NoteKind.WEB_LEAD]
    assert [n["recipient_id"] for n in leads] == [team.boss.id]


async def test_bad_input_or_a_wrong_key_changes_nothing(crm: Crm, team: Team) -> None:
    form = await crm.web_forms.create(name="Website")

    with pytest.raises(InvalidInput) as bad_phone:
        await crm.web_forms.take_lead(key=form.key, lead=Lead(name="Anna", phone="nope"))
    with pytest.raises(InvalidInput) as bad_field:
        await crm.web_forms.take_lead(key=form.key, lead=Lead(name="Anna", fields={"colour": "red"}))
    with pytest.raises(FormNotFound):
        await crm.web_forms.take_lead(key="wrong", lead=Lead(name="Anna"))

    assert (bad_phone.value.field, bad_field.value.field) == ("phone", "field")
    assert await deal_count(crm) == 0 and await outbox(crm) == []


async def test_leads_from_one_new_number_at_once_make_one_deal(crm: Crm, team: Team) -> None:
    form = await crm.web_forms.create(name="Website")

    taken = await asyncio.gather(
        *(
            crm.web_forms.take_lead(key=form.key, lead=Lead(name="Rush", phone="+79165550000"))
            for _ in range(3)
        )
    )

    assert len({t.deal_id for t in taken}) == 1 and sorted(t.created for t in taken) == [False, False, True]
    assert await deal_count(crm) == 1

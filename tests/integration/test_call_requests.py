"""Calls placed from the card: who may call whom, from which extension, and a request's life until the
PBX placed it or refused it (kept in the database, so a restart loses none)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from crm_core.config import CrmConfig
from crm_core.domain.dialing import CallRefused, DialStatus, Refusal
from crm_core.domain.errors import NotFound
from crm_core.services import Crm
from tests.integration.support import Team, outbox
from tests.integration.test_ingest_call import CUSTOMER, MISSED, call

BLOCKED = "+74950000000"
OTHER = "+74957654321"  # the customer's office line, put on the deal after their mobile called


@pytest.fixture
def crm_config() -> CrmConfig:
    return CrmConfig(
        default_region="RU", default_currency="RUB", places_calls=True, blocked_numbers=frozenset({BLOCKED})
    )


async def test_a_seller_asks_to_call_their_customer_from_their_own_extension(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(
        actor=team.alice, title="ACME", contact_name="Ivan", phone="8 495 123-45-67"
    )
    request = await crm.dialing.request(deal_id=deal.id, actor=team.alice)
    assert (request.extension, request.number, request.customer_name) == ("101", "+74951234567", "Ivan")
    assert request.status is DialStatus.PENDING
    again = await crm.dialing.request(deal_id=deal.id, actor=team.alice)
    assert again.id == request.id  # a second press while the first waits places no second call


async def test_a_request_survives_until_the_pbx_places_it_and_is_claimed_once(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="ACME", phone="+74951234567")
    request = await crm.dialing.request(deal_id=deal.id, actor=team.alice)
    other = Crm(crm.db, clock=crm.clock, config=crm.config)  # as after a restart, or another process
    [claimed] = await other.dialing.claim()
    assert claimed.id == request.id
    assert await crm.dialing.claim() == []  # held by the first claimer
    crm.clock.advance(timedelta(seconds=61))  # type: ignore[attr-defined]
    [again] = await crm.dialing.claim()  # the claimer died before placing it: taken over
    assert again.id == request.id
    placed = await crm.dialing.placed(request_id=request.id, external_id="1700000000.5")
    assert placed.status is DialStatus.PLACED
    assert await crm.dialing.claim() == []


async def test_a_pbx_refusal_is_told_to_the_seller_once(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="ACME", phone="+74951234567")
    request = await crm.dialing.request(deal_id=deal.id, actor=team.alice)
    await crm.dialing.refused(request_id=request.id, reason=Refusal.PBX_UNREACHABLE, detail="timed out")
    await crm.dialing.refused(request_id=request.id, reason=Refusal.PBX_REFUSED)
    notes = [n for n in await outbox(crm) if n["kind"] == "call_not_placed"]
    assert len(notes) == 1
    assert notes[0]["payload"]["reason"] == "pbx_unreachable"
    assert (await crm.dialing.get(request_id=request.id, actor=team.alice)).refusal is Refusal.PBX_UNREACHABLE


async def test_a_request_nobody_placed_in_time_is_refused_as_expired(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="ACME", phone="+74951234567")
    request = await crm.dialing.request(deal_id=deal.id, actor=team.alice)
    crm.clock.advance(timedelta(minutes=11))  # type: ignore[attr-defined]
    assert await crm.dialing.claim() == []
    assert (await crm.dialing.get(request_id=request.id, actor=team.alice)).refusal is Refusal.EXPIRED


@pytest.mark.parametrize(
    ("who", "phone", "reason"),
    [
        ("carol", "+74951234567", Refusal.NO_EXTENSION),
        ("alice", None, Refusal.NO_NUMBER),
        ("alice", BLOCKED, Refusal.BLOCKED_NUMBER),
    ],
)
async def test_a_call_that_cannot_be_placed_is_refused_at_once_and_nothing_is_queued(
    crm: Crm, team: Team, who: str, phone: str | None, reason: Refusal
) -> None:
    seller = getattr(team, who)
    deal = await crm.deals.create(actor=seller, title="ACME", phone=phone)
    with pytest.raises(CallRefused) as refused:
        await crm.dialing.request(deal_id=deal.id, actor=seller)
    assert refused.value.reason is reason
    assert await crm.dialing.claim() == []


async def test_no_call_is_placed_without_a_pbx_that_places_calls(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="ACME", phone="+74951234567")
    without = Crm(crm.db, clock=crm.clock, config=dataclasses.replace(crm.config, places_calls=False))
    with pytest.raises(CallRefused) as refused:
        await without.dialing.request(deal_id=deal.id, actor=team.alice)
    assert refused.value.reason is Refusal.NO_PBX


async def test_a_seller_cannot_call_another_sellers_customer(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="ACME", phone="+74951234567")
    with pytest.raises(NotFound):
        await crm.dialing.request(deal_id=deal.id, actor=team.bob)
    assert await crm.dialing.claim() == []


async def test_a_call_back_task_of_another_deal_is_not_found(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="ACME", phone="+74951234567")
    with pytest.raises(NotFound):
        await crm.dialing.request(deal_id=deal.id, actor=team.alice, task_id=999)


async def test_call_on_a_call_back_task_dials_the_number_that_called_not_the_deals_contact(
    crm: Crm, team: Team
) -> None:
    missed = await crm.calls.ingest_call(call("m1", crm.clock.now(), status=MISSED))
    assert missed.deal_id is not None
    [task] = await crm.tasks.open_tasks(actor=team.alice)
    await crm.deals.edit(deal_id=missed.deal_id, field="phone", value=OTHER, actor=team.alice)
    by_task = await crm.dialing.request(deal_id=missed.deal_id, actor=team.alice, task_id=task.id)
    assert (by_task.number, by_task.task_id) == (CUSTOMER, task.id)
    by_card = await crm.dialing.request(deal_id=missed.deal_id, actor=team.alice)
    assert by_card.number == OTHER and by_card.id != by_task.id  # another number: another call
    again = await crm.dialing.request(deal_id=missed.deal_id, actor=team.alice, task_id=task.id)
    assert again.id == by_task.id  # the task's call still waits: no second one


@pytest.mark.parametrize("request_id", [0, -1, 2**31, 2**64])
async def test_an_outcome_for_an_id_no_request_can_have_is_not_found(crm: Crm, request_id: int) -> None:
    with pytest.raises(NotFound):
        await crm.dialing.placed(request_id=request_id, external_id="x")
    with pytest.raises(NotFound):
        await crm.dialing.refused(request_id=request_id, reason=Refusal.PBX_REFUSED)

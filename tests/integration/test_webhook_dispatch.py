"""The webhook dispatcher on the real database: it reads what the CRM wrote by cursor, enqueues one
delivery per (endpoint, event) once, keeps each deal's queue in order, and retries then gives up."""

from __future__ import annotations

from datetime import timedelta

from crm_core.domain.webhooks import DeliveryStatus
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.support import Team

URL = "https://erp.example.com/kanbot"


async def deliveries(crm: Crm, team: Team) -> list[tuple[str, int]]:
    """(event, subject id) of every delivery, oldest first."""
    return [(d.event, d.subject_id) for d in reversed(await crm.webhooks.log(actor=team.boss, limit=1000))]


async def test_what_happened_before_the_first_dispatch_is_not_sent(crm: Crm, team: Team) -> None:
    await crm.webhooks.add(actor=team.boss, url=URL, events="deal.created")
    await crm.deals.create(actor=team.alice, title="Old news")

    assert await crm.webhooks.dispatch() == 0
    fresh = await crm.deals.create(actor=team.alice, title="Fresh")

    assert await crm.webhooks.dispatch() == 1
    assert await crm.webhooks.dispatch() == 0  # the cursor moved on with it: nothing twice
    assert await deliveries(crm, team) == [("deal.created", fresh.id)]


async def test_each_endpoint_gets_only_its_events(crm: Crm, team: Team) -> None:
    await crm.webhooks.dispatch()
    won = await crm.webhooks.add(actor=team.boss, url=URL, events="deal.won")
    every = await crm.webhooks.add(actor=team.boss, url=URL + "/all", events="deal.created,deal.won")
    deal = await crm.deals.create(actor=team.alice, title="ACME", stage="Opportunity")
    await crm.deals.mark_won(deal_id=deal.id, actor=team.alice)

    assert await crm.webhooks.dispatch() == 3
    queued = sorted((d.endpoint_id, d.event) for d in await crm.webhooks.log(actor=team.boss))
    assert queued == [(won.id, "deal.won"), (every.id, "deal.created"), (every.id, "deal.won")]
    assert await crm.webhooks.due(endpoint_id=won.id) == []  # the deal is not rendered yet
    assert [subject for _, subject in await crm.webhooks.unrendered()] == [deal.id] * 3


async def test_a_deals_queue_holds_its_next_delivery_until_the_first_is_settled(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await crm.webhooks.dispatch()
    hook = await crm.webhooks.add(actor=team.boss, url=URL, events="deal.created,deal.moved")
    first = await crm.deals.create(actor=team.alice, title="First", stage="Opportunity")
    second = await crm.deals.create(actor=team.alice, title="Second")
    await crm.deals.move(deal_id=first.id, to_stage="Commercial offer", actor=team.alice)
    await crm.webhooks.dispatch()
    await crm.webhooks.fill(
        {delivery_id: {"id": deal} for delivery_id, deal in await crm.webhooks.unrendered()}
    )

    heads = await crm.webhooks.due(endpoint_id=hook.id)
    assert [(d.event, d.subject_id) for d in heads] == [
        ("deal.created", first.id),
        ("deal.created", second.id),
    ]

    given_up = await crm.webhooks.not_delivered(heads[0], error="HTTP 503", backoff=timedelta(seconds=10))
    assert not given_up
    assert [d.subject_id for d in await crm.webhooks.due(endpoint_id=hook.id)] == [second.id]
    clock.advance(timedelta(seconds=10))
    [again, _] = await crm.webhooks.due(endpoint_id=hook.id)
    assert (again.id, again.attempts, again.last_error) == (heads[0].id, 1, "HTTP 503")

    await crm.webhooks.delivered(again)
    assert [(d.event, d.subject_id) for d in await crm.webhooks.due(endpoint_id=hook.id)] == [
        ("deal.created", second.id),
        ("deal.moved", first.id),
    ]


async def test_a_delivery_still_refused_after_24_hours_is_failed(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await crm.webhooks.dispatch()
    hook = await crm.webhooks.add(actor=team.boss, url=URL, events="deal.created")
    await crm.deals.create(actor=team.alice, title="Never taken")
    await crm.webhooks.dispatch()
    await crm.webhooks.fill(
        {delivery_id: {"id": deal} for delivery_id, deal in await crm.webhooks.unrendered()}
    )
    [pending] = await crm.webhooks.due(endpoint_id=hook.id)

    clock.advance(timedelta(hours=24))
    assert await crm.webhooks.not_delivered(pending, error="ConnectionRefused", backoff=timedelta(seconds=10))

    [failed] = await crm.webhooks.log(actor=team.boss, failed_only=True)
    assert (failed.id, failed.status, failed.last_error) == (
        pending.id,
        DeliveryStatus.FAILED,
        "ConnectionRefused",
    )
    assert await crm.webhooks.due(endpoint_id=hook.id) == []


async def test_rows_younger_than_the_settle_time_wait_with_all_after_them(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await crm.webhooks.dispatch()
    await crm.webhooks.add(actor=team.boss, url=URL, events="contact.created")
    await crm.deals.create(actor=team.alice, title="A", contact_name="Ivan", phone="+7 495 111-22-33")
    clock.advance(timedelta(seconds=1))
    await crm.deals.create(actor=team.alice, title="B", contact_name="Petr", phone="+7 495 444-55-66")

    assert await crm.webhooks.dispatch(settle=timedelta(seconds=1)) == 1  # Ivan; Petr is a second old

    clock.advance(timedelta(seconds=1))
    assert await crm.webhooks.dispatch(settle=timedelta(seconds=1)) == 1
    assert [e for e, _ in await deliveries(crm, team)] == ["contact.created", "contact.created"]


async def test_sent_deliveries_are_forgotten_after_30_days_and_failed_ones_kept(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await crm.webhooks.dispatch()
    hook = await crm.webhooks.add(actor=team.boss, url=URL, events="deal.created")
    await crm.deals.create(actor=team.alice, title="Taken")
    await crm.deals.create(actor=team.alice, title="Never taken")
    await crm.webhooks.dispatch()
    await crm.webhooks.fill(
        {delivery_id: {"id": deal} for delivery_id, deal in await crm.webhooks.unrendered()}
    )
    taken, refused = await crm.webhooks.due(endpoint_id=hook.id)
    await crm.webhooks.delivered(taken)
    clock.advance(timedelta(hours=25))
    await crm.webhooks.not_delivered(refused, error="HTTP 500", backoff=timedelta(seconds=10))

    clock.advance(timedelta(days=28))  # the sent one is 29 days and an hour old
    assert await crm.webhooks.prune() == 0
    clock.advance(timedelta(days=1))
    assert await crm.webhooks.prune() == 1

    assert [d.id for d in await crm.webhooks.log(actor=team.boss)] == [refused.id]

"""Outgoing webhooks end to end: what the team does reaches another system once, signed, in order per
deal, even when that system was down for a while; what it never takes is failed after 24 hours."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from crm_core.domain.webhooks import EVENTS
from crm_core.services import Crm
from kanbot.cli.render import shown_deal_json
from telephony_bridge.signing import HEADER, verify
from tests.cli.support import Kanbot as Cli
from tests.e2e.harness import ALI, BOSS, MARIA, RunningKanbot, call_body, post_call
from tests.webhooks.receiver import SECRET, Receiver, settled


async def listen(crm: Crm, receiver: Receiver, events: tuple[str, ...] = EVENTS) -> int:
    """Register the receiver for ``events``; from then on (the dispatcher's start), it hears of them."""
    await crm.webhooks.dispatch()  # the sources' cursors start at their ends now
    boss = await crm.users.identify(BOSS)
    endpoint = await crm.webhooks.add(actor=boss, url=receiver.url, events=list(events), secret=SECRET)
    return endpoint.id


def per_deal(receiver: Receiver) -> dict[int, list[tuple[int, str]]]:
    """(delivery id, event) of each deal's deliveries, in the order the receiver took them."""
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for delivery_id, event, data in receiver.events():
        deal_id = data["id"] if event.startswith("deal.") else data.get("deal_id")
        if deal_id is not None:
            found[deal_id].append((delivery_id, event))
    return found


async def a_deals_life(crm: Crm) -> int:
    """Ali's deal from creation to lost, through every kind of change an endpoint hears of."""
    ali, boss = await crm.users.identify(ALI), await crm.users.identify(BOSS)
    deal = await crm.deals.create(
        actor=ali, title="ACME phones", contact_name="Ivan", phone="+7 495 765-43-21"
    )
    await crm.deals.move(deal_id=deal.id, to_stage="Opportunity", actor=ali)
    await crm.deals.edit(deal_id=deal.id, field="title", value="ACME: 20 IP phones", actor=ali)
    await crm.deals.reassign(deal_id=deal.id, owner_telegram_id=MARIA, actor=boss)
    task = await crm.tasks.add(
        deal_id=deal.id, due_at=crm.clock.now() + timedelta(days=1), text="Send the offer", actor=boss
    )
    await crm.tasks.complete(task_id=task.id, actor=boss)
    await crm.deals.mark_won(deal_id=deal.id, actor=boss)
    await crm.deals.reopen(deal_id=deal.id, actor=boss)
    await crm.deals.mark_lost(deal_id=deal.id, reason="Price", actor=boss)
    return deal.id


LIFE = [
    "deal.created",
    "deal.moved",
    "deal.updated",
    "deal.assigned",
    "task.created",
    "task.done",
    "deal.won",
    "deal.reopened",
    "deal.lost",
]


async def test_a_receiver_gets_each_event_once_signed_and_in_order_per_deal(
    crm: Crm, kanbot: RunningKanbot, receiver: Receiver
) -> None:
    await listen(crm, receiver)

    deal_id = await a_deals_life(crm)
    await post_call(kanbot.http_url, call_body("hook-call-1"))  # a missed call from a new number

    def everything_came() -> bool:
        events = [e for _, e, _ in receiver.events()]
        return len(per_deal(receiver)[deal_id]) == len(LIFE) and "call.ingested" in events

    await receiver.until(everything_came)

    for got in receiver.received:
        verify(got.body, got.headers[HEADER], SECRET)  # raises unless signed with the endpoint's secret
        assert got.headers["X-Kanbot-Event"] == got.document["event"]
        assert got.headers["X-Kanbot-Delivery"] == str(got.document["id"])
        assert set(got.document) == {"id", "event", "occurred_at", "data"}
    ids = [delivery_id for delivery_id, _, _ in receiver.events()]
    assert len(ids) == len(set(ids)), "a delivery came twice"
    assert [event for _, event in per_deal(receiver)[deal_id]] == LIFE
    events = [event for _, event, _ in receiver.events()]
    assert events.count("contact.created") == 2  # Ivan, and the caller
    call_deal = next(d for _, e, d in receiver.events() if e == "call.ingested")["deal_id"]
    assert [e for _, e in per_deal(receiver)[call_deal]] == ["deal.created", "task.created", "call.ingested"]
    # The deal as the API (and `kanbot deal show --json`) shows it when the event is dispatched.
    created = next(d for _, e, d in receiver.events() if e == "deal.created" and d["id"] == deal_id)
    assert created["contact"] == {"name": "Ivan", "phone": "+74957654321"}
    lost = next(d for _, e, d in receiver.events() if e == "deal.lost")
    assert lost == await shown_deal_json(crm, await crm.users.identify(BOSS), deal_id)
    assert lost["stage"]["kind"] == "lost" and lost["lost_reason"] == "Price"
    assert lost["owner"]["telegram_id"] == MARIA


async def test_a_receiver_down_for_a_while_gets_everything_once_when_it_is_back(
    crm: Crm, kanbot: RunningKanbot, receiver: Receiver
) -> None:
    await listen(crm, receiver, ("deal.created", "deal.moved", "deal.won"))
    ali = await crm.users.identify(ALI)
    receiver.answer = 503
    first = await crm.deals.create(actor=ali, title="Globex PBX")
    await receiver.until(lambda: receiver.refused >= 2)  # tried, refused, tried again
    await receiver.close()  # now nothing listens at all
    await crm.deals.move(deal_id=first.id, to_stage="Opportunity", actor=ali)
    second = await crm.deals.create(actor=ali, title="Initech headsets")
    await crm.deals.mark_won(deal_id=first.id, actor=ali)

    boss = await crm.users.identify(BOSS)

    async def connection_refused() -> bool:
        return any("Connect" in (d.last_error or "") for d in await crm.webhooks.log(actor=boss))

    await settled(connection_refused, what="an attempt at the closed port")
    receiver.answer = 200
    await receiver.open()

    await receiver.until(lambda: len(receiver.received) == 4)

    ids = [delivery_id for delivery_id, _, _ in receiver.events()]
    assert len(ids) == len(set(ids)) == 4
    deals = per_deal(receiver)
    assert [e for _, e in deals[first.id]] == ["deal.created", "deal.moved", "deal.won"]
    assert [e for _, e in deals[second.id]] == ["deal.created"]

    async def all_sent() -> bool:
        return {d.status.value for d in await crm.webhooks.log(actor=boss)} == {"sent"}

    await settled(all_sent, what="the deliveries to be noted as sent")
    log = await crm.webhooks.log(actor=boss)
    assert max(d.attempts for d in log) >= 2


async def test_a_delivery_never_taken_is_failed_after_24_hours_and_listed_by_hooks_log(
    crm: Crm, kanbot: RunningKanbot, receiver: Receiver, database_url: str
) -> None:
    await listen(crm, receiver, ("deal.created",))
    boss = await crm.users.identify(BOSS)
    receiver.answer = 503
    deal = await crm.deals.create(actor=boss, title="Umbrella lab phones")
    await receiver.until(lambda: receiver.refused >= 1)

    kanbot.let_time_pass(timedelta(hours=24, minutes=1))

    async def failed() -> bool:
        return bool(await crm.webhooks.log(actor=boss, failed_only=True))

    await settled(failed, what="the delivery to be failed")
    [gone] = await crm.webhooks.log(actor=boss, failed_only=True)
    assert gone.event == "deal.created" and gone.data["id"] == deal.id  # type: ignore[index]
    assert gone.last_error == "HTTP 503"
    listed = await asyncio.to_thread(Cli(database_url).json, "hooks", "log", "--failed")
    assert [(d["id"], d["event"], d["status"]) for d in listed] == [(gone.id, "deal.created", "failed")]
    assert listed[0]["last_error"] == "HTTP 503"
    # A failed delivery does not hold the deal's queue: what comes next is sent once the receiver is up.
    receiver.answer = 200
    before = datetime.now(UTC)
    await crm.webhooks.test(actor=boss, endpoint_id=gone.endpoint_id)
    await receiver.until(lambda: any(e == "ping" for _, e, _ in receiver.events()))
    assert datetime.now(UTC) - before < timedelta(seconds=30)

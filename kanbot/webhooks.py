"""The sender of outgoing webhooks: it runs while this process leads, beside the outbox delivery.

Each pass dispatches (the core enqueues what happened), renders the deals as the API shows them, and
sends what is due, each endpoint on its own task with its own HTTP session and timeouts: a slow or
dead endpoint delays only its own queue, never the chat, the calls or the other endpoints. A delivery
goes out at least once (a crash between the 2xx and its note sends it again; the ``X-Kanbot-Delivery``
id tells a receiver it saw it), one at a time per endpoint and deal, so in order per deal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp

from crm_core.domain.errors import NotFound
from crm_core.domain.users import Role, User
from crm_core.domain.webhooks import Delivery
from crm_core.services import Crm
from kanbot.cli.render import shown_deal_json
from telephony_bridge.signing import HEADER, sign

log = logging.getLogger(__name__)
ADMIN = User(id=0, telegram_id=0, name="admin", role=Role.BOSS)  # the command line's and the sender's
EVENT_HEADER = "X-Kanbot-Event"
DELIVERY_HEADER = "X-Kanbot-Delivery"
PER_ENDPOINT = 4  # deliveries in flight to one endpoint at once (of different deals)


def body_of(delivery: Delivery) -> bytes:
    """The JSON body of a delivery: ``{"id", "event", "occurred_at", "data"}``."""
    document = {
        "id": delivery.id,
        "event": delivery.event,
        "occurred_at": delivery.occurred_at.isoformat(),
        "data": delivery.data,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


async def render_deals(crm: Crm) -> int:
    """Render the deals of the deliveries just queued, as ``kanbot deal show --json`` shows them."""
    waiting = await crm.webhooks.unrendered()
    shown: dict[int, object] = {}
    for _, deal_id in waiting:
        if deal_id not in shown:
            try:
                shown[deal_id] = await shown_deal_json(crm, ADMIN, deal_id)
            except NotFound:  # deleted since: the receiver still learns which deal it was
                shown[deal_id] = {"id": deal_id}
    if waiting:
        await crm.webhooks.fill({delivery_id: shown[deal_id] for delivery_id, deal_id in waiting})
    return len(waiting)


@dataclass
class WebhookSender:
    crm: Crm
    poll_s: float = 1.0
    backoff: timedelta = timedelta(seconds=10)
    timeout_s: float = 10.0
    settle: timedelta = timedelta(0)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    _workers: dict[int, asyncio.Task[None]] = field(default_factory=dict)

    async def run(self, until: asyncio.Event) -> None:
        """Dispatch, render and send until ``until``; a failing pass is logged and tried again."""
        timeout = aiohttp.ClientTimeout(total=self.timeout_s, connect=min(self.timeout_s, 5.0))
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while not until.is_set():
                try:
                    await self.pass_once(http)
                except Exception:
                    log.exception("webhooks: a pass failed; trying again")
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_either(until, self.wake), timeout=self.poll_s)
            for worker in self._workers.values():
                worker.cancel()
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def pass_once(self, http: aiohttp.ClientSession) -> None:
        await self.crm.webhooks.dispatch(settle=self.settle)
        await render_deals(self.crm)
        for endpoint in await self.crm.webhooks.endpoints(actor=ADMIN):
            busy = self._workers.get(endpoint.id)
            if busy is not None and not busy.done():
                continue  # still sending its previous batch: the next waits its turn
            deliveries = await self.crm.webhooks.due(endpoint_id=endpoint.id)
            if deliveries:
                self._workers[endpoint.id] = asyncio.create_task(
                    self._send_all(http, endpoint.secret, deliveries), name=f"webhook-{endpoint.id}"
                )

    async def _send_all(self, http: aiohttp.ClientSession, secret: str, deliveries: list[Delivery]) -> None:
        limit = asyncio.Semaphore(PER_ENDPOINT)

        async def one(delivery: Delivery) -> None:
            async with limit:
                await self.send(http, secret, delivery)

        await asyncio.gather(*(one(d) for d in deliveries), return_exceptions=True)
        self.wake.set()  # the next in each deal's queue may go at once

    async def send(self, http: aiohttp.ClientSession, secret: str, delivery: Delivery) -> bool:
        """Post one delivery, signed; note the outcome. Whether the endpoint took it."""
        body = body_of(delivery)
        headers = {
            "Content-Type": "application/json",
            HEADER: sign(body, secret),  # the wall clock's time: the receiver checks it against its own
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: str(delivery.id),
            "User-Agent": "Kanbot-Webhooks/1",
        }
        try:
            async with http.post(delivery.url, data=body, headers=headers, allow_redirects=False) as answer:
                if 200 <= answer.status < 300:
                    await self.crm.webhooks.delivered(delivery)
                    return True
                error = f"HTTP {answer.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as failure:
            error = f"{type(failure).__name__}: {failure}"[:300]
        if await self.crm.webhooks.not_delivered(delivery, error=error, backoff=self.backoff):
            log.warning("webhook %s to %s failed for good: %s", delivery.id, delivery.url, error)
        return False


async def _either(first: asyncio.Event, second: asyncio.Event) -> None:
    waits = [asyncio.create_task(first.wait()), asyncio.create_task(second.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()

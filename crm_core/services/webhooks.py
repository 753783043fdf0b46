"""Outgoing webhooks: endpoints a boss registers, a dispatcher that reads what the CRM already wrote,
and the bookkeeping of the deliveries a sender (an edge with an HTTP client) carries out.

The dispatcher stays out of every other service: it reads the deals' history, the contacts, the tasks
and the calls by id from a cursor kept in the database, and enqueues one delivery per (endpoint, event)
in the same transaction as it moves the cursor on, so nothing is enqueued twice or skipped.
"""

from __future__ import annotations

from datetime import timedelta

from crm_core.domain.errors import NotFound
from crm_core.domain.users import User
from crm_core.domain.webhooks import (
    GIVE_UP_AFTER,
    PING,
    SOURCES,
    Delivery,
    Endpoint,
    Happening,
    next_try,
    valid_events,
    valid_secret,
    valid_url,
)
from crm_core.services.base import ServiceBase, require_boss

BATCH = 200
KEEP_SENT = timedelta(days=30)  # how long a sent delivery stays in the log


class WebhookService(ServiceBase):
    async def add(
        self, *, actor: User, url: str, events: str | list[str], secret: str | None = None
    ) -> Endpoint:
        """Register an endpoint for some events (a boss or an admin); its secret signs every delivery."""
        require_boss(actor, "manage webhooks")
        clean_url, chosen, key = valid_url(url), valid_events(events), valid_secret(secret)
        async with self.db.uow() as uow:
            endpoint_id = await uow.webhooks.add_endpoint(
                url=clean_url, events=chosen, secret=key, at=self.now()
            )
            endpoint = await uow.webhooks.endpoint(endpoint_id)
            await uow.commit()
        assert endpoint is not None
        return endpoint

    async def endpoints(self, *, actor: User) -> list[Endpoint]:
        """The registered endpoints."""
        require_boss(actor, "manage webhooks")
        async with self.db.uow(write=False) as uow:
            return await uow.webhooks.endpoints()

    async def remove(self, *, actor: User, endpoint_id: int) -> Endpoint:
        """Stop sending to an endpoint; what still waits for it is failed."""
        require_boss(actor, "manage webhooks")
        async with self.db.uow() as uow:
            endpoint = await uow.webhooks.endpoint(endpoint_id)
            if endpoint is None:
                raise NotFound("webhook", endpoint_id)
            await uow.webhooks.remove_endpoint(endpoint_id, at=self.now())
            await uow.commit()
        return endpoint

    async def test(self, *, actor: User, endpoint_id: int) -> int:
        """Queue a ``ping`` delivery to an endpoint; its id."""
        require_boss(actor, "manage webhooks")
        now = self.now()
        async with self.db.uow() as uow:
            if await uow.webhooks.endpoint(endpoint_id) is None:
                raise NotFound("webhook", endpoint_id)
            ping = Happening(PING, f"ping:{endpoint_id}", endpoint_id, now, {"endpoint_id": endpoint_id})
            delivery_id = await uow.webhooks.enqueue(endpoint_id, ping, at=now)
            await uow.commit()
        return delivery_id

    async def log(self, *, actor: User, failed_only: bool = False, limit: int = 50) -> list[Delivery]:
        """The latest deliveries (or only the failed ones), newest first."""
        require_boss(actor, "manage webhooks")
        async with self.db.uow(write=False) as uow:
            return await uow.webhooks.log(failed_only=failed_only, limit=limit)

    async def dispatch(self, *, settle: timedelta = timedelta(0)) -> int:
        """Enqueue what happened since the last dispatch for the endpoints that listen; how many.

        The first dispatch starts at the tables' ends: endpoints hear of what happens from then on.
        ``settle``: rows younger than this wait for the next dispatch, and so do all after them. With
        several writers at once (PostgreSQL) a row may be committed after one with a higher id: the
        cursor must not pass it before it is there.
        """
        if not await self._news():
            return 0
        now, queued = self.now(), 0
        async with self.db.uow() as uow:
            endpoints = await uow.webhooks.endpoints()
            found: list[tuple[int, Happening]] = []
            for rank, source in enumerate(SOURCES):
                after = await uow.webhooks.cursor(source)
                if after is None:
                    await uow.webhooks.set_cursor(source, await uow.webhooks.last_id(source))
                    continue
                rows = await uow.webhooks.happenings(source, after_id=after, limit=BATCH)
                if settle:
                    young = next((i for i, (_, at, _) in enumerate(rows) if at > now - settle), len(rows))
                    rows = rows[:young]
                if rows:
                    await uow.webhooks.set_cursor(source, rows[-1][0])
                found += [(rank, h) for _, _, h in rows if h is not None]
            # Within a batch, by when it happened; at the same moment a deal's history before its tasks.
            for _, happening in sorted(found, key=lambda f: (f[1].occurred_at, f[0])):
                for endpoint in endpoints:
                    if happening.event in endpoint.events:
                        await uow.webhooks.enqueue(endpoint.id, happening, at=now)
                        queued += 1
            await uow.commit()
        return queued

    async def _news(self) -> bool:
        """Whether a source has rows past its cursor (or no cursor yet): read-only, so that a quiet
        CRM costs the writers nothing."""
        async with self.db.uow(write=False) as uow:
            for source in SOURCES:
                after = await uow.webhooks.cursor(source)
                if after is None or await uow.webhooks.last_id(source) > after:
                    return True
        return False

    async def unrendered(self, *, limit: int = BATCH) -> list[tuple[int, int]]:
        """Deliveries whose deal is to be rendered as the API shows it: (delivery id, deal id)."""
        async with self.db.uow(write=False) as uow:
            return await uow.webhooks.unrendered(limit=limit)

    async def fill(self, rendered: dict[int, object]) -> None:
        """Keep each delivery's rendered object (by delivery id): every attempt sends the same body."""
        async with self.db.uow() as uow:
            for delivery_id, data in rendered.items():
                await uow.webhooks.fill(delivery_id, data)
            await uow.commit()

    async def due(self, *, endpoint_id: int, limit: int = BATCH) -> list[Delivery]:
        """An endpoint's deliveries to try now: for each deal, the oldest one waiting, if due."""
        async with self.db.uow(write=False) as uow:
            return await uow.webhooks.due(endpoint_id, at=self.now(), limit=limit)

    async def delivered(self, delivery: Delivery) -> None:
        """The endpoint took the delivery (answered 2xx)."""
        async with self.db.uow() as uow:
            await uow.webhooks.sent(delivery.id, at=self.now())
            await uow.commit()

    async def not_delivered(self, delivery: Delivery, *, error: str, backoff: timedelta) -> bool:
        """The attempt failed: try again later, or give up past ``GIVE_UP_AFTER``; whether given up."""
        now = self.now()
        async with self.db.uow() as uow:
            if now - delivery.created_at >= GIVE_UP_AFTER:
                await uow.webhooks.fail(delivery.id, at=now, error=error)
                given_up = True
            else:
                at = next_try(delivery.attempts + 1, base=backoff, at=now)
                await uow.webhooks.retry(delivery.id, next_try_at=at, error=error)
                given_up = False
            await uow.commit()
        return given_up

    async def prune(self) -> int:
        """Forget the deliveries sent more than ``KEEP_SENT`` ago (the failed ones stay); how many."""
        async with self.db.uow(bookkeeping=True) as uow:
            gone = await uow.webhooks.prune(sent_before=self.now() - KEEP_SENT)
            await uow.commit()
        return gone

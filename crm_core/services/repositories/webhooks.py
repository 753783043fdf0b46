"""Outgoing webhooks: endpoints, the dispatcher's cursors, the deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from crm_core.domain.webhooks import Delivery, Endpoint, Happening


class Webhooks(Protocol):
    async def add_endpoint(self, *, url: str, events: tuple[str, ...], secret: str, at: datetime) -> int: ...

    async def endpoint(self, endpoint_id: int) -> Endpoint | None:
        """An endpoint not removed."""
        ...

    async def endpoints(self) -> list[Endpoint]:
        """The endpoints not removed, oldest first."""
        ...

    async def remove_endpoint(self, endpoint_id: int, *, at: datetime) -> None: ...

    async def cursor(self, source: str) -> int | None:
        """The last id of ``source`` dispatched, None before the first dispatch."""
        ...

    async def set_cursor(self, source: str, last_id: int) -> None: ...

    async def last_id(self, source: str) -> int:
        """The highest id in ``source`` now (0 when empty)."""
        ...

    async def happenings(
        self, source: str, *, after_id: int, limit: int
    ) -> list[tuple[int, datetime, Happening | None]]:
        """The rows of ``source`` after ``after_id`` by id, each with when it was written and what it is
        to an endpoint (None: nothing an endpoint hears of)."""
        ...

    async def enqueue(self, endpoint_id: int, happening: Happening, *, at: datetime) -> int: ...

    async def unrendered(self, *, limit: int) -> list[tuple[int, int]]:
        """Pending deliveries whose deal is not rendered yet: (delivery id, deal id), by id."""
        ...

    async def fill(self, delivery_id: int, data: object) -> None: ...

    async def due(self, endpoint_id: int, *, at: datetime, limit: int) -> list[Delivery]:
        """The endpoint's rendered pending deliveries due at ``at`` that are first in its queue for
        their ``order_key``, by id."""
        ...

    async def sent(self, delivery_id: int, *, at: datetime) -> None: ...

    async def retry(self, delivery_id: int, *, next_try_at: datetime, error: str) -> None: ...

    async def fail(self, delivery_id: int, *, at: datetime, error: str) -> None: ...

    async def log(self, *, failed_only: bool, limit: int) -> list[Delivery]:
        """The latest deliveries, newest first."""
        ...

    async def prune(self, *, sent_before: datetime) -> int:
        """Delete the deliveries sent before then; how many."""
        ...

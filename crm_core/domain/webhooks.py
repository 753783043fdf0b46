"""Outgoing webhooks: the endpoints other systems register, the events they hear of, the deliveries.

A delivery is tried until the endpoint answers 2xx, with a back-off that doubles each time, for
``GIVE_UP_AFTER``; then it is failed and stays visible in ``kanbot hooks log``.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from crm_core.domain.errors import InvalidInput, Why

EVENTS = (
    "deal.created",
    "deal.moved",
    "deal.won",
    "deal.lost",
    "deal.reopened",
    "deal.assigned",
    "deal.updated",
    "contact.created",
    "task.created",
    "task.done",
    "call.ingested",
)
PING = "ping"  # what ``kanbot hooks test`` sends; never subscribed to
URL_MOST = 500
SECRET_MOST = 200
GIVE_UP_AFTER = timedelta(hours=24)
BACKOFF_MOST = timedelta(hours=1)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: int
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    endpoint_id: int
    url: str
    event: str
    order_key: str
    subject_id: int
    occurred_at: datetime
    data: object
    status: DeliveryStatus
    attempts: int
    next_try_at: datetime
    last_error: str | None
    created_at: datetime
    settled_at: datetime | None


@dataclass(frozen=True, slots=True)
class Happening:
    """Something the CRM wrote that an endpoint may hear of: ``data`` None for a deal, rendered later."""

    event: str
    order_key: str
    subject_id: int
    occurred_at: datetime
    data: dict[str, object] | None


def valid_url(raw: str) -> str:
    url = raw.strip()
    parts = urlsplit(url)
    if len(url) > URL_MOST:
        raise InvalidInput("url", raw, Why.TOO_LONG, most=URL_MOST)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("url", raw, detail="an http:// or https:// address")
    return url


def valid_events(raw: str | list[str]) -> tuple[str, ...]:
    names = raw.split(",") if isinstance(raw, str) else raw
    chosen = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not chosen or any(name not in EVENTS for name in chosen):
        raise InvalidInput("events", raw, Why.ONE_OF, choices=", ".join(EVENTS))
    return chosen


def valid_secret(raw: str | None) -> str:
    """The given secret, or a fresh one; shown once when the endpoint is added."""
    if raw is None:
        return "whsec_" + secrets.token_urlsafe(24)
    secret = raw.strip()
    if not 16 <= len(secret) <= SECRET_MOST:
        raise InvalidInput("secret", "***", detail=f"from 16 to {SECRET_MOST} characters")
    return secret


def next_try(attempts: int, *, base: timedelta, at: datetime) -> datetime:
    """When to try again after ``attempts`` failures: ``base`` doubled each time, at most an hour."""
    delay: timedelta = min(base * (2 ** min(max(attempts - 1, 0), 30)), BACKOFF_MOST)
    return at + delay


# What each kind of the deals' history is, to an endpoint (the rest: notes, calls, snoozes... none).
DEAL_EVENT_NAMES = {
    "created": "deal.created",
    "moved": "deal.moved",
    "pipeline_changed": "deal.moved",
    "won": "deal.won",
    "lost": "deal.lost",
    "reopened": "deal.reopened",
    "reassigned": "deal.assigned",
    "edited": "deal.updated",
    "priority_changed": "deal.updated",
    "task_done": "task.done",
}
SOURCES = ("deal_events", "contacts", "tasks", "calls")  # read in this order, each by id

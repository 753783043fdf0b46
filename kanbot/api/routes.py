"""The REST API's handlers: bearer token in, one use case, the CLI's JSON out; refusals as JSON errors.

Every answer is JSON. A bad request is 400 ``{"error", "message", "field", "reason"}`` and changes
nothing; a missing, wrong, expired or revoked token is 401; a read token writing is 403; a deal the
token's user may not see is 404, as one that does not exist.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from crm_core.domain.api_tokens import ApiToken, IdempotencyBusy, IdempotencyMismatch, NotAuthenticated
from crm_core.domain.deals import Source
from crm_core.domain.errors import (
    Conflict,
    CrmError,
    DealNotFound,
    InvalidInput,
    NotAllowed,
    NotFound,
    Unavailable,
)
from crm_core.domain.users import User
from crm_core.services import Crm
from kanbot.api.bodies import DealIn, first_problem, nul_in, reference
from kanbot.api.openapi import DEALS_PATH, DOCS_PATH, docs_page
from kanbot.cli.render import deals_json, shown_deal_json

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_ID = 2**31 - 1
DEFAULT_LIMIT = 50
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Authed = Callable[[web.Request, User, ApiToken], Awaitable[web.StreamResponse]]


Model = TypeVar("Model", bound=BaseModel)


class BadRequest(Exception):
    """A request the API refuses before any use case: ``status``, the field and why."""

    def __init__(self, field: str | None, reason: str, *, status: int = 400, error: str = "invalid") -> None:
        super().__init__(reason)
        self.field, self.reason, self.status, self.error = field, reason, status, error


class Limiter:
    """At most ``limit`` requests per token within a sliding ``window``; past it, how long to wait."""

    def __init__(self, limit: int, window: timedelta, now: Callable[[], datetime]) -> None:
        self.limit, self.window, self.now = limit, window, now
        self._seen: dict[int, deque[datetime]] = {}

    def wait(self, token_id: int) -> int:
        """0 and the request counted, or the whole seconds until this token may ask again."""
        now, seen = self.now(), self._seen.setdefault(token_id, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.limit:
            return max(1, math.ceil((seen[0] + self.window - now).total_seconds()))
        seen.append(now)
        return 0


def problem(
    status: int, error: str, message: str, *, field: str | None = None, reason: str | None = None
) -> web.Response:
    return answer(status, {"error": error, "message": message, "field": field, "reason": reason})


def refusal(error: CrmError, fields: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """A use case's refusal as the API answers it: the status and the body. ``fields``: which request
    field a thing not found came from (``{"user": "owner_telegram_id"}``)."""
    body: dict[str, Any] = {"error": error.code, "message": str(error), "field": None, "reason": None}
    if isinstance(error, NotAuthenticated):
        return 401, body
    if isinstance(error, InvalidInput):
        body.update(field=(fields or {}).get(error.field, error.field), reason=error.why_text or "not valid")
        return 400, body
    if isinstance(error, DealNotFound):
        return 404, body
    if isinstance(error, NotFound):
        body.update(field=(fields or {}).get(error.what, error.what), reason=f"no such {error.what}")
        return 400, body
    if isinstance(error, NotAllowed):
        return 403, body
    if isinstance(error, IdempotencyMismatch):
        body.update(field="Idempotency-Key", reason="used before with another request")
        return 422, body
    if isinstance(error, (IdempotencyBusy, Conflict)):
        return 409, body
    if isinstance(error, Unavailable):
        return 503, body
    return 400, body


def answer(status: int, body: object) -> web.Response:
    headers = {"WWW-Authenticate": 'Bearer realm="kanbot"'} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": "5"}
    return web.json_response(body, status=status, headers=headers)


def bearer(request: web.Request) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def authed(
    crm: Crm,
    handler: Authed,
    *,
    write: bool = False,
    fields: dict[str, str] | None = None,
    limiter: Limiter | None = None,
    found: frozenset[str] = frozenset(),
) -> Handler:
    """``handler`` for the token's user; every refusal and bad request answered as JSON. Past the
    token's rate limit, 429 with ``Retry-After``. ``found``: the things named by the path (``task``),
    whose absence is 404 rather than a refused field."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            user, token = await crm.api_tokens.authenticate(bearer(request))
            wait = limiter.wait(token.id) if limiter is not None else 0
            if wait:
                return web.json_response(
                    {
                        "error": "rate_limited",
                        "message": f"Too many requests with this token: try again in {wait} s.",
                        "field": None,
                        "reason": None,
                    },
                    status=429,
                    headers={"Retry-After": str(wait)},
                )
            if write:
                crm.api_tokens.require_write(token)
            return await handler(request, user, token)
        except BadRequest as bad:
            return problem(bad.status, bad.error, str(bad), field=bad.field, reason=bad.reason)
        except NotFound as error:
            if error.what in found:
                return problem(404, error.code, str(error))
            return answer(*refusal(error, fields))
        except CrmError as error:
            return answer(*refusal(error, fields))

    return handle


async def json_body(request: web.Request) -> object:
    """The request's JSON within ``MAX_BODY_BYTES`` (413 past it, 400 when it is not JSON)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise BadRequest(None, f"at most {MAX_BODY_BYTES} bytes", status=413, error="too_large")
    raw = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise BadRequest(None, f"at most {MAX_BODY_BYTES} bytes", status=413, error="too_large")
    try:
        return json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("body", "the body is not JSON") from None


async def body_of(
    request: web.Request, model: type[Model], *, optional: bool = False
) -> tuple[Model, object]:
    """The request's JSON object as ``model`` (an empty body is ``{}`` when ``optional``)."""
    if optional and not request.can_read_body:
        data: object = {}
    else:
        data = await json_body(request)
    if not isinstance(data, dict):
        raise BadRequest("body", "a JSON object")
    where = nul_in(data)
    if where is not None:
        raise BadRequest(where, "no NUL characters")
    try:
        return model.model_validate(data), data
    except ValidationError as error:
        field, reason = first_problem(error)
        raise BadRequest(field, reason) from None


async def idempotent(
    crm: Crm,
    request: web.Request,
    token: ApiToken,
    data: object,
    run: Callable[[], Awaitable[tuple[int, object]]],
) -> tuple[int, object]:
    """``run()``'s answer; under an ``Idempotency-Key``, the first answer to the same request again
    (the method, the path, ``If-Match`` and the body make it the same)."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return await run()
    if_match = request.headers.get("If-Match")
    parts = [
        request.method,
        request.path,
        *([if_match] if if_match else []),
        json.dumps(data, sort_keys=True),
    ]
    same = " ".join(parts)
    fingerprint = hashlib.sha256(same.encode()).hexdigest()
    return await crm.api_tokens.once(token=token, key=key, fingerprint=fingerprint, answer=run)


def id_in(text: str, field: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise BadRequest(field, f"a whole number from 1 to {MAX_ID}")
    return int(text)


def cursor_of(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"d{last_id}".encode()).decode().rstrip("=")


def after_id(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith("d") or not text[1:].isdigit() or int(text[1:]) > MAX_ID:
        raise BadRequest("cursor", "not a cursor this API gave")
    return int(text[1:])


def moment(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(field, "an ISO 8601 time such as 2026-12-01T00:00:00Z") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def rest_routes(crm: Crm, *, limiter: Limiter | None = None) -> list[web.RouteDef]:
    """The REST API's routes (the OpenAPI document is served with the telephony one, by ``kanbot.web``)."""

    async def list_deals(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """A page of the deals the token's user may see, by id; ``next_cursor`` for the next one."""
        query = request.query
        for name, value in query.items():
            if "\x00" in value or "\x00" in name:
                raise BadRequest(name, "no NUL characters")
        for name in ("pipeline", "stage"):
            why = reference(query.get(name), name)
            if why:
                raise BadRequest(name, why)
        limit = id_in(query["limit"], "limit") if "limit" in query else DEFAULT_LIMIT
        owner = query.get("owner")
        found, more = await crm.api_tokens.deals_page(
            actor=user,
            after_id=after_id(query.get("cursor")),
            limit=limit,
            pipeline=query.get("pipeline"),
            stage=query.get("stage"),
            owner_telegram_id=id_in(owner, "owner") if owner is not None else None,
            updated_since=moment(query.get("updated_since"), "updated_since"),
        )
        items = await deals_json(crm, user, found)
        next_cursor = cursor_of(found[-1].id) if more and found else None
        return web.json_response({"items": items, "next_cursor": next_cursor})

    async def get_deal(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """One deal, as `kanbot deal show --json` prints it."""
        raw = request.match_info["id"]
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
            raise DealNotFound(raw)
        return web.json_response(await shown_deal_json(crm, user, int(raw)))

    async def create_deal(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """Create a deal; 201 with it. Retried with its ``Idempotency-Key``: the first answer again."""
        deal_in, data = await body_of(request, DealIn)

        async def create() -> tuple[int, object]:
            try:
                deal = await crm.deals.create(
                    actor=user,
                    title=deal_in.title,
                    contact_name=deal_in.contact.name if deal_in.contact else None,
                    phone=deal_in.contact.phone if deal_in.contact else None,
                    amount=str(deal_in.amount) if deal_in.amount is not None else None,
                    currency=deal_in.currency,
                    stage=deal_in.stage,
                    owner_telegram_id=deal_in.owner_telegram_id,
                    source=Source.MANUAL,
                    pipeline=deal_in.pipeline,
                    fields=deal_in.field_texts(),
                )
            except CrmError as error:
                return refusal(error, NEW_DEAL_FIELDS)
            return 201, await shown_deal_json(crm, user, deal.id)

        return answer(*await idempotent(crm, request, token, data, create))

    async def docs(request: web.Request) -> web.StreamResponse:
        """The API's endpoints, listed from the OpenAPI document: no script, nothing from elsewhere."""
        return web.Response(text=docs_page(), content_type="text/html")

    return [
        web.get(DEALS_PATH, authed(crm, list_deals, fields=LIST_FIELDS, limiter=limiter)),
        web.post(DEALS_PATH, authed(crm, create_deal, write=True, fields=NEW_DEAL_FIELDS, limiter=limiter)),
        web.get(DEALS_PATH + "/{id}", authed(crm, get_deal, limiter=limiter)),
        web.get(DOCS_PATH, docs),
    ]


NEW_DEAL_FIELDS = {
    "user": "owner_telegram_id",
    "pipeline": "pipeline",
    "stage": "stage",
    "phone": "contact.phone",
    "contact": "contact.name",
    "field": "fields",
}
LIST_FIELDS = {"user": "owner", "pipeline": "pipeline", "stage": "stage"}

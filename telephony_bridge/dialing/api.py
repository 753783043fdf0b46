"""The signed API a separate bridge places the CRM's call requests through.

``POST /api/v1/call-requests/claim`` (body ``{}``) answers ``{"requests": [{"id", "extension",
"number", "customer_name", "deal_id"}]}`` — each held for the bridge for a minute; ``POST
/api/v1/call-requests/{id}`` with ``{"placed": true, "call_id": "…"}`` or ``{"placed": false,
"refusal": "pbx_unreachable", "detail": "…"}`` says what became of one. Both are signed like
``POST /api/v1/calls`` (``X-Kanbot-Signature`` with ``KANBOT_CALLS_SECRET``); without the secret they
answer 503.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiohttp
from aiohttp import web

from crm_core.domain.dialing import CallRequest, Refusal
from crm_core.domain.errors import NotFound
from telephony_bridge.dialing import Outcome
from telephony_bridge.signing import HEADER, SignatureError, sign, verify

log = logging.getLogger("telephony_bridge.dialing.api")
CLAIM_PATH = "/api/v1/call-requests/claim"
REPORT_PATH = "/api/v1/call-requests/{id}"
Claim = Callable[[], Awaitable[list[CallRequest]]]
Report = Callable[[int, Outcome], Awaitable[None]]


def request_routes(*, claim: Claim, report: Report, secret: str | None) -> list[web.RouteDef]:
    """The two endpoints, over the CRM's ``claim`` and ``report``."""

    async def body_of(request: web.Request) -> dict[str, object]:
        if secret is None:
            raise web.HTTPServiceUnavailable(
                text=json.dumps({"error": "KANBOT_CALLS_SECRET is not set"}), content_type="application/json"
            )
        raw = await request.read()
        try:
            verify(raw, request.headers.get(HEADER), secret)
        except SignatureError as error:
            raise web.HTTPUnauthorized(
                text=json.dumps({"error": str(error)}), content_type="application/json"
            ) from None
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(
                text=json.dumps({"error": "a JSON object is expected"}), content_type="application/json"
            )
        return body

    async def on_claim(request: web.Request) -> web.Response:
        await body_of(request)
        return web.json_response({"requests": [r.to_json() for r in await claim()]})

    async def on_report(request: web.Request) -> web.Response:
        body = await body_of(request)
        try:
            request_id = int(request.match_info["id"])
            outcome = _outcome(body)
        except (ValueError, KeyError) as error:
            return web.json_response({"error": f"{error}"}, status=400)
        try:
            await report(request_id, outcome)
        except NotFound:
            return web.json_response({"error": f"no call request {request_id}"}, status=404)
        return web.json_response({"id": request_id, "placed": outcome.placed})

    return [web.post(CLAIM_PATH, on_claim), web.post(REPORT_PATH, on_report)]


def _outcome(body: dict[str, object]) -> Outcome:
    placed = body.get("placed")
    if placed is True:
        call_id = body.get("call_id")
        return Outcome.ok(str(call_id)[:128] if call_id else None)
    if placed is False:
        refusal = Refusal(str(body.get("refusal") or Refusal.PBX_REFUSED.value))
        detail = body.get("detail")
        return Outcome.refused(refusal, str(detail) if detail else None)
    raise ValueError("placed: true or false")


class CrmRequests:
    """The bridge's side of the API: claim requests, report outcomes (``Placer``'s claim and report)."""

    def __init__(self, session: aiohttp.ClientSession, *, crm_url: str, secret: str) -> None:
        self._session, self._url, self._secret = session, crm_url.rstrip("/"), secret
        self._timeout = aiohttp.ClientTimeout(total=10)

    async def _post(self, path: str, body: dict[str, object]) -> dict[str, object]:
        raw = json.dumps(body).encode()
        headers = {HEADER: sign(raw, self._secret), "Content-Type": "application/json"}
        async with self._session.post(
            self._url + path, data=raw, headers=headers, timeout=self._timeout
        ) as answer:
            if answer.status >= 400:
                raise ConnectionError(
                    f"the CRM answered {answer.status} to {path}: {(await answer.text())[:200]}"
                )
            result: dict[str, object] = await answer.json()
            return result

    async def claim(self) -> list[CallRequest]:
        answer = await self._post(CLAIM_PATH, {})
        requests = answer.get("requests")
        return (
            [_request(item) for item in requests if isinstance(item, dict)]
            if isinstance(requests, list)
            else []
        )

    async def report(self, request: CallRequest, outcome: Outcome) -> None:
        body: dict[str, object] = {"placed": outcome.placed}
        if outcome.placed:
            body["call_id"] = outcome.external_id
        else:
            body["refusal"] = (outcome.refusal or Refusal.PBX_REFUSED).value
            body["detail"] = outcome.detail
        await self._post(REPORT_PATH.format(id=request.id), body)


def _request(item: dict[str, object]) -> CallRequest:
    name = item.get("customer_name")
    return CallRequest(
        id=int(str(item["id"])),
        deal_id=int(str(item.get("deal_id") or 0)),
        requester_id=0,
        extension=str(item["extension"]),
        number=str(item["number"]),
        created_at=datetime.now(UTC),
        customer_name=str(name) if name else None,
    )

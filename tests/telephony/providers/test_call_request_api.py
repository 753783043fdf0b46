"""The call-request API a separate bridge uses: signed like POST /api/v1/calls, and strict about bodies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from crm_core.domain.dialing import CallRequest, Refusal
from crm_core.domain.errors import NotFound
from telephony_bridge.dialing import Outcome
from telephony_bridge.dialing.api import request_routes
from telephony_bridge.signing import HEADER, sign

from .conftest import CALLS_SECRET

REQUEST = CallRequest(
    id=4, deal_id=2, requester_id=1, extension="101", number="+74951234567", created_at=datetime.now(UTC)
)


class Crm:
    def __init__(self) -> None:
        self.reports: list[tuple[int, Outcome]] = []

    async def claim(self) -> list[CallRequest]:
        return [REQUEST]

    async def report(self, request_id: int, outcome: Outcome) -> None:
        if request_id != REQUEST.id:
            raise NotFound("call request", request_id)
        self.reports.append((request_id, outcome))


@pytest.fixture
async def api() -> AsyncIterator[tuple[TestClient[web.Request, web.Application], Crm]]:
    crm = Crm()
    app = web.Application()
    app.add_routes(request_routes(claim=crm.claim, report=crm.report, secret=CALLS_SECRET))
    async with TestClient(TestServer(app)) as client:
        yield client, crm


def signed(body: object, secret: str = CALLS_SECRET) -> dict[str, object]:
    raw = json.dumps(body).encode()
    return {"data": raw, "headers": {HEADER: sign(raw, secret), "Content-Type": "application/json"}}


async def test_a_signed_claim_gets_the_requests_and_a_report_settles_one(
    api: tuple[TestClient[web.Request, web.Application], Crm],
) -> None:
    client, crm = api
    claimed = await client.post("/api/v1/call-requests/claim", **signed({}))  # type: ignore[arg-type]
    assert claimed.status == 200
    assert (await claimed.json())["requests"] == [
        {"id": 4, "extension": "101", "number": "+74951234567", "customer_name": None, "deal_id": 2}
    ]
    body = {"placed": False, "refusal": "pbx_unreachable", "detail": "timeout"}
    reported = await client.post("/api/v1/call-requests/4", **signed(body))  # type: ignore[arg-type]
    assert reported.status == 200
    assert crm.reports == [(4, Outcome.refused(Refusal.PBX_UNREACHABLE, "timeout"))]


async def test_unsigned_wrongly_signed_or_malformed_requests_change_nothing(
    api: tuple[TestClient[web.Request, web.Application], Crm],
) -> None:
    client, crm = api
    assert (await client.post("/api/v1/call-requests/claim", data=b"{}")).status == 401
    wrong = signed({}, secret="another-secret-of-sixteen")
    assert (await client.post("/api/v1/call-requests/claim", **wrong)).status == 401  # type: ignore[arg-type]
    for body in ({"placed": "yes"}, {"placed": False, "refusal": "bored"}, []):
        answer = await client.post("/api/v1/call-requests/4", **signed(body))  # type: ignore[arg-type]
        assert answer.status == 400, body
    missing = await client.post("/api/v1/call-requests/99", **signed({"placed": True}))  # type: ignore[arg-type]
    assert missing.status == 404
    assert crm.reports == []

"""Calls placed from the CRM through the cloud PBXs' call-back APIs, against small fake HTTP servers
that check each request as the provider documents it (auth, signature, fields)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from crm_core.domain.calls import CallDirection, CallStatus
from crm_core.domain.dialing import CallRequest, Refusal
from telephony_bridge.dialing.cloud import MangoDialer, TwilioDialer, ZadarmaDialer
from telephony_bridge.providers.twilio import parse_twilio

from .conftest import MANGO_KEY, MANGO_SALT, TWILIO_TOKEN, ZADARMA_SECRET

REQUEST = CallRequest(
    id=9, deal_id=1, requester_id=1, extension="101", number="+74951234567", created_at=datetime.now(UTC)
)
SID, ZADARMA_KEY = "AC0123456789abcdef0123456789abcdef", "k4nb0t-zadarma-key"


class FakeProvider:
    """One provider's call-back endpoint: keeps what it was asked, answers as told."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []
        self.status: int | None = None  # force this status (a 5xx: the provider is down)

    async def serve(self, app: web.Application) -> AsyncIterator[str]:
        server = TestServer(app)
        await server.start_server()
        yield str(server.make_url("")).rstrip("/")
        await server.close()


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
async def twilio_url(fake: FakeProvider) -> AsyncIterator[str]:
    async def calls(request: web.Request) -> web.Response:
        form = dict(parse_qsl((await request.read()).decode()))
        expected = "Basic " + base64.b64encode(f"{SID}:{TWILIO_TOKEN}".encode()).decode()
        fake.asked.append({"form": form, "sid": request.match_info["sid"]})
        if fake.status:
            return web.json_response({"message": "down"}, status=fake.status)
        if request.headers.get("Authorization") != expected:
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        return web.json_response({"sid": "CA42", "status": "queued"}, status=201)

    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Calls.json", calls)
    async for url in fake.serve(app):
        yield url


async def test_twilio_rings_the_sellers_endpoint_then_dials_the_customer(
    fake: FakeProvider, twilio_url: str
) -> None:
    dialer = TwilioDialer(
        SID,
        TWILIO_TOKEN,
        "+14155550100",
        status_url="https://crm.example.com/hooks/twilio",
        api_url=twilio_url,
    )
    outcome = await dialer.place(REQUEST)
    assert outcome.placed and outcome.external_id == "CA42"
    [asked] = fake.asked
    form = asked["form"]
    assert asked["sid"] == SID and form["To"] == "client:101" and form["From"] == "+14155550100"
    assert "<Number>+74951234567</Number>" in form["Twiml"]
    assert form["StatusCallback"] == "https://crm.example.com/hooks/twilio?placed_for=%2B74951234567"


async def test_twilio_refusing_the_credentials_is_a_refusal_and_an_outage_is_unreachable(
    fake: FakeProvider, twilio_url: str
) -> None:
    wrong = TwilioDialer(SID, "x" * 32, "+14155550100", api_url=twilio_url)
    refused = await wrong.place(REQUEST)
    assert (refused.placed, refused.refusal, refused.detail) == (False, Refusal.PBX_REFUSED, "Authenticate")
    fake.status = 503
    down = await TwilioDialer(SID, TWILIO_TOKEN, "+14155550100", api_url=twilio_url).place(REQUEST)
    assert down.refusal is Refusal.PBX_UNREACHABLE


async def test_a_provider_nobody_answers_at_is_unreachable() -> None:
    outcome = await ZadarmaDialer(ZADARMA_KEY, ZADARMA_SECRET, api_url="http://127.0.0.1:9").place(REQUEST)
    assert outcome.refusal is Refusal.PBX_UNREACHABLE


def test_the_status_callback_of_a_call_placed_from_the_crm_is_an_outbound_call_of_the_seller() -> None:
    form = {
        "CallSid": "CA42",
        "CallStatus": "completed",
        "CallDuration": "65",
        "Direction": "outbound-api",
        "From": "+14155550100",
        "To": "client:101",
        "Timestamp": "Tue, 14 May 2024 09:20:00 +0000",
    }
    [call] = parse_twilio(form, region="RU", placed_for="+74951234567")
    assert (call.direction, call.status) == (CallDirection.OUTBOUND, CallStatus.ANSWERED)
    assert (call.dialed, call.answered_by, call.duration_s, call.caller) == ("+74951234567", "101", 65, None)


@pytest.fixture
async def zadarma_url(fake: FakeProvider) -> AsyncIterator[str]:
    async def callback(request: web.Request) -> web.Response:
        # Zadarma's scheme (user-api-v1 Client::_getAuthHeader), recomputed here on its own.
        params = dict(sorted(request.query.items()))
        query = urlencode(params)
        text = request.path + query + hashlib.md5(query.encode()).hexdigest()  # noqa: S324  # Zadarma's
        digest = hmac.new(ZADARMA_SECRET.encode(), text.encode(), hashlib.sha1).hexdigest()
        expected = f"{ZADARMA_KEY}:{base64.b64encode(digest.encode()).decode()}"
        fake.asked.append(params)
        if request.headers.get("Authorization") != expected:
            return web.json_response({"status": "error", "message": "Not authorized"}, status=401)
        return web.json_response({"status": "success", "from": params["from"], "to": params["to"]})

    app = web.Application()
    app.router.add_get("/v1/request/callback/", callback)
    async for url in fake.serve(app):
        yield url


async def test_zadarma_calls_back_from_the_sellers_extension_with_a_signed_request(
    fake: FakeProvider, zadarma_url: str
) -> None:
    outcome = await ZadarmaDialer(ZADARMA_KEY, ZADARMA_SECRET, api_url=zadarma_url).place(REQUEST)
    assert outcome.placed
    assert fake.asked == [{"format": "json", "from": "101", "to": "+74951234567"}]
    wrong = await ZadarmaDialer(ZADARMA_KEY, "y" * 20, api_url=zadarma_url).place(REQUEST)
    assert (wrong.refusal, wrong.detail) == (Refusal.PBX_REFUSED, "Not authorized")


@pytest.fixture
async def mango_url(fake: FakeProvider) -> AsyncIterator[str]:
    async def callback(request: web.Request) -> web.Response:
        form = dict(parse_qsl((await request.read()).decode()))
        sign = hashlib.sha256((form["vpbx_api_key"] + form["json"] + MANGO_SALT).encode()).hexdigest()
        fake.asked.append(json.loads(form["json"]))
        if form["vpbx_api_key"] != MANGO_KEY or form["sign"] != sign:
            return web.json_response({"result": 3102})
        return web.json_response({"result": 1000})

    app = web.Application()
    app.router.add_post("/vpbx/commands/callback", callback)
    async for url in fake.serve(app):
        yield url + "/vpbx"


async def test_mango_calls_back_from_the_sellers_extension_with_a_signed_command(
    fake: FakeProvider, mango_url: str
) -> None:
    outcome = await MangoDialer(MANGO_KEY, MANGO_SALT, api_url=mango_url).place(REQUEST)
    assert outcome.placed and outcome.external_id == "kanbot-dial-9"
    assert fake.asked == [
        {"command_id": "kanbot-dial-9", "from": {"extension": "101"}, "to_number": "74951234567"}
    ]
    wrong = await MangoDialer(MANGO_KEY, "z" * 16, api_url=mango_url).place(REQUEST)
    assert (wrong.refusal, wrong.detail) == (Refusal.PBX_REFUSED, "result 3102")


def test_a_recorded_twilio_call_announces_its_recording_to_the_crm() -> None:
    dialer = TwilioDialer(
        SID, TWILIO_TOKEN, "+14155550100", status_url="https://crm.example.com/hooks/twilio", record=True
    )
    twiml = dialer.twiml(REQUEST)
    assert 'record="record-from-answer-dual"' in twiml
    assert 'recordingStatusCallback="https://crm.example.com/hooks/twilio"' in twiml
    assert "recordingStatusCallback" not in TwilioDialer(
        SID, TWILIO_TOKEN, "+14155550100", record=True
    ).twiml(REQUEST)

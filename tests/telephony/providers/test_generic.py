"""The generic call API: a signed CallEvent as JSON, for any PBX."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from crm_core.domain.calls import CallDirection, CallStatus
from telephony_bridge.providers import PayloadError, parse_file
from telephony_bridge.providers.generic import parse_generic
from telephony_bridge.signing import sign

from .conftest import CALLS_SECRET, DATA, NOW, Clock, FakeIngest, data

MSK = timezone(timedelta(hours=3))


def payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(data(f"generic/{name}.json"))
    return loaded


def test_an_in_progress_call_parses_with_its_numbers_in_e164() -> None:
    [call] = parse_generic(payload("inbound_in_progress"), region="RU")
    assert (call.call_id, call.provider, call.direction) == (
        "1715678100.42",
        "freepbx",
        CallDirection.INBOUND,
    )
    assert (call.caller, call.dialed) == ("+74951234567", "+74997001122")
    assert (call.status, call.answered_by, call.rang) == (CallStatus.ANSWERED, "101", ("101", "102"))
    assert call.started_at == datetime(2024, 5, 14, 12, 15, tzinfo=MSK)
    assert type(call.started_at.tzinfo) is timezone  # a plain offset, not pydantic's own tzinfo
    assert not call.is_final


def test_a_final_call_keeps_its_transfers_and_duration() -> None:
    [call] = parse_generic(payload("inbound_answered_final"), region="RU")
    assert (call.transfers, call.duration_s, call.ended_at) == (
        ("103",),
        188,
        datetime(2024, 5, 14, 9, 18, 20, tzinfo=UTC),
    )


def test_the_provider_defaults_to_generic() -> None:
    [call] = parse_generic(payload("inbound_missed"), region="RU")
    assert (call.provider, call.status, call.answered_by) == ("generic", CallStatus.MISSED, None)


def test_outbound_and_internal_calls_parse() -> None:
    [outbound] = parse_generic(payload("outbound_answered"), region="RU")
    [internal] = parse_generic(payload("internal_answered"), region="RU")
    assert (outbound.direction, outbound.dialed) == (CallDirection.OUTBOUND, "+79161234567")
    assert (internal.direction, internal.caller, internal.answered_by) == (
        CallDirection.INTERNAL,
        None,
        "102",
    )


@pytest.mark.parametrize("typed", ["8 495 123-45-67", "+7 (495) 123 45 67", "74951234567", "8(495)1234567"])
def test_every_way_of_writing_one_number_gives_the_same_e164(typed: str) -> None:
    [call] = parse_generic({**payload("inbound_missed"), "caller": typed}, region="RU")
    assert call.caller == "+74951234567"
    assert call.raw_caller == typed


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"call_id": None}, "call_id: Input should be a valid string"),
        ({"direction": "sideways"}, "direction: Input should be 'inbound', 'outbound' or 'internal'"),
        ({"caller": "not a phone"}, "caller: not a valid phone number"),
        ({"caller": "+7 495"}, "caller: not a valid phone number"),
        ({"started_at": "yesterday"}, "started_at: Input should be a valid datetime"),
        ({"started_at": "2024-05-14T10:15:30"}, "started_at: Input should have timezone info"),
        ({"ended_at": "2024-05-14T10:00:00Z"}, "ended_at: before started_at"),
        ({"duration_s": -1}, "duration_s: Input should be greater than or equal to 0"),
        ({"answered_by": "101"}, "status: a missed call has no answered_by"),
        ({"colour": "red"}, "colour: unknown field"),
        ({"started_at": "1970-01-01T00:00:00Z", "ended_at": None}, "started_at: not between 2000 and 2100"),
    ],
)
def test_a_bad_field_is_refused_with_its_name(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(PayloadError) as refused:
        parse_generic({**payload("inbound_missed"), **change}, region="RU")
    assert refused.value.reason.startswith(reason)


def test_a_missing_field_is_named() -> None:
    body = payload("inbound_missed")
    del body["started_at"]
    with pytest.raises(PayloadError, match="started_at: Field required"):
        parse_generic(body, region="RU")


def test_a_refusal_never_repeats_the_phone_number_it_refused() -> None:
    with pytest.raises(PayloadError) as refused:
        parse_generic({**payload("inbound_missed"), "caller": "+7 495 12"}, region="RU")
    assert "495" not in refused.value.reason


@pytest.mark.parametrize("name", ["inbound_in_progress", "inbound_answered_final", "outbound_answered"])
def test_a_saved_body_parses_from_its_file(name: str) -> None:
    assert parse_file("generic", DATA / "generic" / f"{name}.json", region="RU") == parse_generic(
        payload(name), region="RU"
    )


async def post(client: TestClient[Any, Any], body: bytes, header: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["X-Kanbot-Signature"] = header
    return await client.post("/api/v1/calls", data=body, headers=headers)


def signed(body: bytes, *, at: float = NOW, secret: str = CALLS_SECRET) -> str:
    return sign(body, secret, timestamp=int(at))


async def test_a_signed_call_is_accepted_with_202_and_the_ingest_outcome(
    client: TestClient[Any, Any], ingest: FakeIngest
) -> None:
    body = data("generic/inbound_answered_final.json")
    response = await post(client, body, signed(body))
    assert response.status == 202
    assert await response.json() == {
        "call_id": "1715678100.42",
        "deal_id": 1,
        "created": True,
        "duplicate": False,
    }
    [call] = ingest.received
    assert (call.provider, call.caller) == ("freepbx", "+74951234567")


async def test_a_replayed_call_is_reported_as_a_duplicate(client: TestClient[Any, Any]) -> None:
    body = data("generic/inbound_missed.json")
    await post(client, body, signed(body))
    response = await post(client, body, signed(body))
    assert response.status == 202
    assert await response.json() == {
        "call_id": "1715681730.7",
        "deal_id": 1,
        "created": False,
        "duplicate": True,
    }


async def test_the_in_progress_and_final_events_of_one_call_land_on_one_deal(
    client: TestClient[Any, Any],
) -> None:
    outcomes = []
    for name in ("inbound_in_progress", "inbound_answered_final"):
        body = data(f"generic/{name}.json")
        outcomes.append(await (await post(client, body, signed(body))).json())
    assert [(o["deal_id"], o["created"], o["duplicate"]) for o in outcomes] == [
        (1, True, False),
        (1, False, False),
    ]


async def test_the_signature_computed_with_openssl_is_accepted(client: TestClient[Any, Any]) -> None:
    # printf '%s' '1715678400.{"call_id":"x"}' | openssl dgst -sha256 -hmac k4nb0t-test-calls-secret
    header = "t=1715678400,v1=2a1aac67535da2dd65de9e16f21db3d3252b86bce54eb755a10fc02c7eb507fb"
    response = await post(client, b'{"call_id":"x"}', header)
    assert response.status == 400  # past the signature; the body lacks fields
    assert "direction: Field required" in (await response.json())["error"]


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda body: signed(body, at=NOW - 301), id="more than 5 minutes old"),
        pytest.param(lambda body: signed(body, at=NOW + 301), id="more than 5 minutes ahead"),
        pytest.param(lambda body: signed(body, secret="wrong-secret"), id="signed with a wrong secret"),
        pytest.param(lambda body: signed(body + b" "), id="signed another body"),
        pytest.param(lambda body: "t=1715678400", id="no v1"),
        pytest.param(lambda body: "t=1715678400,v1=é", id="a non-ASCII v1"),
        pytest.param(lambda body: None, id="no header"),
    ],
)
async def test_an_unsigned_stale_or_tampered_call_is_refused_with_401_and_changes_nothing(
    client: TestClient[Any, Any], ingest: FakeIngest, header: Any
) -> None:
    body = data("generic/inbound_missed.json")
    response = await post(client, body, header(body))
    assert response.status == 401
    assert "X-Kanbot-Signature" in (await response.json())["error"]
    assert ingest.received == []


async def test_a_call_signed_just_within_five_minutes_is_accepted(
    client: TestClient[Any, Any], clock: Clock
) -> None:
    body = data("generic/inbound_missed.json")
    clock.now = NOW + 299
    assert (await post(client, body, signed(body))).status == 202


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"call_id": ', "body: not valid JSON"),
        (b"", "body: not valid JSON"),
        (b"[1, 2]", "body: not a JSON object"),
        (b"\xff\xfe", "body: not valid JSON"),
        (b"[" * 50_000, "body: not valid JSON"),
        (
            json.dumps({**payload("inbound_missed"), "caller": "12"}).encode(),
            "caller: not a valid phone number",
        ),
        (json.dumps({**payload("inbound_missed"), "started_at": "14/05/2024"}).encode(), "started_at: "),
        (
            json.dumps({k: v for k, v in payload("inbound_missed").items() if k != "status"}).encode(),
            "status: ",
        ),
    ],
)
async def test_a_signed_but_malformed_call_is_a_400_with_the_reason(
    client: TestClient[Any, Any], ingest: FakeIngest, body: bytes, reason: str
) -> None:
    response = await post(client, body, signed(body))
    assert response.status == 400
    assert (await response.json())["error"].startswith(reason)
    assert ingest.received == []


def test_what_call_event_to_json_writes_parses_back_to_the_same_call() -> None:
    # The Asterisk bridge posts CallEvent.to_json() bodies to this endpoint.
    from crm_core.domain.calls import CallEvent

    sent = CallEvent(
        call_id="1715678100.42",
        provider="asterisk",
        direction=CallDirection.INBOUND,
        status=CallStatus.ANSWERED,
        caller="+74951234567",
        dialed=None,
        started_at=datetime(2024, 5, 14, 9, 15, tzinfo=UTC),
        rang=("150010001", "150010002"),
        answered_by="150010001",
        transfers=("150010003",),
        answered_at=datetime(2024, 5, 14, 9, 15, 12, tzinfo=UTC),
        ended_at=datetime(2024, 5, 14, 9, 18, 20, tzinfo=UTC),
        duration_s=188,
    )
    assert parse_generic(json.loads(json.dumps(sent.to_json())), region="RU") == [sent]

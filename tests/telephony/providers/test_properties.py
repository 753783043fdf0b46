"""Whatever a PBX (or anyone) posts, parsers raise nothing but PayloadError and the HTTP layer never a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core.domain.calls import CallEvent
from telephony_bridge.providers import PROVIDERS, MangoCallTracker, PayloadError, parse_payload
from telephony_bridge.providers.generic import parse_generic
from telephony_bridge.providers.mango import mango_sign, parse_mango
from telephony_bridge.providers.twilio import parse_twilio, twilio_signature
from telephony_bridge.providers.zadarma import SIGNED_FIELDS, parse_zadarma, zadarma_signature
from telephony_bridge.signing import sign

from .conftest import CALLS_SECRET, MANGO_KEY, MANGO_SALT, NOW, PUBLIC_URL, TWILIO_TOKEN, ZADARMA_SECRET

PARSERS = settings(max_examples=200, deadline=None)
HTTP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
RECEIVED = datetime(2024, 5, 14, 9, 20, tzinfo=UTC)

phones = st.sampled_from(
    ["+74951234567", "8 495 123-45-67", "74951234567", "anonymous", "101", "client:bob", ""]
)
numbers = st.one_of(st.integers(-5, 10**12).map(str), st.sampled_from(["", "0", "125", "-1", "1e3", "٣"]))
texts = st.text(max_size=24)
words = st.one_of(phones, numbers, texts)


def form_of(known: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({}, optional=known).flatmap(
        lambda fixed: st.dictionaries(texts, texts, max_size=3).map(lambda extra: {**extra, **fixed})
    )


twilio_forms = form_of(
    {
        "CallSid": st.sampled_from(["CA1", "", " "]) | texts,
        "CallStatus": st.sampled_from(["queued", "ringing", "in-progress", "completed", "busy", "no-answer"])
        | texts,
        "DialCallStatus": st.sampled_from(["completed", "answered", "no-answer", "failed"]) | texts,
        "Direction": st.sampled_from(["inbound", "outbound-api", "outbound-dial"]) | texts,
        "From": words,
        "To": words,
        "Caller": words,
        "Called": words,
        "CallDuration": numbers,
        "DialCallDuration": numbers,
        "Timestamp": st.sampled_from(["Tue, 14 May 2024 09:17:08 +0000", "Mon, 1 Jan 0001 00:00:00 -0000"])
        | texts,
        "ParentCallSid": texts,
    }
)
zadarma_forms = form_of(
    {
        "event": st.sampled_from(sorted(SIGNED_FIELDS)) | texts,
        "pbx_call_id": texts,
        "call_start": st.sampled_from(["2024-05-14 12:15:00", "1999-12-31 23:59:59", "9999-12-31 23:59:59"])
        | texts,
        "caller_id": words,
        "called_did": words,
        "destination": words,
        "internal": words,
        "duration": numbers,
        "disposition": st.sampled_from(["answered", "busy", "no answer", ""]) | texts,
    }
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), texts)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=12,
)
moments = st.one_of(
    st.integers(-(10**12), 10**12), st.floats(), st.sampled_from([1715678100, "1715678100", 0])
)
parties = st.fixed_dictionaries(
    {}, optional={"extension": words | json_values, "number": words, "line_number": words}
)
mango_events = st.fixed_dictionaries(
    {},
    optional={
        "entry_id": st.sampled_from(["E1", "E2"]) | json_values,
        "call_state": st.sampled_from(["Appeared", "Connected", "Disconnected", "OnHold"]) | json_values,
        "location": st.sampled_from(["abonent", "ivr", "queue"]) | json_values,
        "timestamp": moments | json_values,
        "from": parties | json_values,
        "to": parties | json_values,
        "call_direction": st.sampled_from([0, 1, 2, 3, "1"]) | json_values,
        "entry_result": st.sampled_from([0, 1, "1"]) | json_values,
        "create_time": moments,
        "talk_time": moments,
        "end_time": moments,
        "line_number": words | json_values,
    },
)
times = st.one_of(
    st.datetimes(timezones=st.just(UTC) | st.none()).map(lambda moment: moment.isoformat()),
    st.sampled_from(["2024-05-14T12:15:00+03:00", "yesterday", ""]),
    json_values,
)
generic_bodies = st.fixed_dictionaries(
    {},
    optional={
        "call_id": texts | json_values,
        "provider": st.sampled_from(["generic", "freepbx", "Bad Name"]) | json_values,
        "direction": st.sampled_from(["inbound", "outbound", "internal"]) | json_values,
        "status": st.sampled_from(["answered", "missed"]) | json_values,
        "caller": phones | json_values,
        "dialed": phones | json_values,
        "rang": st.lists(texts, max_size=3) | json_values,
        "answered_by": texts | json_values,
        "transfers": st.lists(texts, max_size=3) | json_values,
        "started_at": times,
        "answered_at": times,
        "ended_at": times,
        "duration_s": st.integers(-5, 10**6) | json_values,
    },
)


def only_calls_or_payload_error(parse: Any, *args: Any, **kwargs: Any) -> None:
    try:
        calls = parse(*args, **kwargs)
    except PayloadError as error:
        calls, reason = [], error.reason
    else:
        reason = "parsed"
    assert reason, "a PayloadError says why"
    assert isinstance(calls, list)
    assert all(isinstance(call, CallEvent) and call.started_at.tzinfo is not None for call in calls)


@PARSERS
@given(twilio_forms)
def test_any_twilio_form_gives_calls_or_a_payload_error(form: dict[str, str]) -> None:
    only_calls_or_payload_error(parse_twilio, form, region="RU", received_at=RECEIVED)


@PARSERS
@given(zadarma_forms)
def test_any_zadarma_form_gives_calls_or_a_payload_error(form: dict[str, str]) -> None:
    only_calls_or_payload_error(
        parse_zadarma, form, region="RU", tz=ZoneInfo("Europe/Moscow"), received_at=RECEIVED
    )


TRACKER = MangoCallTracker(max_calls=50)


@PARSERS
@given(mango_events)
def test_any_mango_event_gives_calls_or_a_payload_error(event: dict[str, Any]) -> None:
    only_calls_or_payload_error(parse_mango, event, region="RU", tracker=TRACKER)


@PARSERS
@given(generic_bodies | json_values)
def test_any_json_body_gives_a_call_or_a_payload_error(body: Any) -> None:
    only_calls_or_payload_error(parse_generic, body, region="RU")


@PARSERS
@given(
    st.sampled_from(PROVIDERS), st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode())
)
def test_any_saved_payload_gives_calls_or_a_payload_error(provider: str, body: bytes) -> None:
    only_calls_or_payload_error(parse_payload, provider, body, region="RU")


def form_body(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


@HTTP
@given(st.one_of(generic_bodies.map(lambda body: json.dumps(body).encode()), st.binary(max_size=300)))
async def test_no_signed_body_makes_the_call_api_fail_with_a_500(
    client: TestClient[Any, Any], body: bytes
) -> None:
    header = sign(body, CALLS_SECRET, timestamp=int(NOW))
    response = await client.post("/api/v1/calls", data=body, headers={"X-Kanbot-Signature": header})
    assert response.status in {202, 400}, await response.text()


@HTTP
@given(twilio_forms)
async def test_no_signed_twilio_form_makes_the_hook_fail_with_a_500(
    client: TestClient[Any, Any], form: dict[str, str]
) -> None:
    signature = twilio_signature(f"{PUBLIC_URL}/hooks/twilio", list(form.items()), TWILIO_TOKEN)
    response = await client.post(
        "/hooks/twilio", data=form_body(form), headers={"X-Twilio-Signature": signature}
    )
    assert response.status in {200, 400}, await response.text()


@HTTP
@given(zadarma_forms)
async def test_no_signed_zadarma_form_makes_the_hook_fail_with_a_500(
    client: TestClient[Any, Any], form: dict[str, str]
) -> None:
    signature = zadarma_signature(form, ZADARMA_SECRET) if form.get("event") in SIGNED_FIELDS else "x"
    response = await client.post("/hooks/zadarma", data=form_body(form), headers={"Signature": signature})
    assert response.status in {200, 400}, await response.text()


@HTTP
@given(mango_events | json_values)
async def test_no_signed_mango_event_makes_the_hook_fail_with_a_500(
    client: TestClient[Any, Any], event: Any
) -> None:
    text = json.dumps(event)
    fields = {"vpbx_api_key": MANGO_KEY, "sign": mango_sign(MANGO_KEY, text, MANGO_SALT), "json": text}
    response = await client.post("/hooks/mango/events/call", data=form_body(fields))
    assert response.status in {200, 400}, await response.text()


@HTTP
@given(
    st.sampled_from(["/api/v1/calls", "/hooks/twilio", "/hooks/zadarma", "/hooks/mango"]),
    st.binary(max_size=300),
)
async def test_no_unsigned_body_gets_past_the_checks_or_makes_a_500(
    client: TestClient[Any, Any], path: str, body: bytes
) -> None:
    response = await client.post(path, data=body)
    assert response.status in {200, 400, 401, 403}, await response.text()

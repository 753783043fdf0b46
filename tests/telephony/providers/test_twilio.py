"""Twilio Voice: the X-Twilio-Signature check and status callbacks as calls."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from aiohttp.test_utils import TestClient

from crm_core.domain.calls import CallDirection, CallStatus
from telephony_bridge.providers import PayloadError
from telephony_bridge.providers.payloads import decode_form, first_values
from telephony_bridge.providers.twilio import parse_twilio, twilio_signature, verify_twilio

from .conftest import PUBLIC_URL, SHARED_CAPTURES, TWILIO_TOKEN, FakeIngest, data

# Twilio's worked example ("Webhooks security" guide, older https://www.twilio.com/docs/usage/security
# #validating-requests): auth token 12345. The expected value was recomputed here with
# `printf '%s' "$URL$SORTED" | openssl dgst -sha1 -hmac 12345 -binary | base64`.
DOCS_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOCS_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
]
DOCS_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
HOOK_URL = f"{PUBLIC_URL}/hooks/twilio"


def form(name: str) -> dict[str, str]:
    return first_values(decode_form(data(f"twilio/{name}.form")))


def test_twilios_documented_example_signature_verifies() -> None:
    assert twilio_signature(DOCS_URL, DOCS_PARAMS, "12345") == DOCS_SIGNATURE
    assert verify_twilio(DOCS_URL, list(reversed(DOCS_PARAMS)), DOCS_SIGNATURE, "12345")


@pytest.mark.parametrize(
    ("url", "params", "token", "signature"),
    [
        pytest.param(
            DOCS_URL,
            [*DOCS_PARAMS[:2], ("Digits", "9999"), *DOCS_PARAMS[3:]],
            "12345",
            DOCS_SIGNATURE,
            id="a changed parameter",
        ),
        pytest.param(
            DOCS_URL, [*DOCS_PARAMS, ("Extra", "1")], "12345", DOCS_SIGNATURE, id="an added parameter"
        ),
        pytest.param(
            DOCS_URL.replace("bar=2", "bar=3"), DOCS_PARAMS, "12345", DOCS_SIGNATURE, id="another URL"
        ),
        pytest.param(DOCS_URL, DOCS_PARAMS, "54321", DOCS_SIGNATURE, id="another token"),
        pytest.param(DOCS_URL, DOCS_PARAMS, "12345", None, id="no signature"),
        pytest.param(DOCS_URL, DOCS_PARAMS, "12345", "", id="an empty signature"),
        pytest.param(DOCS_URL, DOCS_PARAMS, "12345", "0/KCTR6DLpKmkAf8muzZqo1nDgQ", id="one character short"),
    ],
)
def test_a_tampered_twilio_request_does_not_verify(
    url: str, params: list[tuple[str, str]], token: str, signature: str | None
) -> None:
    assert not verify_twilio(url, params, signature, token)


def test_the_signature_holds_with_or_without_the_default_port_as_twilios_libraries_accept() -> None:
    with_port = DOCS_URL.replace("mycompany.com", "mycompany.com:443")
    assert verify_twilio(with_port, DOCS_PARAMS, DOCS_SIGNATURE, "12345")
    assert verify_twilio(DOCS_URL, DOCS_PARAMS, twilio_signature(with_port, DOCS_PARAMS, "12345"), "12345")


@pytest.mark.skipif(
    not SHARED_CAPTURES.is_dir(), reason="../shared/telephony-captures is not here (CI has it)"
)
def test_the_published_twilio_vector_in_the_shared_captures_verifies_and_is_no_call() -> None:
    body = (SHARED_CAPTURES / "twilio_voice_request_signature_vector.form").read_bytes().strip()
    note = (SHARED_CAPTURES / "twilio_voice_request_signature_vector.source.txt").read_text()
    url = _noted(r"Request URL as Twilio called it:\s*(\S+)", note)
    token = _noted(r"Auth token \(HMAC key\):\s*(\S+)", note)
    signature = _noted(r"Expected X-Twilio-Signature:\s*(\S+)", note)
    params = parse_qsl(body.decode(), keep_blank_values=True)

    assert verify_twilio(url, params, signature, token)
    assert not verify_twilio(
        url, [(k, v + "0") if k == "Digits" else (k, v) for k, v in params], signature, token
    )
    assert not verify_twilio(url + "&baz=3", params, signature, token)
    assert not verify_twilio(url, params, signature, token + "6")
    assert parse_twilio(first_values(params), region="US") == []  # a <Gather> request, not a status


@pytest.mark.skipif(
    not SHARED_CAPTURES.is_dir(), reason="../shared/telephony-captures is not here (CI has it)"
)
def test_the_shared_note_vectors_with_ports_and_repeated_keys_verify() -> None:
    note = (SHARED_CAPTURES / "twilio_voice_request_signature_vector.source.txt").read_text()
    url = _noted(r"Request URL as Twilio called it:\s*(\S+)", note)
    with_port_url, with_port_signature = re.findall(r"URL (https://\S+:443/\S+) -> (\S+) ;", note)[0]
    assert verify_twilio(url, _shared_params(), with_port_signature, "12345")
    assert verify_twilio(with_port_url, _shared_params(), with_port_signature, "12345")
    repeated, repeated_signature = re.findall(r"Repeated keys (\S+) -> (\S+) ", note)[0]
    pairs = parse_qsl(repeated)
    assert verify_twilio(url, pairs, repeated_signature, "12345")
    assert not verify_twilio(url, pairs[:-1], repeated_signature, "12345")


def _shared_params() -> list[tuple[str, str]]:
    body = (SHARED_CAPTURES / "twilio_voice_request_signature_vector.form").read_text().strip()
    return parse_qsl(body, keep_blank_values=True)


def _noted(pattern: str, note: str) -> str:
    found = re.search(pattern, note)
    assert found, f"the note no longer says {pattern!r}"
    return found.group(1)


def test_an_inbound_call_answered_by_twilio_gives_an_in_progress_call() -> None:
    [call] = parse_twilio(form("inbound_in_progress"), region="RU")
    assert call.call_id == "CA1f3e9b2a0c7d4e5f8a9b0c1d2e3f4a5b"
    assert (call.provider, call.direction, call.status) == (
        "twilio",
        CallDirection.INBOUND,
        CallStatus.ANSWERED,
    )
    assert (call.caller, call.dialed) == ("+74951234567", "+74997001122")
    assert call.answered_at == datetime(2024, 5, 14, 9, 15, 3, tzinfo=UTC)
    assert not call.is_final


def test_a_completed_inbound_call_with_a_duration_is_answered_and_final() -> None:
    [call] = parse_twilio(form("inbound_completed"), region="RU")
    assert call.status is CallStatus.ANSWERED
    assert call.duration_s == 125
    assert call.ended_at == datetime(2024, 5, 14, 9, 17, 8, tzinfo=UTC)
    assert call.started_at == datetime(2024, 5, 14, 9, 15, 3, tzinfo=UTC)


@pytest.mark.parametrize("name", ["inbound_no_answer", "inbound_anonymous_canceled", "outbound_busy"])
def test_no_answer_busy_failed_and_canceled_calls_are_missed(name: str) -> None:
    [call] = parse_twilio(form(name), region="RU")
    assert call.status is CallStatus.MISSED
    assert call.is_final
    assert call.duration_s == 0
    assert call.answered_by is None


def test_an_anonymous_caller_has_no_number() -> None:
    [call] = parse_twilio(form("inbound_anonymous_canceled"), region="RU")
    assert call.caller is None
    assert call.raw_caller == "anonymous"


def test_an_outbound_api_call_is_outbound_to_the_customer() -> None:
    [call] = parse_twilio(form("outbound_api_completed"), region="RU")
    assert call.direction is CallDirection.OUTBOUND
    assert (call.caller, call.dialed, call.duration_s) == ("+74997001122", "+79161234567", 64)


def test_a_call_between_two_twilio_clients_is_internal_and_answered_by_the_callee() -> None:
    [call] = parse_twilio(form("client_to_client_completed"), region="RU")
    assert call.direction is CallDirection.INTERNAL
    assert (call.caller, call.dialed, call.answered_by) == (None, None, "bob")


def test_the_dial_action_decides_whether_a_seller_answered() -> None:
    received = datetime(2024, 5, 14, 9, 17, tzinfo=UTC)
    [call] = parse_twilio(form("dial_action_answered"), region="RU", received_at=received)
    assert call.status is CallStatus.ANSWERED
    assert (call.duration_s, call.ended_at) == (42, received)
    missed = {**form("dial_action_answered"), "DialCallStatus": "no-answer"}
    assert parse_twilio(missed, region="RU", received_at=received)[0].status is CallStatus.MISSED


@pytest.mark.parametrize("name", ["inbound_ringing", "dial_child_leg_completed"])
def test_ringing_and_dial_child_legs_report_no_call(name: str) -> None:
    assert parse_twilio(form(name), region="RU") == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"CallSid": ""}, "CallSid: missing"),
        ({"Direction": "sideways"}, "Direction"),
        ({"CallStatus": "exploded"}, "CallStatus"),
        ({"Timestamp": "yesterday"}, "Timestamp"),
        ({"CallDuration": "-4"}, "CallDuration"),
    ],
)
def test_a_malformed_status_callback_is_refused_with_the_field_named(
    change: dict[str, str], reason: str
) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse_twilio({**form("inbound_completed"), **change}, region="RU")


def signed(pairs: list[tuple[str, str]], url: str = HOOK_URL, token: str = TWILIO_TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": twilio_signature(url, pairs, token)}


async def post(
    client: TestClient[Any, Any],
    pairs: list[tuple[str, str]],
    headers: dict[str, str],
    path: str = "/hooks/twilio",
) -> Any:
    return await client.post(
        path, data=urlencode(pairs), headers={"Content-Type": "application/x-www-form-urlencoded", **headers}
    )


async def test_a_signed_status_callback_is_ingested_and_answered_with_empty_twiml(
    client: TestClient[Any, Any], ingest: FakeIngest
) -> None:
    pairs = decode_form(data("twilio/inbound_completed.form"))
    response = await post(client, pairs, signed(pairs))
    assert response.status == 200
    assert response.content_type == "text/xml"
    assert "<Response/>" in await response.text()
    [call] = ingest.received
    assert (call.provider, call.call_id, call.duration_s) == (
        "twilio",
        "CA1f3e9b2a0c7d4e5f8a9b0c1d2e3f4a5b",
        125,
    )


async def test_the_in_progress_and_final_callbacks_of_one_call_reach_the_crm_as_one_call(
    client: TestClient[Any, Any], ingest: FakeIngest
) -> None:
    for name in ("inbound_ringing", "inbound_in_progress", "inbound_completed"):
        pairs = decode_form(data(f"twilio/{name}.form"))
        assert (await post(client, pairs, signed(pairs))).status == 200
    [calls] = ingest.calls.values()
    assert [call.is_final for call in calls] == [False, True]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda pairs: ([("CallDuration", "999"), *pairs[1:]], signed(pairs)), id="a changed field"
        ),
        pytest.param(
            lambda pairs: (pairs, signed(pairs, token="not-the-token")), id="signed with a wrong token"
        ),
        pytest.param(
            lambda pairs: (pairs, signed(pairs, url="https://evil.example/hooks/twilio")), id="another URL"
        ),
        pytest.param(lambda pairs: (pairs, {}), id="no signature header"),
    ],
)
async def test_a_tampered_twilio_callback_is_refused_with_403_and_changes_nothing(
    client: TestClient[Any, Any], ingest: FakeIngest, tamper: Any
) -> None:
    pairs, headers = tamper(decode_form(data("twilio/inbound_completed.form")))
    response = await post(client, pairs, headers)
    assert response.status == 403
    assert "error" in await response.json()
    assert ingest.received == []


async def test_behind_a_proxy_the_signature_is_checked_against_the_public_url_with_the_query(
    client: TestClient[Any, Any], ingest: FakeIngest
) -> None:
    pairs = decode_form(data("twilio/outbound_api_completed.form"))
    public = f"{PUBLIC_URL}/hooks/twilio?tenant=acme&x=1"
    response = await post(client, pairs, signed(pairs, url=public), path="/hooks/twilio?tenant=acme&x=1")
    assert response.status == 200
    assert len(ingest.received) == 1


async def test_a_malformed_but_signed_callback_is_a_400_naming_the_field(
    client: TestClient[Any, Any], ingest: FakeIngest
) -> None:
    pairs = [(k, v) for k, v in decode_form(data("twilio/inbound_completed.form")) if k != "Direction"]
    response = await post(client, pairs, signed(pairs))
    assert response.status == 400
    assert (await response.json())["error"] == "Direction: missing"
    assert ingest.received == []

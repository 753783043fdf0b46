"""Zadarma: the Signature check, the zd_echo URL check, and notifications as calls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient

from crm_core.domain.calls import CallDirection, CallStatus
from telephony_bridge.providers import PayloadError
from telephony_bridge.providers.payloads import decode_form, first_values
from telephony_bridge.providers.zadarma import parse_zadarma, verify_zadarma, zadarma_signature

from .conftest import ZADARMA_SECRET, FakeIngest, data

MOSCOW = ZoneInfo("Europe/Moscow")
# Computed independently of the code under test, as Zadarma's PHP library does it
# (base64_encode(hash_hmac('sha1', $fields, $secret)): base64 of the *hex* digest):
#   printf '%s' "$FIELDS" | openssl dgst -sha1 -hmac "$SECRET" | awk '{print $NF}' | tr -d '\n' | base64
EXPECTED = {
    # caller_id . called_did . call_start
    "inbound_end_answered": "YTE4MjhkZjE5OGFiM2Y1ODA3NDcwMzI0OTk1Y2VlMzcxOTYyMmIxMg==",
    # caller_id . destination . call_start
    "inbound_answer": "NjU3MDM1NDc3MmUwNDMxNmY1MmU5OWNlNzNlNmZjMGZiMWZmNThkNg==",
    # internal . destination . call_start
    "outbound_end_answered": "MDNjNGYyNWVkMWQ3MjEzYTU1NTRlODMwYjBhMzcyMzA5ODVlYzIxOA==",
}


def form(name: str) -> dict[str, str]:
    return first_values(decode_form(data(f"zadarma/{name}.form")))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_zadarmas_signature_is_base64_of_the_hex_hmac_of_the_events_own_fields(name: str) -> None:
    assert zadarma_signature(form(name), ZADARMA_SECRET) == EXPECTED[name]
    assert verify_zadarma(form(name), EXPECTED[name], ZADARMA_SECRET)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("inbound_end_answered", "caller_id"),
        ("inbound_end_answered", "call_start"),
        ("inbound_answer", "destination"),
        ("outbound_end_answered", "internal"),
    ],
)
def test_a_changed_signed_field_does_not_verify(name: str, field: str) -> None:
    tampered = {**form(name), field: form(name)[field] + "9"}
    assert not verify_zadarma(tampered, EXPECTED[name], ZADARMA_SECRET)


def test_a_wrong_secret_or_a_missing_signature_does_not_verify() -> None:
    assert not verify_zadarma(form("inbound_end_answered"), EXPECTED["inbound_end_answered"], "other-secret")
    assert not verify_zadarma(form("inbound_end_answered"), None, ZADARMA_SECRET)
    assert not verify_zadarma({**form("inbound_end_answered"), "event": "SMS"}, "x", ZADARMA_SECRET)


@pytest.mark.parametrize("name", ["inbound_start", "inbound_internal", "outbound_start"])
def test_ringing_notifications_report_no_call(name: str) -> None:
    assert parse_zadarma(form(name), region="RU", tz=MOSCOW) == []


def test_the_answer_notification_gives_the_in_progress_call_with_who_answered() -> None:
    received = datetime(2024, 5, 14, 9, 15, 9, tzinfo=UTC)
    [call] = parse_zadarma(form("inbound_answer"), region="RU", tz=MOSCOW, received_at=received)
    assert (call.provider, call.call_id) == ("zadarma", "in_5f1a2b3c4d5e6f708192a3b4c5d6e7f8")
    assert (call.direction, call.status, call.answered_by) == (
        CallDirection.INBOUND,
        CallStatus.ANSWERED,
        "101",
    )
    assert call.caller == "+74951234567"
    assert call.started_at == datetime(2024, 5, 14, 12, 15, tzinfo=MOSCOW)
    assert call.answered_at == received
    assert not call.is_final


def test_an_answered_inbound_call_ends_final_with_its_duration_and_extension() -> None:
    received = datetime(2024, 5, 14, 9, 17, 20, tzinfo=UTC)
    [call] = parse_zadarma(form("inbound_end_answered"), region="RU", tz=MOSCOW, received_at=received)
    assert (call.status, call.answered_by, call.rang, call.duration_s) == (
        CallStatus.ANSWERED,
        "101",
        ("101",),
        125,
    )
    assert (call.caller, call.dialed) == ("+74951234567", "+74997001122")
    assert call.ended_at == received
    assert call.answered_at == datetime(2024, 5, 14, 9, 15, 15, tzinfo=UTC)


def test_a_missed_inbound_call_has_no_one_who_answered() -> None:
    [call] = parse_zadarma(form("inbound_end_missed"), region="RU", tz=MOSCOW)
    assert (call.status, call.answered_by, call.duration_s) == (CallStatus.MISSED, None, 0)
    assert call.rang == ("102",)
    assert call.caller == "+79161234567"
    assert call.is_final


def test_an_outbound_call_is_the_sellers_extension_calling_the_customer() -> None:
    [call] = parse_zadarma(form("outbound_end_answered"), region="RU", tz=MOSCOW)
    assert (call.direction, call.status, call.answered_by) == (
        CallDirection.OUTBOUND,
        CallStatus.ANSWERED,
        "101",
    )
    assert call.dialed == "+79161234567"  # dialled as 8 916 ...
    assert call.duration_s == 64


def test_a_call_from_one_extension_to_another_is_internal() -> None:
    [call] = parse_zadarma(form("internal_end_busy"), region="RU", tz=MOSCOW)
    assert (call.direction, call.status, call.dialed) == (CallDirection.INTERNAL, CallStatus.MISSED, None)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"pbx_call_id": ""}, "pbx_call_id: missing"),
        ({"call_start": "14.05.2024 12:15"}, "call_start"),
        ({"duration": "many"}, "duration"),
        ({"disposition": ""}, "disposition: missing"),
        ({"event": "NOTIFY_SOMETHING"}, "event"),
    ],
)
def test_a_malformed_notification_is_refused_with_the_field_named(
    change: dict[str, str], reason: str
) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse_zadarma({**form("inbound_end_answered"), **change}, region="RU", tz=MOSCOW)


async def post(client: TestClient[Any, Any], fields: dict[str, str], signature: str | None) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["Signature"] = signature
    return await client.post("/hooks/zadarma", data=urlencode(fields), headers=headers)


async def test_zadarmas_url_check_gets_its_echo_back(client: TestClient[Any, Any]) -> None:
    response = await client.get("/hooks/zadarma", params={"zd_echo": "a1b2c3d4e5"})
    assert response.status == 200
    assert response.content_type == "text/plain"
    assert await response.text() == "a1b2c3d4e5"
    assert (await client.get("/hooks/zadarma")).status == 400


async def test_the_answer_then_the_end_of_a_call_reach_the_crm_as_one_call(
    client: TestClient[Any, Any], ingest: FakeIngest
) -> None:
    for name in ("inbound_start", "inbound_internal", "inbound_answer", "inbound_end_answered"):
        response = await post(client, form(name), zadarma_signature(form(name), ZADARMA_SECRET))
        assert response.status == 200
    [calls] = ingest.calls.values()
    assert [(call.is_final, call.answered_by) for call in calls] == [(False, "101"), (True, "101")]


@pytest.mark.parametrize(
    ("fields", "signature"),
    [
        pytest.param(
            {**form("inbound_end_answered"), "caller_id": "+74950000000"},
            EXPECTED["inbound_end_answered"],
            id="a changed field",
        ),
        pytest.param(
            form("inbound_end_answered"),
            zadarma_signature(form("inbound_end_answered"), "wrong-key"),
            id="signed with a wrong key",
        ),
        pytest.param(form("inbound_end_answered"), None, id="no Signature header"),
    ],
)
async def test_a_tampered_zadarma_notification_is_refused_with_401_and_changes_nothing(
    client: TestClient[Any, Any], ingest: FakeIngest, fields: dict[str, str], signature: str | None
) -> None:
    response = await post(client, fields, signature)
    assert response.status == 401
    assert "error" in await response.json()
    assert ingest.received == []


async def test_a_notification_that_is_not_about_a_call_is_acknowledged_and_ignored(
    client: TestClient[Any, Any], ingest: FakeIngest
) -> None:
    response = await post(client, {"event": "SMS", "caller_id": "+74951234567", "text": "hi"}, None)
    assert response.status == 200
    assert ingest.received == []


async def test_a_notification_without_an_event_is_a_400(client: TestClient[Any, Any]) -> None:
    response = await post(client, {"caller_id": "+74951234567"}, "x")
    assert response.status == 400
    assert (await response.json())["error"] == "event: missing"

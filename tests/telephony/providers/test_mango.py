"""Mango Office: the sign check, call legs aggregated by entry_id, and the summary as the final call."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient

from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from telephony_bridge.providers import MangoCallTracker, PayloadError, parse_file
from telephony_bridge.providers.mango import mango_sign, parse_mango, verify_mango

from .conftest import DATA, MANGO_KEY, MANGO_SALT, FakeIngest, data

T0 = datetime(2024, 5, 14, 9, 15, tzinfo=UTC)
ENTRY = "MTAxMjM0NTY3ODk6NDAx"
LEGS = sorted((DATA / "mango" / "inbound_transferred").glob("*.json"))


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(data(f"mango/{name}.json"))
    return loaded


def compact(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def test_the_sign_is_sha256_of_key_json_and_salt() -> None:
    summary = compact(event("inbound_transferred/09_summary"))
    # printf '%s' "$KEY$JSON$SALT" | sha256sum
    assert mango_sign(MANGO_KEY, summary, MANGO_SALT) == (
        "93a3ca5e12469dab623b0e000f33a046cd128e52435ce4b500b5dfcbfa934f87"
    )
    # The vector of the mango-vpbx library's test/sign.spec.js (key 123, salt 789); the JSON it
    # signs is literally the text "[object Object]", as JavaScript stringified its object.
    assert mango_sign("123", "[object Object]", "789") == (
        "0a72eec8d74830f907199cb99049ccf5f9667a3257ab86e2947714febeedce00"
    )


def posted(payload: dict[str, Any], *, key: str = MANGO_KEY, salt: str = MANGO_SALT) -> dict[str, str]:
    text = compact(payload)
    return {"vpbx_api_key": key, "sign": mango_sign(key, text, salt), "json": text}


def test_a_genuine_notification_verifies_and_a_tampered_one_does_not() -> None:
    genuine = posted(event("inbound_missed_summary"))
    assert verify_mango(genuine, api_key=MANGO_KEY, api_salt=MANGO_SALT)
    assert verify_mango({**genuine, "sign": genuine["sign"].upper()}, api_key=MANGO_KEY, api_salt=MANGO_SALT)
    tampered = {**genuine, "json": genuine["json"].replace('"entry_result":0', '"entry_result":1')}
    assert not verify_mango(tampered, api_key=MANGO_KEY, api_salt=MANGO_SALT)
    assert not verify_mango(genuine, api_key=MANGO_KEY, api_salt="another-salt")
    other_pbx = posted(event("inbound_missed_summary"), key="another-vpbx")
    assert not verify_mango(other_pbx, api_key=MANGO_KEY, api_salt=MANGO_SALT)
    assert not verify_mango({**genuine, "sign": ""}, api_key=MANGO_KEY, api_salt=MANGO_SALT)


def run_legs(tracker: MangoCallTracker | None) -> list[list[CallEvent]]:
    return [parse_mango(json.loads(path.read_bytes()), region="RU", tracker=tracker) for path in LEGS]


def test_only_the_first_connected_leg_of_a_call_gives_the_in_progress_call() -> None:
    results = run_legs(MangoCallTracker())
    produced = [(path.stem, len(calls)) for path, calls in zip(LEGS, results, strict=True) if calls]
    assert produced == [("04_connected_101", 1), ("09_summary", 1)]
    [card] = results[3]
    assert (card.call_id, card.provider, card.direction) == (ENTRY, "mango", CallDirection.INBOUND)
    assert (card.status, card.answered_by, card.rang) == (CallStatus.ANSWERED, "101", ("101", "102"))
    assert (card.caller, card.dialed) == ("+74951234567", "+74997001122")
    assert card.started_at == T0
    assert card.answered_at == datetime(2024, 5, 14, 9, 15, 12, tzinfo=UTC)
    assert not card.is_final


def test_the_summary_gives_the_final_call_with_who_rang_answered_and_took_the_transfer() -> None:
    tracker = MangoCallTracker()
    [final] = run_legs(tracker)[-1]
    assert final.is_final
    assert (final.status, final.answered_by, final.rang, final.transfers) == (
        CallStatus.ANSWERED,
        "101",
        ("101", "102"),
        ("103",),
    )
    assert (final.started_at, final.ended_at, final.duration_s) == (
        T0,
        datetime(2024, 5, 14, 9, 18, 20, tzinfo=UTC),
        188,
    )
    assert len(tracker) == 0  # forgotten once the summary came


def test_a_summary_alone_still_gives_the_final_call() -> None:
    [final] = parse_mango(event("inbound_transferred/09_summary"), region="RU")
    assert (final.call_id, final.status, final.duration_s) == (ENTRY, CallStatus.ANSWERED, 188)
    assert final.answered_by == "103"  # without the legs, only the summary's extension is known
    assert final.transfers == ()


def test_a_missed_inbound_call_has_no_one_who_answered() -> None:
    [final] = parse_mango(event("inbound_missed_summary"), region="RU")
    assert (final.status, final.answered_by, final.answered_at, final.duration_s) == (
        CallStatus.MISSED,
        None,
        None,
        0,
    )
    assert final.caller == "+79161234567"


def test_an_outbound_call_is_the_sellers_extension_calling_the_customer() -> None:
    tracker = MangoCallTracker()
    [card] = parse_mango(event("outbound_connected"), region="RU", tracker=tracker)
    [final] = parse_mango(event("outbound_summary"), region="RU", tracker=tracker)
    for call in (card, final):
        assert (call.direction, call.answered_by) == (CallDirection.OUTBOUND, "101")
        assert (call.caller, call.dialed) == ("+74997001122", "+79161234567")
    assert final.duration_s == 64


def test_a_call_between_extensions_is_internal() -> None:
    [final] = parse_mango(event("internal_summary"), region="RU")
    assert (final.direction, final.answered_by, final.caller, final.dialed) == (
        CallDirection.INTERNAL,
        "102",
        None,
        None,
    )


def test_notifications_about_recordings_report_no_call() -> None:
    assert parse_mango(event("recording_completed"), region="RU") == []


def test_the_tracker_forgets_the_oldest_calls_when_full() -> None:
    tracker = MangoCallTracker(max_calls=2)
    for number in range(3):
        parse_mango(
            {**event("inbound_transferred/02_appeared_101"), "entry_id": f"E{number}"},
            region="RU",
            tracker=tracker,
        )
    assert len(tracker) == 2
    assert tracker.pop("E0") is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"entry_id": None}, "entry_id: missing"),
        ({"call_state": "Exploded"}, "call_state"),
        ({"timestamp": "noon"}, "timestamp"),
        ({"timestamp": 10**30}, "timestamp"),
        ({"from": "74951234567"}, "from: not an object"),
    ],
)
def test_a_malformed_leg_is_refused_with_the_field_named(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse_mango({**event("inbound_transferred/04_connected_101"), **change}, region="RU")


def test_a_summary_as_mango_posts_it_can_be_parsed_from_a_saved_file() -> None:
    [final] = parse_file("mango", DATA / "mango" / "summary_answered_posted.form", region="RU")
    assert (final.call_id, final.status) == (ENTRY, CallStatus.ANSWERED)


async def post(
    client: TestClient[Any, Any], fields: dict[str, str], path: str = "/hooks/mango/events/call"
) -> Any:
    return await client.post(
        path, data=urlencode(fields), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


async def test_the_legs_and_summary_of_a_call_reach_the_crm_as_one_call(
    client: TestClient[Any, Any], ingest: FakeIngest
) -> None:
    for path in LEGS:
        payload = json.loads(path.read_bytes())
        where = "/hooks/mango/events/summary" if "summary" in path.stem else "/hooks/mango/events/call"
        assert (await post(client, posted(payload), where)).status == 200
    [calls] = ingest.calls.values()
    assert [(call.is_final, call.answered_by, call.transfers) for call in calls] == [
        (False, "101", ()),
        (True, "101", ("103",)),
    ]


async def test_mango_may_post_to_the_bare_hook_too(client: TestClient[Any, Any], ingest: FakeIngest) -> None:
    assert (await post(client, posted(event("inbound_missed_summary")), "/hooks/mango")).status == 200
    assert len(ingest.received) == 1


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(
            {
                **posted(event("inbound_missed_summary")),
                "json": compact({**event("inbound_missed_summary"), "entry_result": 1}),
            },
            id="a changed field",
        ),
        pytest.param(
            posted(event("inbound_missed_summary"), salt="wrong-salt"), id="signed with a wrong salt"
        ),
        pytest.param(posted(event("inbound_missed_summary"), key="another-vpbx"), id="another VPBX's key"),
        pytest.param(
            {k: v for k, v in posted(event("inbound_missed_summary")).items() if k != "sign"}, id="no sign"
        ),
    ],
)
async def test_a_tampered_mango_notification_is_refused_with_401_and_changes_nothing(
    client: TestClient[Any, Any], ingest: FakeIngest, fields: dict[str, str]
) -> None:
    response = await post(client, fields, "/hooks/mango/events/summary")
    assert response.status == 401
    assert "error" in await response.json()
    assert ingest.received == []


async def test_a_signed_notification_with_broken_json_is_a_400(client: TestClient[Any, Any]) -> None:
    text = '{"entry_id": '
    fields = {"vpbx_api_key": MANGO_KEY, "sign": mango_sign(MANGO_KEY, text, MANGO_SALT), "json": text}
    response = await post(client, fields)
    assert response.status == 400
    assert (await response.json())["error"] == "json: not valid JSON"

"""Zadarma signs ``caller_id + called_did + call_start`` only: forged calls made from a captured
notification are refused (over the real CRM, both backends), and only Zadarma's addresses may post
when ``KANBOT_ZADARMA_ALLOWED_IPS`` is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from crm_core.adapters.database import Database
from crm_core.adapters.tables import call_seals, calls, deals, outbox
from crm_core.config import CrmConfig
from crm_core.domain.calls import CallSeal
from crm_core.domain.users import Role
from crm_core.ports import FixedClock
from crm_core.services import Crm
from telephony_bridge.http import create_app
from telephony_bridge.providers.zadarma import call_seal, zadarma_signature
from tests.conftest import T0

from .conftest import ZADARMA_SECRET, FakeIngest, Serve, make_settings
from .test_zadarma import form

FORGED_END = {"disposition": "answered", "duration": "3600", "internal": "102", "status_code": "16"}


@pytest.fixture
async def crm(db: Database, crm_config: CrmConfig) -> Crm:
    """The real CRM (this folder's ``clock`` fixture is the HTTP side's), with a boss to tell."""
    crm = Crm(db, clock=FixedClock(T0), config=crm_config)
    await crm.pipelines.seed_defaults()
    await crm.users.add(telegram_id=100, name="Boss", role=Role.BOSS)
    return crm


@pytest.fixture
async def zadarma(crm: Crm) -> AsyncIterator[TestClient[Any, Any]]:
    """Zadarma's endpoint over the real CRM, as ``kanbot run`` wires it."""
    app = create_app(ingest=crm.calls.ingest_call, settings=make_settings(), bind=crm.calls.bind_seal)
    async with TestClient(TestServer(app)) as client:
        yield client


async def post(client: TestClient[Any, Any], fields: dict[str, str], signature: str | None = None) -> Any:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Signature": signature or zadarma_signature(fields, ZADARMA_SECRET),
    }
    return await client.post("/hooks/zadarma", data=urlencode(fields), headers=headers)


async def stored(crm: Crm) -> dict[str, int]:
    async with crm.db.engine.connect() as conn:
        return {
            table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in (calls, deals, outbox, call_seals)
        }


def forged_end(captured: dict[str, str], **changes: str) -> dict[str, str]:
    """A NOTIFY_END made of a captured notification's signed fields, with whatever the forger likes."""
    signed = {k: captured[k] for k in ("caller_id", "called_did", "call_start")}
    return {"event": "NOTIFY_END", "pbx_call_id": captured["pbx_call_id"]} | signed | FORGED_END | changes


async def test_a_final_call_forged_from_a_captured_ringing_notification_under_a_new_id_is_refused(
    zadarma: TestClient[Any, Any], crm: Crm
) -> None:
    ringing = form("inbound_start")
    assert (await post(zadarma, ringing)).status == 200
    before = await stored(crm)

    forged = forged_end(ringing, pbx_call_id="in_forged_by_an_outsider")
    answer = await post(zadarma, forged, zadarma_signature(ringing, ZADARMA_SECRET))

    assert answer.status == 403
    assert "signed fields belong to another call" in (await answer.json())["error"]
    assert await stored(crm) == before


async def test_a_final_call_with_the_signed_fields_shifted_across_their_boundary_is_refused(
    zadarma: TestClient[Any, Any], crm: Crm
) -> None:
    ringing = form("inbound_start")
    assert (await post(zadarma, ringing)).status == 200
    before = await stored(crm)
    # The same signed text, cut elsewhere: +74951234567 | 74997001122 -> +749512345677 | 4997001122
    shifted = forged_end(ringing, caller_id=ringing["caller_id"] + "7", called_did=ringing["called_did"][1:])

    answer = await post(zadarma, shifted, zadarma_signature(ringing, ZADARMA_SECRET))

    assert answer.status == 403
    assert "caller_id, called_did differ from the call's first notification" in (await answer.json())["error"]
    assert await stored(crm) == before


async def test_the_end_of_a_recorded_call_replayed_under_a_new_id_is_refused(
    zadarma: TestClient[Any, Any], crm: Crm
) -> None:
    for name in ("inbound_start", "inbound_internal", "inbound_answer", "inbound_end_answered"):
        assert (await post(zadarma, form(name))).status == 200, name
    before = await stored(crm)
    assert before["calls"] == 1

    replayed = form("inbound_end_answered") | {"pbx_call_id": "in_replayed", "internal": "102"}
    answer = await post(zadarma, replayed, zadarma_signature(form("inbound_end_answered"), ZADARMA_SECRET))

    assert answer.status == 403
    assert await stored(crm) == before


async def test_a_call_first_seen_at_its_end_is_recorded_and_its_replay_changes_nothing(
    zadarma: TestClient[Any, Any], crm: Crm
) -> None:
    end = form("inbound_end_missed")
    assert (await post(zadarma, end)).status == 200
    after_first = await stored(crm)
    assert (after_first["calls"], after_first["deals"]) == (1, 1)

    assert (await post(zadarma, end)).status == 200  # a PBX retry: the same call, nothing new
    assert await stored(crm) == after_first


async def test_an_outbound_call_binds_its_own_signed_fields(zadarma: TestClient[Any, Any], crm: Crm) -> None:
    assert (await post(zadarma, form("outbound_start"))).status == 200
    assert (await post(zadarma, form("outbound_end_answered"))).status == 200
    forged = form("outbound_end_answered") | {"pbx_call_id": "out_forged"}
    answer = await post(zadarma, forged, zadarma_signature(form("outbound_end_answered"), ZADARMA_SECRET))
    assert answer.status == 403
    assert (await stored(crm))["calls"] == 1


async def test_without_a_binder_the_answer_and_the_end_still_bind_their_call(crm: Crm) -> None:
    app = create_app(ingest=crm.calls.ingest_call, settings=make_settings())
    async with TestClient(TestServer(app)) as client:
        assert (await post(client, form("inbound_answer"))).status == 200
        forged = form("inbound_answer") | {"pbx_call_id": "in_forged"}
        assert (
            await post(client, forged, zadarma_signature(form("inbound_answer"), ZADARMA_SECRET))
        ).status == 403


async def test_a_ringing_notification_the_database_could_not_store_is_a_400_not_a_503_retried_forever(
    zadarma: TestClient[Any, Any], crm: Crm
) -> None:
    ringing = form("inbound_start") | {"pbx_call_id": "in_\x00nul"}
    answer = await post(zadarma, ringing)
    assert answer.status == 400
    assert (await stored(crm))["call_seals"] == 0


def test_the_seal_is_the_signed_text_and_its_fields_and_the_recording_notice_has_none() -> None:
    assert call_seal(form("inbound_start")) == CallSeal(
        "+74951234567749970011222024-05-14 12:15:00",
        (("caller_id", "+74951234567"), ("called_did", "74997001122"), ("call_start", "2024-05-14 12:15:00")),
    )
    assert call_seal({"event": "NOTIFY_RECORD", "pbx_call_id": "x", "call_id_with_rec": "y"}) is None
    assert call_seal({"event": "SMS"}) is None


# -- only Zadarma's addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "forwarded", "status"),
    [
        pytest.param({"zadarma_allowed_ips": "185.45.152.42"}, None, 403, id="another address"),
        pytest.param({"zadarma_allowed_ips": "127.0.0.0/8"}, None, 200, id="an allowed network"),
        pytest.param(
            {"zadarma_allowed_ips": "185.45.152.42"},
            "185.45.152.42",
            403,
            id="a forwarded-for nobody vouches for",
        ),
        pytest.param(
            {"zadarma_allowed_ips": "185.45.152.42", "trusted_proxies": "127.0.0.1"},
            "185.45.152.42",
            200,
            id="forwarded by a trusted proxy",
        ),
        pytest.param(
            {"zadarma_allowed_ips": "185.45.152.42", "trusted_proxies": "127.0.0.1"},
            "185.45.152.42, 203.0.113.9",
            403,
            id="a spoofed hop before the proxy's",
        ),
        pytest.param(
            {"zadarma_allowed_ips": "185.45.152.42", "trusted_proxies": "127.0.0.1, 10.0.0.0/8"},
            "185.45.152.42, 10.1.2.3",
            200,
            id="through two trusted proxies",
        ),
        pytest.param(
            {"zadarma_allowed_ips": "185.45.152.42", "trusted_proxies": "127.0.0.1"},
            "not-an-address",
            403,
            id="a forwarded-for that is no address",
        ),
        pytest.param({}, "203.0.113.9", 200, id="no allow-list"),
    ],
)
async def test_zadarmas_endpoint_answers_only_the_allowed_addresses(
    serve: Serve, ingest: FakeIngest, settings: dict[str, str], forwarded: str | None, status: int
) -> None:
    fields = form("inbound_end_missed")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Signature": zadarma_signature(fields, ZADARMA_SECRET),
    }
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    async with serve(**settings) as client:
        answer = await client.post("/hooks/zadarma", data=urlencode(fields), headers=headers)
        echo = await client.get("/hooks/zadarma", params={"zd_echo": "abc"}, headers=headers)
        assert (answer.status, echo.status) == (status, status)
        if status == 403:
            assert "KANBOT_ZADARMA_ALLOWED_IPS" in (await answer.json())["error"]
            assert ingest.received == []
        else:
            assert len(ingest.received) == 1


@pytest.mark.parametrize("field", ["zadarma_allowed_ips", "trusted_proxies"])
def test_an_allow_list_that_is_not_addresses_is_refused_at_start_up(field: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="is not an IP address or network"):
        make_settings(**{field: "185.45.152.42, zadarma.com"})

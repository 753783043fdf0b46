"""`kanbot bridge ami` places the cards' calls: it fetches the CRM's call requests over the signed API,
originates them on Asterisk (a fake AMI), reports each, and sends the call that results back like any."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from crm_core.config import CrmConfig
from crm_core.domain.dialing import DialStatus, Refusal
from crm_core.services import Crm
from kanbot.dialing import api_routes
from telephony_bridge.ami.backoff import Backoff
from telephony_bridge.ami.bridge import run_bridge
from telephony_bridge.dialing.ami import OriginateConfig
from telephony_bridge.http import call_routes
from telephony_bridge.settings import AmiSettings, CloudPbxSettings
from tests.integration.support import Team
from tests.telephony.ami.helpers import AMI_SECRET, AMI_USER, CALLS_SECRET, FakeAmi

QUICK = Backoff(initial_s=0.01, max_s=0.05, jitter=0.0)
LISTENER = {"backoff": QUICK, "heartbeat_s": 0.5, "connect_timeout_s": 2.0}


@pytest.fixture
def crm_config() -> CrmConfig:
    return CrmConfig(default_region="RU", default_currency="RUB", places_calls=True)


@pytest.fixture
async def crm_url(crm: Crm) -> AsyncIterator[str]:
    """The CRM's call endpoints and call-request API, as ``kanbot run`` serves them."""
    app = web.Application()
    cloud = CloudPbxSettings(_env_file=None, calls_secret=CALLS_SECRET)  # type: ignore[call-arg]
    app.add_routes(call_routes(ingest=crm.calls.ingest_call, settings=cloud))
    app.add_routes(api_routes(crm, secret=CALLS_SECRET, after_report=lambda: None))
    server = TestServer(app)
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def until(check: object, timeout_s: float = 15.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():  # type: ignore[operator]  # noqa: ASYNC110  # another process's state
            await asyncio.sleep(0.05)


async def test_the_bridge_places_a_request_made_before_it_started_and_the_call_lands_on_the_deal(
    crm: Crm, team: Team, fake_ami: FakeAmi, crm_url: str, tmp_path: Path
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="ACME", phone="+74951234567")
    request = await crm.dialing.request(deal_id=deal.id, actor=team.alice)  # waits: no bridge yet
    settings = AmiSettings(
        _env_file=None,
        ami_port=fake_ami.port,
        ami_username=AMI_USER,
        ami_secret=AMI_SECRET,
        crm_url=crm_url,
        calls_secret=CALLS_SECRET,
        ami_spool_path=tmp_path / "spool.sqlite",
    )  # type: ignore[call-arg]
    stop = asyncio.Event()
    bridge = asyncio.create_task(
        run_bridge(
            settings,
            stop=stop,
            flush_timeout_s=0.5,
            sender_backoff=QUICK,
            listener_options=LISTENER,
            originate=OriginateConfig(context="from-internal"),
            dial_poll_s=0.05,
        )
    )
    try:
        [originate] = await fake_ami.wait_for_originate(timeout_s=15)
        assert (originate["Channel"], originate["Exten"]) == ("PJSIP/101", "+74951234567")

        async def placed() -> bool:
            return (await crm.dialing.get(request_id=request.id, actor=team.alice)).is_settled

        async def on_the_deal() -> bool:
            return any(c.is_final for c in await crm.calls.of_deal(deal_id=deal.id, actor=team.alice))

        await until(placed)
        await until(on_the_deal)
        fake_ami.refuse_originate = "Extension does not exist."
        again = await crm.dialing.request(deal_id=deal.id, actor=team.alice)

        async def refused() -> bool:
            return (await crm.dialing.get(request_id=again.id, actor=team.alice)).is_settled

        await until(refused)
    finally:
        stop.set()
        await bridge
    assert (await crm.dialing.get(request_id=request.id, actor=team.alice)).status is DialStatus.PLACED
    refusal = await crm.dialing.get(request_id=again.id, actor=team.alice)
    assert (refusal.refusal, refusal.detail) == (Refusal.PBX_REFUSED, "Extension does not exist.")

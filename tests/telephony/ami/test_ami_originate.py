"""Calls placed from the CRM through Asterisk: the AMI ``Originate`` of the seller's phone into the
outbound context, and the call it makes, seen by the tracker like any call the seller placed."""

from __future__ import annotations

from datetime import UTC, datetime

from crm_core.domain.calls import CallDirection, CallStatus
from crm_core.domain.dialing import CallRequest, Refusal
from telephony_bridge.ami.listener import AmiListener
from telephony_bridge.dialing.ami import AmiDialer, OriginateConfig

from .helpers import Collector, FakeAmi
from .test_ami_listener import FAST, settings_for

REQUEST = CallRequest(
    id=7,
    deal_id=3,
    requester_id=2,
    extension="101",
    number="+74951234567",
    created_at=datetime.now(UTC),
    customer_name="Ivan",
)
CONFIG = OriginateConfig(context="from-internal", number="{digits}")


async def test_originate_rings_the_sellers_phone_then_dials_the_customer_and_the_call_is_tracked(
    fake_ami: FakeAmi,
) -> None:
    calls = Collector()
    async with AmiListener(settings_for(fake_ami.port), calls, **FAST) as listener:  # type: ignore[arg-type]
        await fake_ami.wait_for_login(1)
        outcome = await AmiDialer(CONFIG, listener.send_action).place(REQUEST)
        [action] = await fake_ami.wait_for_originate()
        [*_, final] = await calls.wait_for(2)
    assert outcome.placed and outcome.external_id == "kanbot-dial-7"
    assert action["Channel"] == "PJSIP/101"
    assert (action["Context"], action["Exten"], action["Priority"]) == ("from-internal", "74951234567", "1")
    assert action["Async"] == "true" and action["CallerID"] == "Ivan <+74951234567>"
    assert final.direction is CallDirection.OUTBOUND and final.status is CallStatus.ANSWERED
    assert (final.answered_by, final.dialed, final.duration_s) == ("101", "+74951234567", 42)


async def test_an_originate_asterisk_refuses_is_a_refusal_with_its_message(fake_ami: FakeAmi) -> None:
    fake_ami.refuse_originate = "Extension does not exist."
    async with AmiListener(settings_for(fake_ami.port), Collector(), **FAST) as listener:  # type: ignore[arg-type]
        await fake_ami.wait_for_login(1)
        outcome = await AmiDialer(CONFIG, listener.send_action).place(REQUEST)
    assert not outcome.placed
    assert (outcome.refusal, outcome.detail) == (Refusal.PBX_REFUSED, "Extension does not exist.")


async def test_without_a_connection_to_asterisk_the_call_is_refused_as_unreachable() -> None:
    listener = AmiListener(settings_for(1), Collector(), **FAST)  # type: ignore[arg-type]
    outcome = await AmiDialer(CONFIG, listener.send_action).place(REQUEST)
    assert not outcome.placed and outcome.refusal is Refusal.PBX_UNREACHABLE

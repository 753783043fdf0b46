"""The bridge process: AMI listener → durable spool → sender to the CRM, until told to stop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from crm_core.domain.calls import CallEvent
from telephony_bridge.ami.backoff import Backoff
from telephony_bridge.ami.listener import AmiListener, cancel_and_wait
from telephony_bridge.ami.sender import CallSender
from telephony_bridge.dialing.ami import AmiDialer, OriginateConfig
from telephony_bridge.dialing.api import CrmRequests
from telephony_bridge.dialing.placer import Placer
from telephony_bridge.recordings.api import CrmRecordings
from telephony_bridge.recordings.carrier import RecordingCarrier
from telephony_bridge.settings import AmiSettings
from telephony_bridge.spool import Spool

_log = logging.getLogger("telephony_bridge.ami")


def sender_secret(settings: AmiSettings) -> str:
    assert settings.calls_secret is not None
    return settings.calls_secret.get_secret_value()


async def run_bridge(
    settings: AmiSettings,
    *,
    stop: asyncio.Event,
    flush_timeout_s: float = 10.0,
    sender_backoff: Backoff | None = None,
    listener_options: dict[str, Any] | None = None,
    originate: OriginateConfig | None = None,
    dial_poll_s: float = 2.0,
    recordings_poll_s: float = 5.0,
) -> None:
    """Run until ``stop`` is set, then flush what the CRM takes within ``flush_timeout_s``; keep the rest.

    ``originate``: also place the calls asked for from the CRM's cards (AMI ``Originate``), fetching
    them over the signed API every ``dial_poll_s``. With ``KANBOT_AMI_RECORDINGS_DIR``, the answered
    calls' MixMonitor files are carried to the CRM too (looked for every ``recordings_poll_s``)."""
    if not settings.crm_url or settings.calls_secret is None:
        raise ValueError("the bridge needs KANBOT_CRM_URL and KANBOT_CALLS_SECRET")
    spool = Spool(settings.ami_spool_path)
    try:
        waiting = await spool.pending()
        if waiting:
            _log.info("%d call(s) from an earlier run wait in %s", waiting, spool.path)

        carrier: RecordingCarrier | None = None

        async def spool_call(call: CallEvent) -> None:
            await spool.put(call)
            if carrier is not None:
                carrier.expect(call)

        async with aiohttp.ClientSession() as session:
            files = settings.mixmonitor()
            carrying = None
            if files is not None:
                crm = CrmRecordings(session, crm_url=settings.crm_url, secret=sender_secret(settings))
                carrier = RecordingCarrier(files, crm.upload, poll_s=recordings_poll_s)
                if carrier.recover():
                    _log.info(
                        "%d recording(s) of the last hour offered to the CRM again", len(carrier.pending)
                    )
                carrying = asyncio.create_task(carrier.run(stop), name="bridge-recordings")
            sender = CallSender(
                spool,
                crm_url=settings.crm_url,
                secret=settings.calls_secret.get_secret_value(),
                session=session,
                backoff=sender_backoff,
            )
            sending = asyncio.create_task(sender.run(), name="bridge-sender")
            listener = AmiListener(settings, spool_call, **(listener_options or {}))
            await listener.start()
            placing = None
            if originate is not None:
                requests = CrmRequests(session, crm_url=settings.crm_url, secret=sender_secret(settings))
                dialer = AmiDialer(originate, listener.send_action)
                placer = Placer(dialer, claim=requests.claim, report=requests.report, poll_s=dial_poll_s)
                placing = asyncio.create_task(placer.run(stop), name="bridge-dial")
            try:
                await stop.wait()
            finally:
                if placing is not None:
                    await cancel_and_wait(placing)
                if carrying is not None:
                    await cancel_and_wait(carrying)
                await listener.stop()  # every call seen so far is now in the spool
                await cancel_and_wait(sending)
                await sender.drain(flush_timeout_s)
    finally:
        await spool.close()

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
from telephony_bridge.settings import AmiSettings
from telephony_bridge.spool import Spool

_log = logging.getLogger("telephony_bridge.ami")


async def run_bridge(
    settings: AmiSettings,
    *,
    stop: asyncio.Event,
    flush_timeout_s: float = 10.0,
    sender_backoff: Backoff | None = None,
    listener_options: dict[str, Any] | None = None,
) -> None:
    """Run until ``stop`` is set, then flush what the CRM takes within ``flush_timeout_s``; keep the rest."""
    if not settings.crm_url or settings.calls_secret is None:
        raise ValueError("the bridge needs KANBOT_CRM_URL and KANBOT_CALLS_SECRET")
    spool = Spool(settings.ami_spool_path)
    try:
        waiting = await spool.pending()
        if waiting:
            _log.info("%d call(s) from an earlier run wait in %s", waiting, spool.path)

        async def spool_call(call: CallEvent) -> None:
            await spool.put(call)

        async with aiohttp.ClientSession() as session:
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
            try:
                await stop.wait()
            finally:
                await listener.stop()  # every call seen so far is now in the spool
                await cancel_and_wait(sending)
                await sender.drain(flush_timeout_s)
    finally:
        await spool.close()

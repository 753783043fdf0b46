"""The worker role: while this process leads, the scheduler, the outbox delivery, the webhook sender,
the in-process AMI listener and the calls placed from the CRM run in it; otherwise it stands by."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from crm_core.domain.calls import CallEvent, CallStatus
from crm_core.domain.recordings import RecordingNotice
from kanbot.app import Kanbot
from kanbot.dialing import build_dialer, in_process_placer
from kanbot.leader import lead_while_possible
from kanbot.recordings import build_fetchers, recordings_tick
from kanbot.scheduler import build_scheduler
from kanbot.storage import database_of
from kanbot.webhooks import WebhookSender
from telephony_bridge.ami.listener import AmiListener

log = logging.getLogger(__name__)


async def work(kanbot: Kanbot, stop: asyncio.Event) -> None:
    """Lead when possible (scheduler + outbox delivery, the AMI listener and the calls placed from the
    CRM), stand by otherwise, until ``stop``."""
    settings = kanbot.settings

    async def lead(until: asyncio.Event) -> None:
        listener = ami_listener(kanbot)
        if listener is not None:
            await listener.start()
        placing = _placing(kanbot, listener, until)
        fetchers = build_fetchers(settings.dial, settings.ami)

        def after_tick() -> None:
            kanbot.delivery.wake.set()
            if kanbot.heap is not None:
                kanbot.heap.quiet()

        scheduler = build_scheduler(
            kanbot.crm,
            after_tick=after_tick,
            on_report=kanbot.metrics.count_followups,
            tick_seconds=settings.server.tick_seconds,
            recordings=lambda: recordings_tick(kanbot.crm, fetchers),
        )
        scheduler.start()
        hooks = WebhookSender(
            kanbot.crm,
            poll_s=settings.server.webhook_poll_seconds,
            backoff=timedelta(seconds=settings.server.webhook_backoff_seconds),
            timeout_s=settings.server.webhook_timeout_seconds,
            # SQLite has one writer at a time: its ids are committed in order, nothing to wait for.
            settle=timedelta(
                seconds=0 if database_of(kanbot.crm).is_sqlite else settings.server.webhook_settle_seconds
            ),
        )
        sending = asyncio.create_task(hooks.run(until), name="webhooks")
        try:
            await kanbot.delivery.run(until)
        finally:
            scheduler.shutdown(wait=False)
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
            if placing is not None:
                placing.cancel()
                await asyncio.gather(placing, return_exceptions=True)
            if listener is not None:
                await listener.stop()

    def changed(leading: bool) -> None:
        kanbot.leading = leading
        kanbot.metrics.leader.set(1 if leading else 0)

    await lead_while_possible(kanbot.crm, stop, lead, on_change=changed)


def _placing(kanbot: Kanbot, listener: AmiListener | None, until: asyncio.Event) -> asyncio.Task[None] | None:
    """Place the calls asked for from the cards through the configured PBX, until ``until``."""
    dialer = build_dialer(kanbot.settings.dial, listener)
    if dialer is None:
        return None
    placer = in_process_placer(kanbot.crm, dialer, after_report=kanbot.delivery.wake.set)
    kanbot.chat.after_update.append(placer.wake.set)  # a request just made is placed without waiting
    return asyncio.create_task(placer.run(until), name="dial")


def ami_listener(kanbot: Kanbot) -> AmiListener | None:
    """Asterisk's calls straight into this process, when KANBOT_AMI_USERNAME and KANBOT_AMI_SECRET are
    set; they are ingested (and counted in the metrics) as the calls posted over HTTP are."""
    settings = kanbot.settings.ami
    if not settings.ami_username or settings.ami_secret is None:
        return None

    files = settings.mixmonitor()

    async def on_call(event: CallEvent) -> None:
        await kanbot.ingest(event)
        name = files.name_for(event.call_id) if files is not None else None
        if name is not None and event.is_final and event.status is CallStatus.ANSWERED:
            # Its MixMonitor file, read from the shared directory by the recordings' tick.
            await kanbot.crm.recordings.note(RecordingNotice(event.provider, event.call_id, name))

    log.info("listening to Asterisk's AMI at %s:%s", settings.ami_host, settings.ami_port)
    return AmiListener(settings, on_call)

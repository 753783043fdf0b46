"""The composition root: one builder for every way of running Kanbot.

``open_crm`` opens the CRM over the configured database (the CLI's commands need no more); ``build``
puts the chat core, the outbox delivery, the metrics and (for a process that serves HTTP) the web
application around it, on a chat runtime: a bot of Kanbot's own (``kanbot run``) or a host's bot that
Kanbot is embedded in (``kanbot.embed``). Settings are read once, by the caller, and passed down.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from bot.core import actions, features
from bot.core.chat import ChatCore
from bot.core.context import ChatSettings
from bot.core.events import Event
from bot.core.notify import Notifier, note_renderers
from bot.delivery import Limits, OutboxDelivery
from bot.runtime import Runtime
from bot.webapp.menu import board_app_url
from crm_core.adapters import schema
from crm_core.adapters.database import Database
from crm_core.domain.calls import CallEvent, IngestOutcome
from crm_core.domain.errors import Unavailable
from crm_core.ports import Clock, RecordingFiles
from crm_core.services import Crm
from kanbot.heap import HeapTrimmer
from kanbot.metrics import Metrics
from kanbot.recordings import recording_files
from kanbot.settings import CoreSettings, Settings
from kanbot.web import web_app

Ingest = Callable[[CallEvent], Awaitable[IngestOutcome]]


class NotReady(Exception):
    """The database is missing or behind the code's migrations."""


@asynccontextmanager
async def open_crm(
    settings: CoreSettings | None = None,
    *,
    clock: Clock | None = None,
    upgrade: bool = False,
    recording_files: RecordingFiles | None = None,
    places_calls: bool = False,
) -> AsyncIterator[Crm]:
    """The CRM over the configured database; ``upgrade=True`` migrates it first; ``recording_files``:
    where the calls' recordings are kept; ``places_calls``: a PBX places the calls asked for from cards."""
    settings = settings or CoreSettings()
    config = dataclasses.replace(settings.crm_config(), places_calls=places_calls)
    db = Database(settings.database_url)
    try:
        if upgrade:
            from crm_core.adapters import migrate  # Alembic, only for the commands that migrate

            await migrate.upgrade(db)
        elif not await schema.is_current(db):
            raise NotReady(
                "The database is not set up or is out of date: run `kanbot init` (or `kanbot db upgrade`)."
            )
        yield Crm(db, clock=clock, config=config, recording_files=recording_files)
    finally:
        await db.dispose()


@dataclass
class Kanbot:
    """The parts of a running Kanbot, for the process, an embedding host, and tests that drive it.

    ``ingest`` takes a call into the CRM, counted in the metrics and hurrying its pop-up, whether it
    came over HTTP or from the in-process AMI listener. ``web`` is ``None`` where nothing is served.
    """

    settings: Settings
    crm: Crm
    runtime: Runtime
    chat: ChatCore
    delivery: OutboxDelivery
    metrics: Metrics
    ingest: Ingest
    web: web.Application | None = None
    http_port: int = 0
    leading: bool = False
    heap: HeapTrimmer | None = None  # a process of Kanbot's own gives its heap back when quiet


@asynccontextmanager
async def build(
    settings: Settings,
    runtime: Runtime,
    *,
    clock: Clock | None = None,
    serve_http: bool = True,
    web_role: bool = True,
) -> AsyncIterator[Kanbot]:
    """Every part of Kanbot over one database, mounted on ``runtime``; closes them all (the runtime
    too) on exit.

    ``serve_http``: build the web application (health, readiness, metrics; an embedded Kanbot serves
    none). ``web_role``: it serves the call endpoints, the board app and the Telegram webhook too (a
    worker serves only health).
    """
    try:
        identity = await runtime.identity()
        places_calls = settings.dial.dial_via is not None
        files = recording_files(settings.core)
        async with open_crm(
            settings.core, clock=clock, recording_files=files, places_calls=places_calls
        ) as crm:
            for boss_id in settings.core.boss_ids:
                await crm.users.ensure_boss(telegram_id=boss_id, name="Boss")
            chat_settings = ChatSettings(
                bot_username=identity.username, bot_id=identity.id, board_app_url=board_url(settings)
            )
            # the chat's three registries, filled here and nowhere else: its features (commands,
            # buttons, dialog steps), the button actions they read back, and the notifications' renderers
            chat = ChatCore(crm, chat_settings, routers=features.routers(), button_codec=actions.codec())
            delivery = OutboxDelivery(
                crm,
                Notifier(crm, chat_settings, renderers=note_renderers()),
                runtime.messenger,
                limits=Limits(per_second=settings.telegram.outbox_per_second),
            )
            chat.after_update.append(delivery.wake.set)  # what an update queued goes out without delay
            metrics = Metrics()
            metrics.watch_delivery(delivery)
            metrics.watch_updates(runtime.updates)
            chat.observers.append(lambda event, outcome, seconds: _observe(metrics, event, outcome, seconds))
            runtime.mount(chat)

            async def ingest(event: CallEvent) -> IngestOutcome:
                outcome = await crm.calls.ingest_call(event)
                delivery.wake.set()  # a pop-up card should not wait for the next pass
                return outcome

            kanbot = Kanbot(settings, crm, runtime, chat, delivery, metrics, _counted(ingest, metrics))
            if serve_http:
                kanbot.web = web_app(kanbot, web_role=web_role)
            yield kanbot
    finally:
        await runtime.close()


def board_url(settings: Settings) -> str | None:
    """KANBOT_BOARD_APP_URL, else KANBOT_PUBLIC_URL + /app/board, else this server (with a local Bot API)."""
    return board_app_url(
        explicit=settings.telegram.board_app_url,
        public_url=settings.cloud.public_url,
        host=settings.server.http_host,
        port=settings.server.http_port,
        local_bot_api=settings.telegram.telegram_api_url is not None,
    )


def _observe(metrics: Metrics, event: Event, outcome: str, seconds: float) -> None:
    kind = type(event).__name__.lower()
    metrics.updates.labels(kind=kind, outcome=outcome).inc()
    metrics.latency.labels(kind=kind).observe(seconds)
    if outcome == "unavailable":
        metrics.db_errors.inc()


def _counted(ingest: Ingest, metrics: Metrics) -> Ingest:
    async def counted(event: CallEvent) -> IngestOutcome:
        try:
            outcome = await ingest(event)
        except Unavailable:
            metrics.db_errors.inc()
            raise
        result = "duplicate" if outcome.duplicate else "created" if outcome.created else "recorded"
        metrics.calls.labels(provider=event.provider, status=event.status.value, result=result).inc()
        return outcome

    return counted

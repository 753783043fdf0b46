"""What Kanbot serves over HTTP: health, readiness and metrics, and in the web role the PBXs' webhooks,
the signed call API, the board app and Telegram's webhook."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web

from bot.webapp.api import webapp_routes
from crm_core.adapters import schema
from crm_core.adapters.database import Database
from crm_core.domain.calls import CallEvent, IngestOutcome
from crm_core.domain.errors import Unavailable
from crm_core.domain.recordings import RecordingNotice
from crm_core.services import Crm
from kanbot.api import rest_routes
from kanbot.api.leads import PostLimit, lead_routes
from kanbot.api.openapi import merged
from kanbot.dialing import api_routes
from kanbot.metrics import CONTENT_TYPE, Metrics
from kanbot.storage import database_of
from telephony_bridge.http import call_routes
from telephony_bridge.providers.openapi import OPENAPI_PATH, calls_openapi
from telephony_bridge.recordings.api import recording_routes
from telephony_bridge.settings import CloudPbxSettings

if TYPE_CHECKING:
    from kanbot.app import Kanbot


def web_app(kanbot: Kanbot, *, web_role: bool) -> web.Application:
    """The web application of a process; ``web_role``: the call endpoints, the board app and the
    Telegram webhook too (a worker serves only health, readiness and metrics)."""
    settings, crm, wake = kanbot.settings, kanbot.crm, kanbot.delivery.wake.set
    app = web.Application(client_max_size=settings.cloud.max_body_bytes)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz(database_of(crm)))
    app.router.add_get("/metrics", _metrics(kanbot.metrics, crm))
    if web_role:
        calls = telephony_routes(crm, settings.cloud, ingest=kanbot.ingest, wake=wake)
        app.add_routes([r for r in calls if not (r.method == "GET" and r.path == OPENAPI_PATH)])
        app.router.add_get(OPENAPI_PATH, _openapi(merged(calls_openapi())))  # the calls' and the REST API's
        app.add_routes(
            rest_routes(
                crm,
                rate_limit=settings.server.api_rate_limit,
                rate_window_seconds=settings.server.api_rate_window_seconds,
            )
        )
        server = settings.server
        limit = PostLimit(server.form_posts_per_window, server.form_window_seconds)
        app.add_routes(
            lead_routes(crm, origins=server.form_origins, limit=limit, wake=wake)
        )  # web-form leads
        app.add_routes(webapp_routes(crm, bot_token=settings.telegram.token(), notify=wake))  # the board app
        hook_secret = settings.telegram.webhook_secret_value()  # webhook mode never starts without one
        if settings.telegram.webhook_url and hook_secret:
            kanbot.runtime.webhook_route(app, webhook_path(settings.telegram.webhook_url), hook_secret)
    return app


def telephony_routes(
    crm: Crm,
    settings: CloudPbxSettings,
    *,
    ingest: Callable[[CallEvent], Awaitable[IngestOutcome]],
    wake: Callable[[], None],
) -> list[web.RouteDef]:
    """The PBXs' webhooks and the signed API (calls, call requests, recordings) and its OpenAPI
    document, as the web role serves them; ``wake`` hurries the outbox after a call request's outcome."""
    calls_secret = settings.calls_secret
    secret = calls_secret.get_secret_value() if calls_secret is not None else None
    return [
        *call_routes(ingest=ingest, settings=settings, bind=crm.calls.bind_seal, note=crm.recordings.note),
        *api_routes(crm, secret=secret, after_report=wake),
        *recording_routes(upload=_uploader(crm), secret=secret),
    ]


def webhook_path(url: str) -> str:
    """Where Telegram posts updates on this server: the webhook URL's path."""
    path = urlsplit(url).path
    return path if path and path != "/" else "/telegram/webhook"


def _uploader(crm: Crm) -> Callable[[RecordingNotice, bytes, str | None], Awaitable[object]]:
    async def upload(notice: RecordingNotice, data: bytes, file_name: str | None) -> object:
        """Keep a recording the bridge carried (an Asterisk MixMonitor file)."""
        return await crm.recordings.upload(notice=notice, data=data, file_name=file_name)

    return upload


def _openapi(document: dict[str, object]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def openapi(request: web.Request) -> web.Response:
        """The OpenAPI document of everything under /api/v1."""
        return web.json_response(document)

    return openapi


async def _healthz(request: web.Request) -> web.Response:
    """The process is alive."""
    return web.json_response({"status": "ok"})


def _readyz(db: Database) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def readyz(request: web.Request) -> web.Response:
        """The database answers and its schema is the code's."""
        try:
            current = await asyncio.wait_for(schema.is_current(db), timeout=5)
        except Exception as error:
            return web.json_response({"status": "unavailable", "database": type(error).__name__}, status=503)
        if not current:
            return web.json_response({"status": "unavailable", "database": "migrations pending"}, status=503)
        return web.json_response({"status": "ready"})

    return readyz


def _metrics(metrics: Metrics, crm: Crm) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def scrape(request: web.Request) -> web.Response:
        """Prometheus metrics; the outbox figures are read fresh from the database."""
        try:
            async with crm.db.uow(write=False) as uow:
                stats = await uow.outbox.stats(now=crm.clock.now())
            metrics.outbox_depth.set(stats["pending"])
            metrics.outbox_oldest.set(stats["oldest_pending_s"])
        except Unavailable:
            metrics.db_errors.inc()
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    return scrape

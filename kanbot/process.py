"""One Kanbot process: the bot, the HTTP server, the outbox delivery (and later the scheduler), wired."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web

from bot.core.chat import ChatCore
from bot.core.context import ChatSettings
from bot.core.events import Event
from bot.core.features.menu import command_list
from bot.core.i18n import SUPPORTED, Tr
from bot.core.notify import Notifier
from bot.core.perform import Messenger
from bot.delivery import Limits, OutboxDelivery
from bot.webapp.api import webapp_routes
from bot.webapp.menu import board_app_url, set_board_menu_button
from crm_core.adapters import schema
from crm_core.adapters.database import Database
from crm_core.domain.calls import CallEvent, CallStatus, IngestOutcome
from crm_core.domain.errors import Unavailable
from crm_core.domain.recordings import RecordingNotice
from crm_core.domain.users import Role
from crm_core.ports import Clock
from crm_core.services import Crm
from kanbot.app import NotReady
from kanbot.dialing import api_routes, build_dialer, in_process_placer
from kanbot.http_server import HttpLimits, start_http
from kanbot.leader import lead_while_possible
from kanbot.logs import add_secret
from kanbot.metrics import CONTENT_TYPE, Metrics
from kanbot.recordings import build_fetchers, recording_files, recordings_tick
from kanbot.runtimes import Identity, Runtime, aiogram_bot, make_runtime
from kanbot.scheduler import build_scheduler
from kanbot.settings import Settings
from kanbot.storage import database_of
from telephony_bridge.ami.listener import AmiListener
from telephony_bridge.http import call_routes
from telephony_bridge.recordings.api import recording_routes
from telephony_bridge.settings import AmiSettings, CloudPbxSettings, DialSettings

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)
SHUTDOWN_S = 8.0  # SIGTERM to exit: systemd and Compose allow ten seconds


def make_bot(token: str, api_url: str | None) -> Bot:
    """An aiogram Bot for one-off calls (`kanbot webhook ...`, `kanbot doctor`)."""
    return aiogram_bot(token, api_url)


@dataclass
class Kanbot:
    """The parts of a running Kanbot, for the process and for tests that drive it."""

    crm: Crm
    runtime: Runtime
    chat: ChatCore
    delivery: OutboxDelivery
    web: web.Application
    http_port: int = 0
    metrics: Metrics = field(default_factory=Metrics)
    leading: bool = False


async def board_menu_buttons(settings: Settings, crm: Crm, board_url: str) -> asyncio.Task[None] | None:
    """The menu button opens the board: labelled in English by default (Telegram keeps one default for
    every language), and — in the background, not to hold up the start — in each member's own language
    in their chat (a chat that starts later gets its label from /start)."""
    set_button = functools.partial(
        set_board_menu_button,
        bot_token=settings.telegram.token(),
        api_url=settings.telegram.telegram_api_url,
        board_url=board_url,
    )
    if not await set_button():
        return None
    members = [u for u in await crm.users.list(active=True) if u.locale != "en"]

    async def in_their_languages() -> None:
        for user in members:
            await set_button(locale=user.locale, chat_id=user.telegram_id)

    return asyncio.create_task(in_their_languages(), name="menu-buttons") if members else None


async def register_commands(runtime: Runtime, crm: Crm) -> None:
    """Telegram's command menu: the sellers' by default, in each language; bosses get theirs per chat."""
    by_locale = {locale: command_list(Tr(locale), boss=False) for locale in SUPPORTED}
    bosses = await crm.users.list(role=Role.BOSS, active=True)
    per_chat = {boss.telegram_id: command_list(Tr(boss.locale), boss=True) for boss in bosses}
    await runtime.register_commands(by_locale, per_chat)


@dataclass
class Core:
    """What every way of running Kanbot shares: the CRM, the chat core and the outbox delivery."""

    crm: Crm
    chat: ChatCore
    delivery: OutboxDelivery
    metrics: Metrics
    leading: bool = False


@contextlib.asynccontextmanager
async def open_core(
    settings: Settings, *, identity: Identity, messenger: Messenger, clock: Clock | None = None
) -> AsyncIterator[Core]:
    """The CRM over the configured (and current) database, the chat core for the bot ``identity``, and
    the outbox delivery sending through ``messenger``; the database is closed on exit."""
    db = Database(settings.core.database_url)
    try:
        if not await schema.is_current(db):
            raise NotReady(
                "The database is not set up or is out of date: run `kanbot init` (or `kanbot db upgrade`)."
            )
        config = dataclasses.replace(
            settings.core.crm_config(), places_calls=settings.dial.dial_via is not None
        )
        crm = Crm(db, clock=clock, config=config, recording_files=recording_files(settings.core))
        for boss_id in settings.core.boss_ids:
            await crm.users.ensure_boss(telegram_id=boss_id, name="Boss")
        chat_settings = ChatSettings(
            bot_username=identity.username, bot_id=identity.id, board_app_url=_board_url(settings)
        )
        chat = ChatCore(crm, chat_settings)
        delivery = OutboxDelivery(
            crm,
            Notifier(crm, chat_settings),
            messenger,
            limits=Limits(per_second=settings.telegram.outbox_per_second),
        )
        chat.after_update.append(delivery.wake.set)  # what an update queued goes out without delay
        metrics = Metrics()
        metrics.watch_delivery(delivery)
        chat.observers.append(lambda event, outcome, seconds: _observe(metrics, event, outcome, seconds))
        yield Core(crm, chat, delivery, metrics)
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def assemble(
    settings: Settings, *, clock: Clock | None = None, web_role: bool = True
) -> AsyncIterator[Kanbot]:
    """Build every part over one database; closes them all on exit.

    ``web_role``: serve the call endpoints and the Telegram webhook (a worker serves only health).
    """
    token = settings.telegram.token()
    hook_secret = settings.telegram.webhook_secret_value()  # webhook mode never starts without one
    runtime = make_runtime(settings.telegram.runtime, token, settings.telegram.telegram_api_url)
    try:
        identity = await runtime.identity()
        async with open_core(settings, identity=identity, messenger=runtime.messenger, clock=clock) as core:
            crm, chat, delivery, metrics = core.crm, core.chat, core.delivery, core.metrics
            runtime.mount(chat)

            async def ingest(event: CallEvent) -> IngestOutcome:
                outcome = await crm.calls.ingest_call(event)
                delivery.wake.set()  # a pop-up card should not wait for the next pass
                return outcome

            app = web.Application(client_max_size=settings.cloud.max_body_bytes)
            app.router.add_get("/healthz", _healthz)
            app.router.add_get("/readyz", _readyz(database_of(crm)))
            app.router.add_get("/metrics", _metrics(metrics, crm))
            if web_role:
                app.add_routes(
                    telephony_routes(
                        crm, settings.cloud, ingest=_counted(ingest, metrics), wake=delivery.wake.set
                    )
                )
                app.add_routes(webapp_routes(crm, bot_token=token, notify=delivery.wake.set))  # the board app
                if settings.telegram.webhook_url and hook_secret:
                    runtime.webhook_route(app, webhook_path(settings.telegram.webhook_url), hook_secret)
            yield Kanbot(crm, runtime, chat, delivery, app, metrics=metrics)
    finally:
        await runtime.close()


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


def _uploader(crm: Crm) -> Callable[[RecordingNotice, bytes, str | None], Awaitable[object]]:
    async def upload(notice: RecordingNotice, data: bytes, file_name: str | None) -> object:
        """Keep a recording the bridge carried (an Asterisk MixMonitor file)."""
        return await crm.recordings.upload(notice=notice, data=data, file_name=file_name)

    return upload


def _board_url(settings: Settings) -> str | None:
    """KANBOT_BOARD_APP_URL, else KANBOT_PUBLIC_URL + /app/board, else this server (with a local Bot API)."""
    return board_app_url(
        explicit=settings.telegram.board_app_url,
        public_url=settings.cloud.public_url,
        host=settings.server.http_host,
        port=settings.server.http_port,
        local_bot_api=settings.telegram.telegram_api_url is not None,
    )


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


def _observe(metrics: Metrics, event: Event, outcome: str, seconds: float) -> None:
    kind = type(event).__name__.lower()
    metrics.updates.labels(kind=kind, outcome=outcome).inc()
    metrics.latency.labels(kind=kind).observe(seconds)
    if outcome == "unavailable":
        metrics.db_errors.inc()


def _counted(
    ingest: Callable[[CallEvent], Awaitable[IngestOutcome]], metrics: Metrics
) -> Callable[[CallEvent], Awaitable[IngestOutcome]]:
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


def webhook_path(url: str) -> str:
    """Where Telegram posts updates on this server: the webhook URL's path."""
    path = urlsplit(url).path
    return path if path and path != "/" else "/telegram/webhook"


async def run(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    clock: Clock | None = None,
    ready: asyncio.Future[Kanbot] | None = None,
    web_role: bool = True,
    worker_role: bool = True,
) -> None:
    """Run Kanbot until ``stop`` (or SIGINT/SIGTERM): ``kanbot run`` is both roles in one process.

    The web role takes updates (long polling, or the webhook when KANBOT_WEBHOOK_URL is set) and
    serves the call endpoints; the worker role runs the scheduler and the outbox delivery when it
    leads (one worker at a time on PostgreSQL). Shutdown stops taking updates first, lets the ones in
    flight finish, and leaves the outbox consistent.
    """
    stop = stop or _stop_on_signals()
    for secret in _secrets(settings):
        add_secret(secret)
    async with assemble(settings, clock=clock, web_role=web_role) as kanbot:
        server = await start_http(
            kanbot.web, settings.server.http_host, settings.server.http_port, HttpLimits.of(settings.server)
        )
        kanbot.http_port = server.port
        tasks: list[asyncio.Task[None]] = []
        polling = web_role and not settings.telegram.webhook_url
        if web_role:
            await register_commands(kanbot.runtime, kanbot.crm)
            if kanbot.chat.settings.board_app_url:  # the chat's menu button opens the board app
                labels = await board_menu_buttons(settings, kanbot.crm, kanbot.chat.settings.board_app_url)
                tasks += [labels] if labels is not None else []
            if polling:
                await kanbot.runtime.start_polling()
            else:
                hook_secret = settings.telegram.webhook_secret_value()
                assert settings.telegram.webhook_url is not None and hook_secret is not None
                await kanbot.runtime.set_webhook(settings.telegram.webhook_url, hook_secret)
        if worker_role:
            tasks.append(
                asyncio.create_task(
                    work(kanbot, stop, tick_s=settings.server.tick_seconds, settings=settings), name="worker"
                )
            )
        intake = "polling" if polling else "webhook" if web_role else "none (worker)"
        log.info(
            "Kanbot is running on %s as @%s (updates: %s); HTTP on %s:%s",
            kanbot.runtime.name,
            kanbot.chat.settings.bot_username,
            intake,
            settings.server.http_host,
            kanbot.http_port,
        )
        if ready is not None and not ready.done():
            ready.set_result(kanbot)
        try:
            await stop.wait()
        finally:
            log.info("stopping: no new updates; finishing what is in flight")
            deadline = asyncio.get_running_loop().time() + SHUTDOWN_S
            if polling:
                await kanbot.runtime.stop_polling()
            await server.shutdown()
            await _wind_down(tasks, deadline)
            await server.cleanup()  # webhook requests in flight finish here
            log.info("stopped")


async def _wind_down(tasks: list[asyncio.Task[None]], deadline: float) -> None:
    """Let the worker finish until ``deadline``; past it, cancel it and say so (the exit stays clean)."""
    if not tasks:
        return
    timeout = max(deadline - asyncio.get_running_loop().time(), 0.5)
    _, late = await asyncio.wait(tasks, timeout=timeout)
    for task in late:
        log.warning("%s did not stop within %.0f s: cancelled", task.get_name(), SHUTDOWN_S)
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def work(
    kanbot: Kanbot | Core, stop: asyncio.Event, *, tick_s: int = 60, settings: Settings | None = None
) -> None:
    """The worker role: lead when possible (scheduler + outbox delivery, the AMI listener and the calls
    placed from the CRM), stand by otherwise."""
    ami = settings.ami if settings is not None else AmiSettings()
    dial = settings.dial if settings is not None else DialSettings()

    async def lead(until: asyncio.Event) -> None:
        listener = _ami_listener(kanbot, ami)
        if listener is not None:
            await listener.start()
        placing = _placing(kanbot, dial, listener, until)
        fetchers = build_fetchers(dial, ami)
        scheduler = build_scheduler(
            kanbot.crm,
            after_tick=kanbot.delivery.wake.set,
            on_report=kanbot.metrics.count_followups,
            tick_seconds=tick_s,
            recordings=lambda: recordings_tick(kanbot.crm, fetchers),
        )
        scheduler.start()
        try:
            await kanbot.delivery.run(until)
        finally:
            scheduler.shutdown(wait=False)
            if placing is not None:
                placing.cancel()
                await asyncio.gather(placing, return_exceptions=True)
            if listener is not None:
                await listener.stop()

    def changed(leading: bool) -> None:
        kanbot.leading = leading
        kanbot.metrics.leader.set(1 if leading else 0)

    await lead_while_possible(kanbot.crm, stop, lead, on_change=changed)


def _placing(
    kanbot: Kanbot | Core, settings: DialSettings, listener: AmiListener | None, until: asyncio.Event
) -> asyncio.Task[None] | None:
    """Place the calls asked for from the cards through the configured PBX, until ``until``."""
    dialer = build_dialer(settings, listener)
    if dialer is None:
        return None
    placer = in_process_placer(kanbot.crm, dialer, after_report=kanbot.delivery.wake.set)
    kanbot.chat.after_update.append(placer.wake.set)  # a request just made is placed without waiting
    return asyncio.create_task(placer.run(until), name="dial")


def _ami_listener(kanbot: Kanbot | Core, settings: AmiSettings) -> AmiListener | None:
    """Asterisk's calls straight into this process, when KANBOT_AMI_USERNAME and KANBOT_AMI_SECRET are set."""
    if not settings.ami_username or settings.ami_secret is None:
        return None

    files = settings.mixmonitor()

    async def on_call(event: CallEvent) -> None:
        await kanbot.crm.calls.ingest_call(event)
        kanbot.delivery.wake.set()
        name = files.name_for(event.call_id) if files is not None else None
        if name is not None and event.is_final and event.status is CallStatus.ANSWERED:
            # Its MixMonitor file, read from the shared directory by the recordings' tick.
            await kanbot.crm.recordings.note(RecordingNotice(event.provider, event.call_id, name))

    log.info("listening to Asterisk's AMI at %s:%s", settings.ami_host, settings.ami_port)
    return AmiListener(settings, on_call)


async def set_webhook(bot: Bot, settings: Settings) -> None:
    """Point Telegram at our webhook (idempotent), with the secret it must send back."""
    assert settings.telegram.webhook_url is not None
    await bot.set_webhook(
        settings.telegram.webhook_url,
        secret_token=settings.telegram.webhook_secret_value(),
        allowed_updates=["message", "callback_query", "my_chat_member"],
    )


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.telegram.bot_token,
        settings.telegram.webhook_secret,
        settings.cloud.twilio_auth_token,
        settings.cloud.zadarma_secret,
        settings.cloud.mango_api_key,
        settings.cloud.mango_api_salt,
        settings.cloud.calls_secret,
    ]
    return [v.get_secret_value() for v in values if v is not None]


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def flush_outbox(settings: Settings) -> int:
    """Send what is due in the outbox now (``kanbot outbox --flush``)."""
    async with assemble(settings) as kanbot:
        return await kanbot.delivery.flush()

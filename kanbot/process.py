"""One Kanbot process: the bot, the HTTP server, the outbox delivery (and later the scheduler), wired."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiohttp import web

from bot.aiogram_runtime import AiogramTransport, build_router
from bot.core.chat import ChatCore
from bot.core.context import ChatSettings
from bot.core.features.menu import command_list
from bot.core.i18n import SUPPORTED, Tr
from bot.core.notify import Notifier
from bot.delivery import Limits, OutboxDelivery
from crm_core.adapters import migrate
from crm_core.adapters.database import Database
from crm_core.domain.calls import CallEvent, IngestOutcome
from crm_core.domain.users import Role
from crm_core.ports import Clock
from crm_core.services import Crm
from kanbot.app import NotReady
from kanbot.scheduler import build_scheduler
from kanbot.settings import Settings
from telephony_bridge.http import call_routes

log = logging.getLogger(__name__)


def make_bot(token: str, api_url: str | None) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else AiohttpSession()
    return Bot(token, session=session)


@dataclass
class Kanbot:
    """The parts of a running Kanbot, for the process and for tests that drive it."""

    crm: Crm
    bot: Bot
    chat: ChatCore
    dispatcher: Dispatcher
    delivery: OutboxDelivery
    web: web.Application
    http_port: int = 0


async def register_commands(bot: Bot, crm: Crm) -> None:
    """Telegram's command menu: the sellers' by default, in each language; bosses get theirs per chat."""
    for locale in SUPPORTED:
        commands = [BotCommand(command=c, description=d) for c, d in command_list(Tr(locale), boss=False)]
        await bot.set_my_commands(
            commands, scope=BotCommandScopeDefault(), language_code=None if locale == "en" else locale
        )
    for boss in await crm.users.list(role=Role.BOSS, active=True):
        commands = [BotCommand(command=c, description=d) for c, d in command_list(Tr(boss.locale), boss=True)]
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=boss.telegram_id))


@contextlib.asynccontextmanager
async def assemble(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Kanbot]:
    """Build every part over one database; closes them all on exit."""
    token = settings.telegram.token()
    db = Database(settings.core.database_url)
    bot = make_bot(token, settings.telegram.telegram_api_url)
    try:
        if not await migrate.is_current(db):
            raise NotReady(
                "The database is not set up or is out of date: run `kanbot init` (or `kanbot db upgrade`)."
            )
        crm = Crm(db, clock=clock, config=settings.core.crm_config())
        for boss_id in settings.core.boss_ids:
            await crm.users.ensure_boss(telegram_id=boss_id, name="Boss")
        me = await bot.get_me()
        chat_settings = ChatSettings(
            bot_username=me.username or "kanbot", bot_id=me.id, board_app_url=settings.telegram.board_app_url
        )
        chat = ChatCore(crm, chat_settings)
        dispatcher = Dispatcher()
        dispatcher.include_router(build_router(chat))
        delivery = OutboxDelivery(
            crm,
            Notifier(crm, chat_settings),
            AiogramTransport(bot),
            limits=Limits(per_second=settings.telegram.outbox_per_second),
        )
        chat.after_update.append(delivery.wake.set)  # what an update queued goes out without delay

        async def ingest(event: CallEvent) -> IngestOutcome:
            outcome = await crm.calls.ingest_call(event)
            delivery.wake.set()  # a pop-up card should not wait for the next pass
            return outcome

        app = web.Application(client_max_size=settings.cloud.max_body_bytes)
        app.add_routes(call_routes(ingest=ingest, settings=settings.cloud))
        app.router.add_get("/healthz", _healthz)
        yield Kanbot(crm, bot, chat, dispatcher, delivery, app)
    finally:
        await bot.session.close()
        await db.dispose()


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def run(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    clock: Clock | None = None,
    ready: asyncio.Future[Kanbot] | None = None,
) -> None:
    """Run everything in one process until ``stop`` (or SIGINT/SIGTERM)."""
    stop = stop or _stop_on_signals()
    async with assemble(settings, clock=clock) as kanbot:
        runner = web.AppRunner(kanbot.web, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, settings.server.http_host, settings.server.http_port)
        await site.start()
        kanbot.http_port = runner.addresses[0][1] if runner.addresses else settings.server.http_port
        await register_commands(kanbot.bot, kanbot.crm)
        await kanbot.bot.delete_webhook(drop_pending_updates=False)
        polling = asyncio.create_task(
            kanbot.dispatcher.start_polling(
                kanbot.bot, handle_signals=False, close_bot_session=False, polling_timeout=10
            ),
            name="polling",
        )
        delivering = asyncio.create_task(kanbot.delivery.run(stop), name="outbox")
        scheduler = build_scheduler(kanbot.crm, after_tick=kanbot.delivery.wake.set)
        scheduler.start()
        log.info(
            "Kanbot is running as @%s; HTTP on %s:%s",
            kanbot.chat.settings.bot_username,
            settings.server.http_host,
            settings.server.http_port,
        )
        if ready is not None and not ready.done():
            ready.set_result(kanbot)
        try:
            await stop.wait()
        finally:
            log.info("stopping: no new updates; finishing what is in flight")
            scheduler.shutdown(wait=False)
            with contextlib.suppress(RuntimeError):
                await kanbot.dispatcher.stop_polling()
            await asyncio.wait_for(asyncio.gather(polling, delivering, return_exceptions=True), timeout=8)
            await runner.cleanup()


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

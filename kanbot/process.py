"""One Kanbot process: the bot, the HTTP server, the outbox delivery and the scheduler, run and stopped.

``kanbot.app.build`` puts the parts together; this module runs them in their roles, and stops them in
order on SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal

from bot.core.features.menu import command_list
from bot.core.i18n import SUPPORTED, Tr
from bot.runtime import Runtime
from bot.webapp.menu import set_board_menu_button
from crm_core.domain.users import Role
from crm_core.ports import Clock
from crm_core.services import Crm
from kanbot.app import Kanbot, build
from kanbot.heap import HeapTrimmer
from kanbot.http_server import HttpLimits, start_http
from kanbot.logs import add_secret
from kanbot.runtimes import make_runtime
from kanbot.settings import Settings
from kanbot.worker import work

__all__ = ["Kanbot", "flush_outbox", "run"]

log = logging.getLogger(__name__)
SHUTDOWN_S = 8.0  # SIGTERM to exit: systemd and Compose allow ten seconds


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
    token = settings.telegram.token()
    settings.telegram.webhook_secret_value()  # webhook mode never starts without one
    runtime = make_runtime(
        settings.telegram.runtime,
        token,
        settings.telegram.telegram_api_url,
        max_updates=settings.telegram.max_concurrent_updates,
    )
    async with build(settings, runtime, clock=clock, web_role=web_role) as kanbot:
        assert kanbot.web is not None
        kanbot.heap = HeapTrimmer()
        kanbot.runtime.updates.on_idle.append(kanbot.heap.quiet)
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
            tasks.append(asyncio.create_task(work(kanbot, stop), name="worker"))
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
            await kanbot.heap.close()
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
    runtime = make_runtime(
        settings.telegram.runtime, settings.telegram.token(), settings.telegram.telegram_api_url
    )
    async with build(settings, runtime, serve_http=False) as kanbot:
        return await kanbot.delivery.flush()

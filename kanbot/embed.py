"""Kanbot inside an existing bot: attach it to an aiogram Dispatcher or a python-telegram-bot Application.

The host keeps its bot, its token and its own handlers; Kanbot adds its handlers after them and runs
its outbox delivery and scheduler in the background, on the database in ``KANBOT_DATABASE_URL``
(see docs/embedding.md). It is built as ``kanbot run`` is (``kanbot.app.build``), on a runtime over
the host's bot, and serves no HTTP of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from bot.core.chat import ChatCore
from bot.runtime import Runtime
from crm_core.services import Crm
from kanbot.app import Kanbot, build
from kanbot.settings import Settings
from kanbot.worker import work

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher
    from telegram.ext import Application


class EmbeddedKanbot:
    """Kanbot running inside a host bot; ``close()`` stops its background work and its database."""

    def __init__(
        self,
        scope: AbstractAsyncContextManager[Kanbot],
        kanbot: Kanbot,
        stop: asyncio.Event,
        worker: asyncio.Task[None],
    ) -> None:
        self._scope, self.kanbot, self._stop, self._worker = scope, kanbot, stop, worker

    @property
    def chat(self) -> ChatCore:
        return self.kanbot.chat

    @property
    def crm(self) -> Crm:
        return self.kanbot.crm

    async def close(self, *_: Any, **__: Any) -> None:
        """Stop the outbox and the scheduler, then the database (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(self._worker, timeout=10)
        await self._scope.__aexit__(None, None, None)


async def _start(settings: Settings | None, runtime: Runtime) -> EmbeddedKanbot:
    scope = build(settings or Settings(), runtime, serve_http=False)
    kanbot = await scope.__aenter__()
    stop = asyncio.Event()
    worker = asyncio.create_task(work(kanbot, stop), name="kanbot-worker")
    return EmbeddedKanbot(scope, kanbot, stop, worker)


async def attach_to_aiogram(
    dispatcher: Dispatcher, bot: Bot, settings: Settings | None = None
) -> EmbeddedKanbot:
    """Include Kanbot's router after the host's own routers and start its background work.

    Call it before ``dispatcher.start_polling(bot)``; Kanbot closes when the dispatcher shuts down.
    """
    from bot.aiogram_runtime import AiogramRuntime

    kanbot = await _start(settings, AiogramRuntime.inside(dispatcher, bot))
    dispatcher.shutdown.register(kanbot.close)
    return kanbot


async def attach_to_ptb(
    application: Application[Any, Any, Any, Any, Any, Any],
    settings: Settings | None = None,
    *,
    group: int = 1,
) -> EmbeddedKanbot:
    """Add Kanbot's handlers in ``group`` (after the host's, in group 0) and start its background work.

    Call it from the Application's ``post_init``; call ``close()`` from its ``post_shutdown``.
    """
    from bot.ptb_runtime import PtbRuntime

    return await _start(settings, PtbRuntime.inside(application, group=group))

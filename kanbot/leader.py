"""One worker leads: the process holding a PostgreSQL advisory lock runs the scheduler and the outbox.

The lock lives on a connection of its own; when the leading process dies, PostgreSQL drops the
connection and the lock with it, and a standby worker takes over within a few seconds. On SQLite one
process is assumed, so it always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.delivery import LEASE
from crm_core.adapters.locks import AdvisoryLock
from crm_core.services import Crm
from kanbot.storage import database_of

log = logging.getLogger(__name__)
WORKER_LOCK = int(AdvisoryLock.WORKER)  # held on its own connection while this process leads
STOP_GRACE_S = 8.0  # what a stopping leader gives its work to end


async def lead_while_possible(
    crm: Crm,
    stop: asyncio.Event,
    lead: Callable[[asyncio.Event], Coroutine[Any, Any, None]],
    *,
    on_change: Callable[[bool], object] | None = None,
    check_every_s: float = 2.0,
) -> None:
    """Run ``lead(lost)`` whenever this process holds the worker lock, until ``stop``.

    ``lost`` is set when leadership ends (the lock's connection broke); ``lead`` must then return.
    """
    db = database_of(crm)
    if db.is_sqlite:
        if on_change:
            on_change(True)
        await lead(stop)
        return
    while not stop.is_set():
        try:
            async with db.engine.connect() as conn:
                if not await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": WORKER_LOCK}):
                    await conn.rollback()
                    await _sleep(stop, check_every_s)
                    continue
                await conn.commit()
                log.info("this process now leads: scheduler and outbox delivery run here")
                if on_change:
                    on_change(True)
                lost = asyncio.Event()
                leading: asyncio.Task[None] = asyncio.create_task(lead(lost))
                try:
                    while not stop.is_set() and not leading.done():
                        await _sleep(stop, check_every_s)
                        await conn.scalar(text("SELECT 1"))  # the lock lives as long as this connection
                        await conn.commit()
                finally:
                    lost.set()
                    # Lost to a database outage, the delivery may still be noting what Telegram took
                    # (until its claims' lease would let another leader send them again): cut short,
                    # those would go out twice. Stopping the process waits less.
                    grace = STOP_GRACE_S if stop.is_set() else LEASE.total_seconds()
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(leading, timeout=grace)
                    if on_change:
                        on_change(False)
                    with contextlib.suppress(SQLAlchemyError, OSError):
                        await conn.scalar(text("SELECT pg_advisory_unlock(:k)"), {"k": WORKER_LOCK})
        # SQLAlchemyError, not only DBAPIError: a connection lost mid-transaction raises
        # PendingRollbackError on the way out, which ended the worker role for good (no more
        # reminders or notifications from this process until it was restarted).
        except (SQLAlchemyError, OSError) as error:
            log.warning("worker lock: database unreachable (%s); standing by", type(error).__name__)
            await _sleep(stop, check_every_s)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)

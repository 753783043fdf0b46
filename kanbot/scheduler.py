"""The scheduler: APScheduler only ticks; what is due and what was sent live in the database.

Every minute (``KANBOT_TICK_SECONDS``) the follow-up tick (reminders, escalations, due tasks, morning
plans); every five ticks the digest tick, run by one process at a time: on PostgreSQL it holds an
advisory lock on its own connection while it works (on SQLite one process is assumed). A missed tick
is simply caught up by the next one, so APScheduler keeps no state of its own.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text

from crm_core.adapters.locks import AdvisoryLock
from crm_core.services import Crm
from crm_core.services.followups import TickReport
from kanbot.storage import database_of

log = logging.getLogger(__name__)


@asynccontextmanager
async def singleton(crm: Crm, key: AdvisoryLock) -> AsyncIterator[bool]:
    """``True`` inside when this process holds the lock ``key`` (always on SQLite), ``False`` otherwise."""
    db = database_of(crm)
    if db.is_sqlite:
        yield True
        return
    async with db.engine.connect() as conn:
        got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": int(key)}))
        try:
            yield got
        finally:
            if got:
                await conn.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": int(key)})
            await conn.commit()


async def follow_up_tick(crm: Crm) -> TickReport:
    report = await crm.followups.tick()
    if report.total():
        log.info("follow-ups queued: %s", "; ".join(report.details) or report)
    return report


async def digest_tick(crm: Crm) -> TickReport:
    async with singleton(crm, AdvisoryLock.DIGEST) as mine:
        if not mine:
            return TickReport()
        report = await crm.followups.digest_tick()
    if report.digests:
        log.info("digests queued: %d", report.digests)
    return report


async def housekeeping(crm: Crm) -> None:
    """Forget abandoned dialogs (after an hour), update ids older than a day, and webhook deliveries
    sent more than 30 days ago."""
    dropped = await crm.dialogs.expire()
    forgotten = await crm.ledger.forget_old()
    pruned = await crm.webhooks.prune()
    if dropped or forgotten or pruned:
        log.info(
            "housekeeping: %d abandoned dialog(s), %d old update key(s), %d old webhook delivery(ies)",
            dropped,
            forgotten,
            pruned,
        )


def build_scheduler(
    crm: Crm,
    *,
    after_tick: Callable[[], object] | None = None,
    on_report: Callable[[TickReport], object] | None = None,
    tick_seconds: int = 60,
    digest_every_ticks: int = 5,
    recordings: Callable[[], Awaitable[object]] | None = None,
) -> AsyncIOScheduler:
    """Jobs that only tick; ``after_tick`` wakes the outbox delivery, ``on_report`` counts what was queued;
    ``recordings`` deletes old recordings and fetches new ones, every tick."""

    async def tick() -> None:
        try:
            report = await follow_up_tick(crm)
            if on_report:
                on_report(report)
        finally:
            if after_tick:
                after_tick()

    async def digest() -> None:
        try:
            report = await digest_tick(crm)
            if on_report:
                on_report(report)
        finally:
            if after_tick:
                after_tick()

    async def clean() -> None:
        await housekeeping(crm)

    scheduler = AsyncIOScheduler(timezone="UTC")
    common = {"replace_existing": True, "coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    scheduler.add_job(tick, "interval", seconds=tick_seconds, id="followups", **common)
    scheduler.add_job(digest, "interval", seconds=tick_seconds * digest_every_ticks, id="digest", **common)
    scheduler.add_job(clean, "interval", hours=1, id="housekeeping", **common)
    if recordings is not None:

        async def keep_recordings() -> None:
            try:
                await recordings()
            except Exception:  # the next tick tries again
                log.exception("recordings: the tick failed")

        scheduler.add_job(keep_recordings, "interval", seconds=tick_seconds, id="recordings", **common)
    return scheduler

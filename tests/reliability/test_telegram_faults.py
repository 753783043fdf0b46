"""Telegram failing in bursts while notifications and due reminders go out: 429 with retry_after, 500
and 502, a call that hangs and then happens anyway, and polling answered 502 — every notification
arrives exactly once afterwards, and the outbox records each one sent with its tries."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat, RunningKanbot, crm_at
from tests.reliability.nothing_lost import TALLY, delivered_once, outbox_settled, reminders_once
from tests.support.databases import SQLITE_ONLY

QUICK_HANG_S, LONG_HANG_S = 3.0, 10.0


async def fault(chat: EmulatedChat, **body: Any) -> None:
    await chat._post("/faults", body)
    TALLY.fault(f"Telegram {body.get('status') or 'hang'} on {body['method']}", int(body.get("count", 1)))


async def hand_out(crm: Crm, count: int, tag: str) -> dict[int, list[str]]:
    """The boss hands ``count`` new deals to the two sellers: one notification each."""
    boss = await crm.users.identify(BOSS)
    markers: dict[int, list[str]] = {ALI: [], MARIA: []}
    for i in range(count):
        seller = (ALI, MARIA)[i % 2]
        title = f"{tag} {i:02d}"
        deal = await crm.deals.create(actor=boss, title=title)
        await crm.deals.reassign(deal_id=deal.id, owner_telegram_id=seller, actor=boss)
        markers[seller].append(title)
    return markers


async def stale_deals_reminded(crm: Crm, tag: str, *, plans: bool) -> dict[int, list[str]]:
    """Deals left for a week get their sellers a reminder each (a tick in working hours queues them), or,
    on the day's first tick (``plans``), a morning plan each with the reminder in it."""
    week_ago = datetime.now(UTC) - timedelta(days=7)
    markers: dict[int, list[str]] = {ALI: [], MARIA: []}
    for seller in (ALI, MARIA):
        owner = await crm.users.identify(seller)
        for i in range(2):
            title = f"{tag} stale {seller} {i}"
            await crm_at(crm, week_ago).deals.create(actor=owner, title=title, stage="Opportunity")
            markers[seller].append(title)  # in the reminder, or in the morning plan that took it in
        if plans:
            markers[seller].append(f"Good morning, {owner.name}!")
    report = await crm.followups.tick(now=last_weekday_noon())
    # the day's first tick: each seller's plan with their reminder in it, one message, not two
    assert (report.reminders, report.morning_plans) == ((0, 2) if plans else (2, 0)), report
    return markers


def last_weekday_noon() -> datetime:
    """The latest weekday noon (UTC) before now: inside the sellers' working hours, and already due."""
    moment = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    while moment > datetime.now(UTC) or moment.weekday() >= 5:
        moment -= timedelta(days=1)
    return moment


async def received(chat: EmulatedChat) -> dict[int, list[str]]:
    return {user: [m.text for m in await chat.bot_messages(user)] for user in (ALI, MARIA)}


async def deliver_through_bursts(
    chat: EmulatedChat, crm: Crm, *, notifications: int, hang_s: float, plans: bool = True
) -> None:
    await fault(chat, method="getUpdates", status=502, count=2)
    await fault(chat, method="sendMessage", status=429, count=3, retry_after=1)
    await fault(chat, method="sendMessage", status=502, count=2)
    await fault(chat, method="sendMessage", delay_s=hang_s, count=1)
    await fault(chat, method="sendMessage", status=500, count=2)
    await fault(chat, method="sendMessage", status=429, count=2, retry_after=2)
    tag = f"Burst-{time.monotonic_ns() % 10**6}"
    markers = await hand_out(crm, notifications, tag)
    reminded = await stale_deals_reminded(crm, tag, plans=plans)
    for seller, lines in reminded.items():
        markers[seller] += lines

    async def all_there() -> bool:
        texts = await received(chat)
        return all(any(m in t for t in texts[u]) for u, wanted in markers.items() for m in wanted)

    await chat.wait_until(all_there, timeout_s=60 + 2 * hang_s, what="every notification through the faults")
    await chat.wait(quiet_ms=1500)  # anything sent twice would have come by now
    assert await chat._get("/faults") == [], "every injected fault was hit"
    delivered_once(await received(chat), markers)
    statuses = await outbox_settled(crm.db)
    followed_up = 2  # two reminders, or two morning plans that took them in on the day's first tick
    assert statuses == {"sent": notifications + followed_up}, statuses
    async with crm.db.engine.connect() as conn:
        tried = await conn.scalar(text("SELECT sum(attempts) FROM outbox"))
    assert tried is not None and tried >= notifications + followed_up + 4, "the 5xx tries are counted"
    await reminders_once(crm.db)
    TALLY.cases += 1


@SQLITE_ONLY
async def test_every_notification_and_due_reminder_arrives_once_through_bursts_of_telegram_failures(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await deliver_through_bursts(chat, crm, notifications=6, hang_s=QUICK_HANG_S)


@pytest.mark.reliability
async def test_every_notification_arrives_once_through_repeated_ten_second_hangs(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    for round_ in range(3):
        await deliver_through_bursts(chat, crm, notifications=20, hang_s=LONG_HANG_S, plans=round_ == 0)
        async with crm.db.engine.begin() as conn:  # the next round counts its own items and reminders
            await conn.execute(text("DELETE FROM outbox"))
            await conn.execute(text("DELETE FROM deal_followups"))
            await conn.execute(text("UPDATE deals SET follow_up_due_at = NULL"))  # this round's: not stale

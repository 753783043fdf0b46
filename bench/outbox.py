"""Benchmark 6 — outbox delivery: 3 000 pop-up cards to 1 000 chats through the emulator's flood limits.

Time runs ten times faster for both sides: the emulator (its own process) allows 300 messages a second
overall (a second's worth of burst) and 10 a second per chat after a burst of 5; the delivery keeps its
defaults scaled alike (25 → 250 a second, 1.05 s → 0.105 s per chat). Floor: the limit itself, 300 a
second. The notifications are call pop-ups (each renders its deal's card from the database), queued in
three waves over the 1 000 sellers; the real ``OutboxDelivery`` sends them over aiogram to the emulator.
The full run also delivers 600 cards to 200 chats at Telegram's real limits (30 a second, 1 per chat),
where the delivery's own pace rather than its speed is what shows. Afterwards the emulator's request
log must show every chat got exactly its messages, and no 429.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import text

from bench.common import SQLITE, Options, Result, emulator, log
from bench.data_gen import Spec
from bench.datasets import dataset, working_copy
from bench.stub_telegram import BOT_ID, TOKEN
from bot.aiogram_runtime import AiogramTransport
from bot.core.context import ChatSettings
from bot.core.notify import Notifier
from bot.delivery import Limits, OutboxDelivery
from crm_core.adapters.database import Database
from crm_core.config import CrmConfig
from crm_core.domain.notifications import CallAnswered, Notification
from crm_core.services import Crm

SPEC = Spec(deals=6_000, sellers=1_000, events_per_deal=3.0)
SMOKE = Spec(deals=100, sellers=20, events_per_deal=3.0)
SPEED = 10
DEFAULTS = Limits()


def emulator_limits(speed: int) -> dict[str, float]:
    """Telegram's limits, ``speed`` times faster (a burst stays one second's worth overall, 5 per chat)."""
    return {
        "global_per_sec": 30.0 * speed,
        "global_burst": 30.0 * speed,
        "per_chat_per_sec": 1.0 * speed,
        "per_chat_burst": 5.0,
    }


def scaled_limits(speed: int) -> Limits:
    """The delivery's own limits (its defaults), ``speed`` times faster."""
    return Limits(
        per_second=DEFAULTS.per_second * speed, per_chat_interval_s=DEFAULTS.per_chat_interval_s / speed
    )


async def queue(url: str, chats: int, waves: int) -> dict[int, int]:
    """Queue ``waves`` pop-ups for each of ``chats`` sellers (their own deals' cards); per Telegram id."""
    db = Database(url)
    expected: dict[int, int] = {}
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT u.id, u.telegram_id, d.id, d.title FROM users u LEFT JOIN deals d "
                    "ON d.owner_id = u.id WHERE u.role = 'seller' ORDER BY u.id, d.id"
                )
            )
            deals: dict[tuple[int, int], list[tuple[int | None, str | None]]] = defaultdict(list)
            for user_id, telegram_id, deal_id, title in rows:
                deals[(user_id, telegram_id)].append((deal_id, title))
        people = sorted(deals)[:chats]
        now = datetime.now(UTC)
        async with db.uow() as uow:
            for wave in range(waves):
                for user_id, telegram_id in people:
                    own = deals[(user_id, telegram_id)]
                    deal_id, title = own[wave % len(own)]
                    number = wave * chats + telegram_id
                    payload = CallAnswered(
                        call_id=number, caller=f"+7495{number:07d}", deal_id=deal_id, deal_title=title
                    )
                    await uow.outbox.put(Notification(user_id, payload), at=now)
                    expected[telegram_id] = expected.get(telegram_id, 0) + 1
            await uow.commit()
    finally:
        await db.dispose()
    return expected


async def add_users(base: str, telegram_ids: list[int]) -> None:
    async with aiohttp.ClientSession() as session:
        for telegram_id in telegram_ids:
            body = {"id": telegram_id, "first_name": f"Seller {telegram_id}", "language_code": "en"}
            async with session.post(base + "/emulator/users", json=body) as response:
                response.raise_for_status()


async def deliver(url: str, base: str, limits: Limits, total: int) -> tuple[float, OutboxDelivery]:
    """Run the delivery until every item is sent; the seconds from its start to the last one sent."""
    db = Database(url)
    crm = Crm(db, config=CrmConfig(default_region="RU", default_currency="RUB"))
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
    settings = ChatSettings(bot_username=f"emulator_{BOT_ID}_bot", bot_id=BOT_ID)
    delivery = OutboxDelivery(crm, Notifier(crm, settings), AiogramTransport(bot), limits=limits)
    stop = asyncio.Event()
    try:
        started = time.perf_counter()
        runner = asyncio.create_task(delivery.run(stop))
        while delivery.stats.sent + delivery.stats.failed < total:
            await asyncio.sleep(0.02)
            if runner.done():
                runner.result()
        seconds = time.perf_counter() - started
        stop.set()
        await runner
    finally:
        await bot.session.close()
        await db.dispose()
    return seconds, delivery


async def received(base: str) -> tuple[Counter[int], Counter[int], int]:
    """Per chat: messages accepted, distinct texts; and how many sends the emulator refused with 429."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(base + "/emulator/log?method=sendMessage") as response,
    ):
        entries = await response.json()
    accepted: Counter[int] = Counter()
    texts: dict[int, set[str]] = defaultdict(set)
    refused = 0
    for entry in entries:
        if entry["status"] == 429:
            refused += 1
        elif entry["ok"]:
            chat = int(entry["params"]["chat_id"])
            accepted[chat] += 1
            texts[chat].add(str(entry["params"]["text"]))
    return accepted, Counter({chat: len(t) for chat, t in texts.items()}), refused


async def measure(spec: Spec, chats: int, waves: int, speed: int) -> tuple[float, int]:
    """Messages per second delivered, and how many sends the emulator refused with 429."""
    source = await dataset("outbox-smoke" if spec is SMOKE else "outbox", spec, "sqlite")
    async with working_copy(source, "outbox") as url, emulator(limits=emulator_limits(speed)) as base:
        expected = await queue(url, chats, waves)
        await add_users(base, sorted(expected))
        total = sum(expected.values())
        seconds, delivery = await deliver(url, base, scaled_limits(speed), total)
        accepted, distinct, refused = await received(base)
    if accepted != Counter(expected) or distinct != Counter(expected) or delivery.stats.failed:
        lost = sum((Counter(expected) - accepted).values())
        duplicated = sum((accepted - Counter(expected)).values())
        raise AssertionError(f"{lost} messages lost, {duplicated} duplicated, {delivery.stats.failed} failed")
    return total / seconds, refused


async def run(options: Options) -> list[Result]:
    spec = options.pick(SPEC, SPEC, SMOKE)
    runs = options.pick(
        [(SPEED, 1_000, 3), (1, 200, 3)], [(SPEED, 300, 3)], [(SPEED, 20, 2)]
    )  # (speed, chats, waves)
    results = []
    for speed, chats, waves in runs:
        achieved, refused = await measure(spec, chats, waves, speed)
        limit, pace = 30.0 * speed, DEFAULTS.per_second * speed
        log.info(
            "6. limits x%d: %.0f msg/s of %.0f allowed (the delivery's pace %.0f), %d refused with 429",
            speed,
            achieved,
            limit,
            pace,
            refused,
        )
        results.append(
            Result(
                "6. Outbox delivery" + (f", limits ×{speed}" if speed != 1 else ", Telegram's real limits"),
                SQLITE,
                f"messages/s, {chats * waves:,} pop-up cards to {chats:,} chats",
                f"{achieved:.0f}/s, {refused} × 429",
                f"{limit:.0f}/s",
                achieved / limit,
                "≥ 0.9× the limit; no 429, none lost or duplicated",
                achieved / limit >= 0.9 and refused == 0,
                [
                    f"{achieved / pace:.2f}× of the delivery's own pace ({pace:.0f}/s: the default "
                    f"{DEFAULTS.per_second:g}/s, a little under Telegram's 30, ×{speed}); every chat got "
                    "exactly its messages",
                ],
            )
        )
    return results

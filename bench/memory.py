"""Benchmark 7 — memory: the resident set of a real ``kanbot run`` on 1 000 000 deals, idle and after load.

A copy of the report benchmark's SQLite database (1 000 000 deals, ~5 000 000 events, 500 sellers; the
100 000-deal one with ``--quick``), its deals' times moved to today so that 1 % are stale now as they
were at the dataset's NOW. ``kanbot run`` (the console script, both roles: long polling, HTTP, the
scheduler ticking every 5 s, the outbox) talks to the emulator in its own process. Idle: 20 s after it
is ready, the scheduler having swept the stale deals. Then benchmark 1's load through the emulator:
100 sellers open /deals and press "next stage" under ten of their deals each, 1 000 presses in all
(the emulator's flood limits off: the scheduler's reminders to the same chats would spend them); then
the boss asks for the digest (/digest) and gets it with its chart, the chart drawn by the chart worker
(a process of its own, not counted: it is not the bot's memory). "After" is read as soon as the chart is
in the boss's chat, and again once the bot has been quiet for ``SETTLE_S`` (it gives its free heap pages
back to the system a moment after its last update, see kanbot/heap.py).
Reported: VmRSS idle and after, and VmHWM (the peak), on python-telegram-bot (the default) and again,
on a fresh copy, with ``KANBOT_RUNTIME=aiogram``; each with the default KANBOT_MAX_CONCURRENT_UPDATES.
"""

from __future__ import annotations

import asyncio
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

from bench.common import Options, Result, child, emulator, free_port, log, rss_kib, wait_http, work_dir
from bench.data_gen import NOW, Spec
from bench.datasets import BOSS_TELEGRAM_ID, Dataset, dataset, working_copy
from bench.reports import FULL, NAMES, QUICK, SMOKE
from bench.stub_telegram import TOKEN
from bot.core import actions as A
from bot.core import codec
from crm_core.adapters.database import Database

LIMIT_MIB = 150
IDLE_S = 20
SETTLE_S = 15  # past kanbot.heap's pace (a trim at most every 10 s, 1 s after the last update)
SELLERS = 100
RUNTIMES = {"ptb": "", "aiogram": " on aiogram"}
_TIMES = ("created_at", "stage_entered_at", "last_activity_at", "closed_at", "follow_up_due_at")


async def move_to_today(url: str) -> None:
    """Shift every deal's times by (now - the dataset's NOW), keeping SQLite's text format."""
    shift = int((datetime.now(UTC) - NOW).total_seconds())
    moved = ", ".join(
        f"{c} = strftime('%Y-%m-%d %H:%M:%S', {c}, '+{shift} seconds') || substr({c}, 20)" for c in _TIMES
    )
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text(f"UPDATE deals SET {moved}"))
    finally:
        await db.dispose()


async def presses(url: str, count: int, sellers: int) -> dict[int, list[tuple[int, int]]]:
    """Per seller's Telegram id: (deal id, version) of open deals, ``count`` in all over ``sellers``."""
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT u.telegram_id, d.id, d.version FROM deals d JOIN users u ON u.id = d.owner_id "
                    "WHERE d.closed_at IS NULL AND u.telegram_id <= :last ORDER BY d.id"
                ),
                {"last": 2000 + sellers},
            )
            per_seller: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for telegram_id, deal_id, version in rows:
                if len(per_seller[telegram_id]) < max(1, count // sellers):
                    per_seller[telegram_id].append((deal_id, version))
    finally:
        await db.dispose()
    return per_seller


async def press_all(base: str, per_seller: dict[int, list[tuple[int, int]]]) -> None:
    """Each seller sends /deals, then presses "next stage" under their deals (within the flood limit)."""
    async with aiohttp.ClientSession() as session:

        async def call(method: str, path: str, body: dict[str, object] | None = None) -> Any:
            async with session.request(method, base + path, json=body) as response:
                response.raise_for_status()
                return await response.json()

        async def start(telegram_id: int) -> None:
            await call("POST", "/emulator/users", {"id": telegram_id, "first_name": f"Seller {telegram_id}"})
            await call("POST", "/emulator/messages", {"user_id": telegram_id, "text": "/deals"})

        async def press(telegram_id: int, deals: list[tuple[int, int]]) -> None:
            for _ in range(1200):  # the answer to /deals: the message the presses are under
                messages = await call("GET", f"/emulator/chats/{telegram_id}/messages")
                ours = [m["message_id"] for m in messages if m["from"] == "bot"]
                if ours:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"seller {telegram_id} got no answer to /deals in 2 minutes")
            card = ours[-1]
            for deal_id, version in deals:
                data = codec.encode(A.Next(deal_id, version))
                await call(
                    "POST",
                    "/emulator/clicks",
                    {"user_id": telegram_id, "message_id": card, "callback_data": data},
                )

        await asyncio.gather(*(start(t) for t in per_seller))
        await call("POST", "/emulator/wait", {"quiet_ms": 500, "timeout_ms": 300_000})
        await asyncio.gather(*(press(t, d) for t, d in per_seller.items()))
        await call("POST", "/emulator/wait", {"quiet_ms": 500, "timeout_ms": 300_000})
        await call("POST", "/emulator/users", {"id": BOSS_TELEGRAM_ID, "first_name": "Olga Boss"})
        await call("POST", "/emulator/messages", {"user_id": BOSS_TELEGRAM_ID, "text": "/digest"})
        for _ in range(1200):  # the chart comes last; the first one starts the chart worker
            messages = await call("GET", f"/emulator/chats/{BOSS_TELEGRAM_ID}/messages")
            if any(m["from"] == "bot" and m.get("photo") for m in messages):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the boss got no digest chart in 2 minutes")


@dataclass(frozen=True, slots=True)
class Resident:
    """VmRSS when ready, idle, right after the presses and the digest and once settled, and VmHWM; KiB."""

    ready: int
    idle: int
    after: int
    settled: int
    peak: int


async def measure(options: Options, source: Dataset, spec: Spec, count: int, runtime: str) -> Resident:
    """A real ``kanbot run`` on ``runtime`` over a fresh copy of ``source``, before and after the presses."""
    program = str(Path(sys.executable).parent / "kanbot")
    async with working_copy(source, "memory") as url:
        await move_to_today(url)
        per_seller = await presses(url, count, min(SELLERS, spec.sellers))
        async with emulator(limits={"enforce": False}) as base:
            port = free_port()
            env = {
                "KANBOT_DATABASE_URL": url,
                "KANBOT_BOT_TOKEN": TOKEN,
                "KANBOT_TELEGRAM_API_URL": base,
                "KANBOT_HTTP_HOST": "127.0.0.1",
                "KANBOT_HTTP_PORT": str(port),
                "KANBOT_TICK_SECONDS": "5",
                "KANBOT_LOG_LEVEL": "INFO",
                "KANBOT_RUNTIME": runtime,
            }
            async with child(
                ["run"], name=f"kanbot-run-{runtime}", env=env, program=program, cwd=str(work_dir())
            ) as process:
                await wait_http(f"http://127.0.0.1:{port}/readyz", timeout_s=120)
                ready, _ = rss_kib(process.pid)
                await asyncio.sleep(options.pick(IDLE_S, 10, 1))
                idle, _ = rss_kib(process.pid)
                await press_all(base, per_seller)
                after, _ = rss_kib(process.pid)
                await asyncio.sleep(options.pick(SETTLE_S, SETTLE_S, 1))
                settled, peak = rss_kib(process.pid)
    return Resident(ready, idle, after, settled, peak)


async def run(options: Options) -> list[Result]:
    spec = options.pick(FULL, QUICK, SMOKE)
    count = options.pick(1000, 300, 20)
    source = await dataset(NAMES[id(spec)], spec, "sqlite")
    results = []
    for runtime, label in RUNTIMES.items():
        rss = await measure(options, source, spec, count, runtime)
        log.info(
            "7. kanbot run%s: idle %.0f MiB, after %d presses %.0f MiB (settled %.0f), peak %.0f MiB",
            label,
            rss.idle / 1024,
            count,
            rss.after / 1024,
            rss.settled / 1024,
            rss.peak / 1024,
        )
        results.append(
            Result(
                f"7. Memory of `kanbot run`{label}",
                "SQLite",
                f"resident MiB, {spec.deals:,} deals: ready / idle / after {count:,} presses + digest / "
                "settled (peak)",
                " / ".join(f"{v / 1024:.0f}" for v in (rss.ready, rss.idle, rss.after, rss.settled))
                + f" ({rss.peak / 1024:.0f})",
                f"{LIMIT_MIB} MiB",
                max(rss.peak, rss.after) / 1024 / LIMIT_MIB,
                f"< {LIMIT_MIB} MiB",
                max(rss.idle, rss.after, rss.peak) / 1024 < LIMIT_MIB,
            )
        )
    return results

"""Benchmark 5 — the stale sweep: the open deals past their follow-up, as the reminders tick reads them.

Datasets of 100 000 and 1 000 000 open deals, 1 % of them stale at the dataset's ``NOW``; asked at an
earlier moment, only 0.1 % of the million are (a thousand, as many as in the 100 000). Kanbot:
``DealRepository.stale(now=...)`` in a read-only unit of work, the Deals built. Floor: the same rows by
raw SQL on the ``follow_up_due_at`` index (a closed deal's is NULL), through the same driver, as
tuples. The time should follow the number of stale deals: a thousand stale among a million take about
as long as among 100 000.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from bench.common import POSTGRES, SQLITE, Options, Result, log, ms
from bench.data_gen import NOW, Spec
from bench.datasets import dataset
from crm_core.adapters.database import Database

BACKENDS = {SQLITE: "sqlite", POSTGRES: "postgresql"}
SPECS = {
    100_000: Spec(deals=100_000, sellers=500, events_per_deal=0.0, closed_share=0.0),
    1_000_000: Spec(deals=1_000_000, sellers=500, events_per_deal=0.0, closed_share=0.0),
    1_000: Spec(deals=1_000, sellers=10, events_per_deal=0.0, closed_share=0.0),
}
# Stale deals went stale evenly over the 30 days before NOW: 27 days earlier, a tenth of them had.
EARLIER = NOW - timedelta(days=27)

FLOOR_SQL = """
SELECT d.*, s.*, u.telegram_id, u.name, u.role, u.timezone, u.locale, u.active, u.blocked_bot,
       c.name, c.phone, c.company
FROM deals d
JOIN stages s ON s.id = d.stage_id
LEFT JOIN users u ON u.id = d.owner_id
LEFT JOIN contacts c ON c.id = d.contact_id
WHERE d.follow_up_due_at <= :now
ORDER BY d.follow_up_due_at, d.id
"""


async def sweep(db: Database, now: datetime) -> list[int]:
    async with db.uow(write=False) as uow:
        return [deal.id for deal in await uow.deals.stale(now=now)]


async def floor(db: Database, now: datetime) -> list[int]:
    moment: Any = now.replace(tzinfo=None).isoformat(" ", "microseconds") if db.is_sqlite else now
    sql = FLOOR_SQL.replace(":now", "?" if db.is_sqlite else "$1")
    async with db.engine.connect() as conn:
        result = await conn.exec_driver_sql(sql, (moment,))
        return [row[0] for row in result.all()]


async def best(rounds: int, db: Database, now: datetime) -> tuple[float, float, int]:
    """Best seconds of the sweep and of the floor, in turns; checks both find the same deals."""
    ours_s = floor_s = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        ours = await sweep(db, now)
        ours_s = min(ours_s, time.perf_counter() - started)
        started = time.perf_counter()
        by_hand = await floor(db, now)
        floor_s = min(floor_s, time.perf_counter() - started)
        if ours != by_hand:
            raise AssertionError(f"the sweep found {len(ours)} deals, the raw SQL {len(by_hand)}")
    return ours_s, floor_s, len(ours)


async def run(options: Options) -> list[Result]:
    rounds = options.pick(15, 5, 1)
    points = options.pick(
        [(100_000, NOW), (1_000_000, EARLIER), (1_000_000, NOW)], [(100_000, NOW)], [(1_000, NOW)]
    )
    results = []
    for backend in options.backend_names():
        timings: dict[tuple[int, datetime], float] = {}
        for deals, now in points:
            source = await dataset(f"stale-{deals // 1000}k", SPECS[deals], BACKENDS[backend])
            db = Database(source.url)
            try:
                await floor(db, now)  # the same warm cache for both
                ours, by_hand, found = await best(rounds, db, now)
            finally:
                await db.dispose()
            timings[(deals, now)] = ours
            log.info(
                "5. %s %d deals, %d stale: sweep %s, raw SQL %s", backend, deals, found, ms(ours), ms(by_hand)
            )
            results.append(
                Result(
                    "5. Stale sweep",
                    backend,
                    f"{found:,} stale of {deals:,} open deals, best of {rounds}",
                    ms(ours),
                    ms(by_hand),
                    ours / by_hand,
                    "≤ 1.5× the raw SQL",
                    ours / by_hand <= 1.5,
                )
            )
        if len(points) == 3:
            growth = timings[(1_000_000, EARLIER)] / timings[(100_000, NOW)]
            results.append(
                Result(
                    "5. Stale sweep: growth",
                    backend,
                    "~1,000 stale among 1,000,000 deals vs among 100,000",
                    ms(timings[(1_000_000, EARLIER)]),
                    ms(timings[(100_000, NOW)]),
                    growth,
                    "≤ 2×: the time follows the stale deals, not the deals",
                    growth <= 2,
                )
            )
    return results

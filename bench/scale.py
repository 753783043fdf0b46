"""Benchmark 4, the screens: what a boss and a seller open every day, on the reports' dataset.

The boss's board, a search as the boss (a deal's title, a word in a quarter of all titles, a contact's
name, the last digits of a phone), a seller's /deals (first page and a later one), a column page (the
boss's Won column, its second page by cursor, and a seller's open column) and the call pop-up's
"attach" list. Each through the services, as the chat asks for it, best of seven; the floor column is
the target, 100 ms. In a full run each is also timed on the quick dataset (100 000 deals), and its
growth from there to 1 000 000 deals is noted and held to 2×: the cost should follow the page shown,
not the deals ever made.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import Options, Result, log, ms
from bench.data_gen import NOW, Spec, phone_of
from bench.datasets import BOSS_TELEGRAM_ID, dataset, seller_telegram_id
from crm_core.adapters.database import Database
from crm_core.domain.funnel import StageKind
from crm_core.domain.listing import DealOrder
from crm_core.ports import FixedClock
from crm_core.services import Crm

TARGET_S = 0.100
GROWTH = 2.0
Screen = Callable[[], Awaitable[Any]]


async def _best(work: Screen, rounds: int) -> float:
    await work()  # the first read warms the page cache alike for every screen
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        await work()
        best = min(best, time.perf_counter() - started)
    return best


async def measure(name: str, spec: Spec, backend: str, rounds: int) -> dict[str, float]:
    """Seconds per screen on the dataset (the best of ``rounds``), after checking that each shows rows."""
    source = await dataset(name, spec, backend)
    db = Database(source.url)
    try:
        crm = Crm(db, clock=FixedClock(NOW))
        boss = await crm.users.by_telegram_id(BOSS_TELEGRAM_ID)
        seller = await crm.users.by_telegram_id(seller_telegram_id(7))
        assert boss is not None and seller is not None
        pipeline = await crm.pipelines.default()
        won = next(s for s in pipeline.stages if s.kind is StageKind.WON)
        opened = next(s for s in pipeline.stages if s.kind is StageKind.OPEN)
        deal = spec.deals * 3 // 7
        _, first = await crm.deals.column(stage=won.id, actor=boss)
        assert first.next_cursor, "the Won column has more than one page"
        screens: dict[str, Screen] = {
            "the boss's board": lambda: crm.deals.board(actor=boss),
            "search as the boss: a deal's title": lambda: crm.deals.find(
                query=f"Deal {deal}", actor=boss, limit=8
            ),
            "search as the boss: a word in ¼ of titles": lambda: crm.deals.find(
                query="Globex", actor=boss, limit=8
            ),
            "search as the boss: a contact's name": lambda: crm.deals.find(
                query=f"Customer {deal // 10}", actor=boss, limit=8
            ),
            "search as the boss: a phone's last 4 digits": lambda: crm.deals.find(
                query=phone_of(deal)[-4:], actor=boss, limit=8
            ),
            "a seller's /deals, first page": lambda: crm.deals.my_open_page(actor=seller, page=0),
            "a seller's /deals, third page": lambda: crm.deals.my_open_page(actor=seller, page=2),
            "the boss's Won column, first page": lambda: crm.deals.column(stage=won.id, actor=boss),
            "the boss's Won column, next page": lambda: crm.deals.column(
                stage=won.id, actor=boss, cursor=first.next_cursor
            ),
            "a seller's open column, longest waiting": lambda: crm.deals.column(
                stage=opened.id, actor=seller, order=DealOrder.WAITING
            ),
            "the call pop-up's attach list": lambda: crm.calls.recent_open_deals(actor=seller),
        }
        shown = await _shown(screens)
        empty = [label for label, rows in shown.items() if not rows]
        if empty:
            raise AssertionError(f"these screens showed nothing: {empty}")
        return {label: await _best(work, rounds) for label, work in screens.items()}
    finally:
        await db.dispose()


async def _shown(screens: dict[str, Screen]) -> dict[str, int]:
    """How many rows each screen shows (a board: its columns with deals)."""
    shown = {}
    for label, work in screens.items():
        value = await work()
        if hasattr(value, "columns"):
            shown[label] = sum(1 for c in value.columns if c.count)
        elif hasattr(value, "deals"):
            shown[label] = len(value.deals)
        elif isinstance(value, tuple):
            shown[label] = len(value[1].items)
        else:
            shown[label] = len(value)
    return shown


async def run(
    options: Options,
    backend: str,
    backend_name: str,
    dataset_at_scale: tuple[str, Spec],
    smaller: tuple[str, Spec] | None,
) -> list[Result]:
    """The screens' rows of benchmark 4 on one backend; ``smaller`` is the dataset growth is measured from."""
    rounds = options.pick(7, 5, 1)
    name, spec = dataset_at_scale
    at_scale = await measure(name, spec, backend_name, rounds)
    base = await measure(smaller[0], smaller[1], backend_name, rounds) if smaller else {}
    results = []
    for label, seconds in at_scale.items():
        log.info("4. %s %s: %s", backend, label, ms(seconds))
        before = base.get(label)
        growth = seconds / before if before else None
        notes = []
        if before and growth is not None and smaller:
            notes.append(
                f"{label}: {ms(before)} at {smaller[1].deals:,} deals, {growth:.1f}× at 10× the deals"
            )
        results.append(
            Result(
                "4. Screens at scale: " + label,
                backend,
                f"seconds, {spec.deals:,} deals",
                ms(seconds),
                ms(TARGET_S),
                seconds / TARGET_S,
                f"< 100 ms{f'; ≤ {GROWTH:g}× at 10× the deals' if smaller else ''}",
                seconds < TARGET_S and (growth is None or growth <= GROWTH),
                notes,
            )
        )
    return results

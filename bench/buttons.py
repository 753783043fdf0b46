"""Benchmark 1 — button press to new card: "next stage" under a deal card, through aiogram's Dispatcher.

Kanbot: the real ``build_router`` over a real ``ChatCore`` and ``Crm`` on a copy of a 10 000-deal
database (500 sellers). Floor: a bare aiogram handler that answers the press and edits the message
with the button's data, in the same Dispatcher harness with the same stub session and the same
updates. Updates are fed one at a time (``feed_raw_update``: validation, routing, the Bot API calls
serialized and their answers parsed), so latency is one update's, and throughput is its inverse.
Each of 500 sellers presses under their own deals, each deal once, as real sellers would (the
per-user flood limit of 20 presses in 10 s is never reached).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from sqlalchemy import text

from bench import peer as P
from bench.common import POSTGRES, SQLITE, Options, Result, log, ms, percentile, rate
from bench.data_gen import Spec
from bench.datasets import dataset, working_copy
from bench.stub_telegram import BOT_ID, BOT_USER, TOKEN, StubSession, button_press
from bot.aiogram_runtime import build_router
from bot.core import actions as A
from bot.core import codec
from bot.core.chat import ChatCore
from bot.core.context import ChatSettings
from crm_core.adapters.database import Database
from crm_core.config import CrmConfig
from crm_core.services import Crm

SPEC = Spec(deals=10_000, sellers=500)
SMOKE = Spec(deals=300, sellers=20)
BACKENDS = {SQLITE: "sqlite", POSTGRES: "postgresql"}
WARM_UP = 200


@dataclass
class Run:
    latencies: list[float]
    seconds: float

    @property
    def per_second(self) -> float:
        return rate(len(self.latencies), self.seconds)

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.5)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)


async def drive(
    dispatcher: Dispatcher,
    bot: Bot,
    updates: list[dict[str, Any]],
    warm_up: int,
    before_each: Callable[[], None] = lambda: None,
) -> Run:
    for update in updates[:warm_up]:
        before_each()
        await dispatcher.feed_raw_update(bot, update)
    latencies = []
    started = time.perf_counter()
    for update in updates[warm_up:]:
        before_each()
        before = time.perf_counter()
        await dispatcher.feed_raw_update(bot, update)
        latencies.append(time.perf_counter() - before)
    return Run(latencies, time.perf_counter() - started)


async def presses(url: str, count: int) -> list[tuple[int, int, int]]:
    """(deal id, version, owner's Telegram id) of ``count`` open deals, the sellers taking turns."""
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT d.id, d.version, u.telegram_id FROM deals d JOIN users u ON u.id = d.owner_id "
                    "WHERE d.closed_at IS NULL ORDER BY d.id"
                )
            )
            by_owner: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
            for deal_id, version, telegram_id in rows:
                by_owner[telegram_id].append((deal_id, version, telegram_id))
    finally:
        await db.dispose()
    turns = [
        deals[i]
        for i in range(max(map(len, by_owner.values())))
        for deals in by_owner.values()
        if i < len(deals)
    ]
    if len(turns) < count:
        raise RuntimeError(f"the dataset has {len(turns)} open owned deals, {count} are needed")
    return turns[:count]


def kanbot(url: str) -> tuple[Dispatcher, Database, Counter[str]]:
    db = Database(url)
    crm = Crm(db, config=CrmConfig(default_region="RU", default_currency="RUB"))
    chat = ChatCore(crm, ChatSettings(bot_username=str(BOT_USER["username"]), bot_id=BOT_ID))
    outcomes: Counter[str] = Counter()
    chat.observers.append(lambda event, outcome, seconds: outcomes.update([outcome]))
    dispatcher = Dispatcher()
    dispatcher.include_router(build_router(chat, every_button=True))
    return dispatcher, db, outcomes


async def check_moved(url: str, pressed: list[tuple[int, int, int]]) -> None:
    """Every pressed deal moved exactly once: its version went up by one."""
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            ids = ",".join(str(deal_id) for deal_id, _, _ in pressed)
            rows = await conn.execute(text(f"SELECT id, version FROM deals WHERE id IN ({ids})"))
            versions: dict[int, int] = {row.id: row.version for row in rows}
    finally:
        await db.dispose()
    wrong = [deal_id for deal_id, version, _ in pressed if versions[deal_id] != version + 1]
    if wrong:
        raise AssertionError(f"{len(wrong)} pressed deals did not move exactly once, e.g. {wrong[:5]}")


def spec_for(options: Options) -> Spec:
    return options.pick(SPEC, SPEC, SMOKE)


@dataclass
class Measured:
    ours: Run
    echo: Run
    peer: Run  # a straightforward aiogram + SQLAlchemy ORM handler on the same tables
    floor: Run  # the echo plus the press's own SQL through the bare driver
    outcomes: Counter[str]
    statements: float  # Kanbot's SQL per press, BEGIN and COMMIT included
    peer_statements: float  # the peer's SQL statements per press (its driver's own BEGIN and COMMIT aside)


async def measure(backend: str, count: int, spec: Spec, warm_up: int) -> Measured:
    """Kanbot, the echo, the peer bot and the bare-driver floor over the same ``count`` presses, each
    on a fresh copy of the dataset."""
    source = await dataset("buttons-smoke" if spec is SMOKE else "buttons", spec, BACKENDS[backend])
    async with working_copy(source, "buttons") as url:
        pressed = await presses(url, warm_up + count)
        updates = [
            button_press(n, telegram_id, codec.encode(A.Next(deal_id, version)))
            for n, (deal_id, version, telegram_id) in enumerate(pressed, start=1)
        ]
        echo_bot = Bot(TOKEN, session=StubSession())
        echo_before = await drive(P.echo_dispatcher(), echo_bot, updates, warm_up)
        dispatcher, db, outcomes = kanbot(url)
        recorder = P.Recorder(db)
        session = StubSession()
        try:
            ours = await drive(dispatcher, Bot(TOKEN, session=session), updates, warm_up, recorder.start)
        finally:
            await db.dispose()
        echo_after = await drive(P.echo_dispatcher(), echo_bot, updates, warm_up)
        await check_moved(url, pressed)
    total = warm_up + count
    if outcomes["ok"] != total or session.calls["editMessageText"] != total:
        raise AssertionError(f"not every press redrew its card: {dict(outcomes)}, {dict(session.calls)}")
    echo = echo_before if echo_before.per_second >= echo_after.per_second else echo_after
    async with working_copy(source, "buttons-peer") as url:
        engine = P.peer_engine(url)
        peer_session = StubSession()
        try:
            following = await P.next_stages(engine)
            peer_sql = P.count_statements(engine)
            peer = await drive(
                P.peer_dispatcher(engine, following), Bot(TOKEN, session=peer_session), updates, warm_up
            )
        finally:
            await engine.dispose()
        await check_moved(url, pressed)
    if peer_session.calls["editMessageText"] != total:
        raise AssertionError(f"the peer bot did not redraw every card: {dict(peer_session.calls)}")
    async with working_copy(source, "buttons-floor") as url:
        if backend == SQLITE:
            replay, close = P.sqlite_replayer(url)
        else:
            replay, close = await P.asyncpg_replayer(url)
        try:
            recorded = iter(recorder.presses)
            floor = await drive(
                P.floor_dispatcher(recorded, replay), Bot(TOKEN, session=StubSession()), updates, warm_up
            )
        finally:
            await close()
        await check_moved(url, pressed)
    peer_statements = peer_sql[0] / total
    return Measured(ours, echo, peer, floor, outcomes, statements_per_press(recorder), peer_statements)


def statements_per_press(recorder: P.Recorder) -> float:
    return sum(map(len, recorder.presses)) / max(1, len(recorder.presses))


async def run(options: Options) -> list[Result]:
    count = options.pick(3000, 1000, 20)
    warm_up = options.pick(WARM_UP, WARM_UP, 5)
    results = []
    for backend in options.backend_names():
        m = await measure(backend, count, spec_for(options), warm_up)
        ours = m.ours
        for name, other in (("echo", m.echo), ("peer", m.peer), ("floor", m.floor)):
            log.info(
                "1. %s: Kanbot %.0f/s p50 %s p99 %s; %s %.0f/s p50 %s p99 %s",
                backend,
                ours.per_second,
                ms(ours.p50),
                ms(ours.p99),
                name,
                other.per_second,
                ms(other.p50),
                ms(other.p99),
            )
        what = f"updates/s (p50 / p99), {count} presses, 10 000 deals"
        mine = f"{ours.per_second:.0f}/s ({ms(ours.p50)} / {ms(ours.p99)})"

        def figure(other: Run) -> str:
            return f"{other.per_second:.0f}/s ({ms(other.p50)} / {ms(other.p99)})"

        vs_peer = ours.per_second / m.peer.per_second
        fast_enough = ours.p99 < 0.010 if backend == SQLITE else None
        results += [
            Result(
                "1. Button press vs a peer bot",
                backend,
                what,
                mine,
                figure(m.peer) + " (peer)",
                vs_peer,
                "≥ 2× the peer" + ("; p99 < 10 ms" if backend == SQLITE else ""),
                vs_peer >= 2 and fast_enough is not False,
                [
                    "the peer: aiogram + SQLAlchemy ORM on Kanbot's tables, one session (read the user, "
                    "get the deal, insert a history row, update the deal: "
                    f"{m.peer_statements:.1f} statements a press), same harness and updates"
                ],
            ),
            Result(
                "1. Button press vs the bare driver",
                backend,
                what,
                mine,
                figure(m.floor) + " (echo + SQL)",
                ours.per_second / m.floor.per_second,
                "— (reported)",
                None,
                [
                    "the floor: the echo plus the press's own SQL as Kanbot sent it "
                    f"({m.statements:.1f} statements a press, BEGIN and COMMIT included, through "
                    f"{'sqlite3' if backend == SQLITE else 'asyncpg'} on a fresh copy)"
                ],
            ),
            Result(
                "1. Button press vs the echo",
                backend,
                what,
                mine,
                figure(m.echo) + " (echo)",
                ours.per_second / m.echo.per_second,
                "— (reported)",
                None,
            ),
        ]
    return results

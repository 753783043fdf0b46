"""Benchmark 2 — call to deal: finished calls posted to ``/api/v1/calls`` by 50 concurrent clients.

Kanbot: ``call_routes`` over a real ``Crm`` in its own process, on a copy of the 10 000-deal database;
each call is signed, de-duplicated, its caller looked up, and it makes or joins a deal, a call record,
a call-back task when missed, and the pop-up's outbox row. Floor: the same aiohttp server whose
handler only checks the signature. The mix: 40 % answered and 30 % missed calls from new numbers, 15 %
answered and 10 % missed from customers with an open deal, 5 % re-posts of earlier calls. Afterwards
the database must hold exactly the deals, calls, tasks and pop-ups those calls make.
"""

from __future__ import annotations

import json
import pickle
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

from bench import peer as P
from bench.buttons import BACKENDS, SMOKE, spec_for
from bench.common import (
    SQLITE,
    Options,
    Result,
    child,
    free_port,
    log,
    ms,
    percentile,
    rate,
    wait_http,
    work_dir,
)
from bench.datasets import dataset, seller_extension, working_copy
from crm_core.adapters.database import Database

SECRET = "bench-calls-secret-0123456789"  # noqa: S105 (a throwaway secret for the benchmark)
CLIENTS = 50
MIX = (("new", "answered", 40), ("new", "missed", 30), ("known", "answered", 15), ("known", "missed", 10))
REPOST_SHARE = 0.05


@dataclass
class Call:
    number: int
    origin: str  # "new" or "known"
    status: str
    caller_e164: str
    seller: int  # the seller (1-based) who answered, or whose extension rang
    deal_id: int | None = None  # the open deal of a known caller
    body: bytes = b""


@dataclass
class Load:
    calls: list[Call]
    posts: list[Call]  # in order, re-posts included
    outcomes: dict[int, dict[str, Any]] = field(default_factory=dict)


def plan(count: int, known: list[tuple[int, str, int]], sellers: int, *, seed: int = 2) -> Load:
    """``count`` posts: calls of each kind in the mix, and re-posts of earlier ones."""
    r = random.Random(seed)
    unique = round(count / (1 + REPOST_SHARE))
    kinds = [(o, s) for o, s, weight in MIX for _ in range(weight)]
    now = time.time()
    calls = []
    known_left = list(known)
    r.shuffle(known_left)
    for number in range(1, unique + 1):
        origin, status = kinds[r.randrange(len(kinds))]
        if origin == "known" and known_left:
            deal_id, phone, seller = known_left.pop()
            call = Call(number, origin, status, phone, seller, deal_id)
        else:
            e164 = f"+7495{number:07d}"
            call = Call(number, "new", status, e164, r.randint(1, sellers))
        call.body = _body(call, now - 120)
        calls.append(call)
    posts = list(calls)
    for _ in range(count - unique):
        original = calls[r.randrange(len(calls))]
        posts.insert(min(len(posts), original.number + 500 + r.randrange(500)), original)
    return Load(calls, posts)


def _body(call: Call, started: float) -> bytes:
    ext = seller_extension(call.seller)
    local = call.caller_e164[2:]
    doc: dict[str, Any] = {
        "call_id": f"bench-{call.number}",
        "provider": "freepbx",
        "direction": "inbound",
        "status": call.status,
        "caller": f"8 ({local[:3]}) {local[3:6]}-{local[6:8]}-{local[8:]}",  # as a PBX sends it
        "dialed": "+7 499 700-11-22",
        "rang": [ext],
        "started_at": _iso(started),
        "ended_at": _iso(started + 60),
        "duration_s": 48 if call.status == "answered" else 0,
    }
    if call.status == "answered":
        doc |= {"answered_by": ext, "answered_at": _iso(started + 12)}
    return json.dumps(doc).encode()


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).isoformat()


async def known_callers(url: str) -> list[tuple[int, str, int]]:
    """(deal id, phone, seller number) of open, owned deals: their contacts will call."""
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT d.id, c.phone, u.telegram_id FROM deals d JOIN contacts c ON c.id = d.contact_id "
                    "JOIN users u ON u.id = d.owner_id WHERE d.closed_at IS NULL ORDER BY d.id"
                )
            )
            return [(deal_id, phone, telegram_id - 2000) for deal_id, phone, telegram_id in rows]
    finally:
        await db.dispose()


async def check(url: str, load: Load) -> None:
    """Every call made exactly the deal, call record, task and pop-up it should, and re-posts nothing."""
    db = Database(url)
    try:
        async with db.engine.connect() as conn:

            async def rows(sql: str) -> list[Any]:
                return list(await conn.execute(text(sql)))

            calls = {
                ext_id: (deal_id, answered_by)
                for ext_id, deal_id, answered_by in await rows(
                    "SELECT external_id, deal_id, answered_by_ext FROM calls WHERE provider = 'freepbx'"
                )
            }
            deals = {
                deal_id: (phone, source, telegram_id)
                for deal_id, phone, source, telegram_id in await rows(
                    "SELECT d.id, c.phone, d.source, u.telegram_id FROM deals d "
                    "JOIN contacts c ON c.id = d.contact_id LEFT JOIN users u ON u.id = d.owner_id "
                    "WHERE d.id IN (SELECT deal_id FROM calls WHERE provider = 'freepbx')"
                )
            }
            new_deals = (await rows("SELECT count(*) FROM deals WHERE source IN ('call', 'missed_call')"))[0][
                0
            ]
            tasks = dict(
                await rows("SELECT deal_id, count(*) FROM tasks WHERE kind = 'call_back' GROUP BY deal_id")
            )
            popups = (
                await rows("SELECT count(*) FROM outbox WHERE kind IN ('call_answered', 'call_missed')")
            )[0][0]
    finally:
        await db.dispose()
    problems = []
    for call in load.calls:
        deal_id, _ = calls.get(f"bench-{call.number}", (None, None))
        if deal_id is None:
            problems.append(f"call {call.number}: no call record or no deal")
            continue
        phone, source, owner = deals[deal_id]
        if call.origin == "known" and deal_id != call.deal_id:
            problems.append(f"call {call.number}: joined deal {deal_id}, not the open deal {call.deal_id}")
        if call.origin == "new":
            expected = "call" if call.status == "answered" else "missed_call"
            if (phone, source, owner) != (call.caller_e164, expected, 2000 + call.seller):
                problems.append(f"call {call.number}: deal {deal_id} is {(phone, source, owner)}")
        if tasks.get(deal_id, 0) != (1 if call.status == "missed" else 0):
            problems.append(f"call {call.number}: deal {deal_id} has {tasks.get(deal_id, 0)} call-back tasks")
    new = sum(1 for c in load.calls if c.origin == "new")
    if new_deals != new:
        problems.append(f"{new_deals} deals were made from calls, {new} expected")
    if len(calls) != len(load.calls) or popups != len(load.calls):
        problems.append(f"{len(calls)} call records and {popups} pop-ups for {len(load.calls)} calls")
    reposts = sum(1 for answer in load.outcomes.values() if answer.get("duplicate"))
    if reposts != len(load.posts) - len(load.calls):
        problems.append(
            f"{reposts} posts were taken as re-posts, {len(load.posts) - len(load.calls)} expected"
        )
    if problems:
        raise AssertionError(f"{len(problems)} problems, e.g. " + "; ".join(problems[:5]))


@dataclass
class Served:
    latencies: list[float]
    seconds: float
    stats: dict[str, Any]  # the server's counters over the load (CPU seconds, statements, round trips)


async def serve_and_post(mode: str, load: Load, url: str | None, record: Path | None = None) -> Served:
    """Start the server in its process and the load generator in another; the load's figures."""
    port = free_port()
    args = ["-m", "bench.calls_server", "--mode", mode, "--port", str(port)] + (["--url", url] if url else [])
    args += ["--record", str(record)] if record else []
    work_dir().mkdir(parents=True, exist_ok=True)
    plan_file, out_file = work_dir() / f"calls-{mode}-plan.json", work_dir() / f"calls-{mode}-out.json"
    base = f"http://127.0.0.1:{port}"
    plan_file.write_text(
        json.dumps(
            {
                "url": base,
                "secret": SECRET,
                "clients": CLIENTS,
                "bodies": [c.body.decode() for c in load.posts],
            }
        )
    )
    async with child(args, name=f"calls-{mode}", env={"KANBOT_CALLS_SECRET": SECRET}):
        await wait_http(base + "/")
        before = await _stats(base)
        async with child(
            ["-m", "bench.calls_load", str(plan_file), str(out_file)], name=f"calls-load-{mode}"
        ) as gen:
            await gen.wait()
        after = await _stats(base, record=record is not None)
    if gen.returncode != 0:
        raise AssertionError(f"the load generator failed: see {work_dir() / f'calls-load-{mode}.log'}")
    outcome = json.loads(out_file.read_text())
    load.outcomes = {int(index): answer for index, answer in outcome["answers"].items()}
    stats = {key: after[key] - before[key] for key in after}
    return Served(outcome["latencies"], outcome["seconds"], stats)


async def _stats(base: str, *, record: bool = False) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(base + "/bench/stats", params={"record": "1"} if record else {}) as response,
    ):
        response.raise_for_status()
        answer: dict[str, Any] = await response.json()
        return answer


async def replay_floor(backend: str, url: str, recorded: Path) -> tuple[float, int]:
    """The calls' committed transactions, as Kanbot sent them, one after another through the bare
    driver on a fresh copy: (seconds, transactions)."""
    with recorded.open("rb") as f:
        transactions: list[P.Press] = pickle.load(f)  # noqa: S301 (written by this run's own server)
    if backend == SQLITE:
        replay, close = P.sqlite_replayer(url)
    else:
        # Recorded concurrently, the transactions took their ids in another order than they committed;
        # one after another their references would point ahead, so foreign keys are not checked here
        # (nor triggers run: a floor a little cheaper than the real transaction).
        replay, close = await P.asyncpg_replayer(url, replica=True)
    try:
        started = time.perf_counter()
        for transaction in transactions:
            await replay(transaction)
        return time.perf_counter() - started, len(transactions)
    finally:
        await close()


async def run(options: Options) -> list[Result]:
    count = options.pick(10_000, 1000, 60)
    spec = spec_for(options)
    results = []
    for backend in options.backend_names():
        source = await dataset("buttons-smoke" if spec is SMOKE else "buttons", spec, BACKENDS[backend])
        recorded = work_dir() / "calls-recorded.pickle"
        async with working_copy(source, "calls") as url:
            load = plan(count, await known_callers(url), spec.sellers)
            signed = await serve_and_post("floor", load, None)
            ours = await serve_and_post("kanbot", load, url, recorded)
            await check(url, load)
        async with working_copy(source, "calls-floor") as url:
            floor_s, transactions = await replay_floor(backend, url, recorded)
        recorded.unlink(missing_ok=True)
        service, floor_service = ours.seconds / count, floor_s / count
        cpu = ours.stats["cpu_s"] / count
        p99 = percentile(ours.latencies, 0.99)
        trips = ours.stats["round_trips"] / count
        log.info(
            "2. %s: Kanbot %.0f calls/s p99 %s, %.2f ms a call (CPU %.2f ms), %.1f statements, "
            "%.1f round trips a call; bare driver %.2f ms a call (%d transactions); signature only %.0f/s",
            backend,
            rate(count, ours.seconds),
            ms(p99),
            service * 1000,
            cpu * 1000,
            ours.stats["statements"] / count,
            trips,
            floor_service * 1000,
            transactions,
            rate(count, signed.seconds),
        )
        if backend == SQLITE:
            target, met = "< 2.5 ms a call", service < 0.0025
            mine = f"{ms(service)} ({rate(count, ours.seconds):.0f}/s, p99 {ms(p99)})"
        else:
            target, met = "< 3 round trips a call", trips < 3
            mine = (
                f"{ms(service)}, {trips:.1f} round trips ({rate(count, ours.seconds):.0f}/s, p99 {ms(p99)})"
            )
        results.append(
            Result(
                "2. Call to deal",
                backend,
                f"service time per ingested call, {count} posts by {CLIENTS} clients",
                mine,
                f"{ms(floor_service)} (bare driver)",
                floor_service / service,
                target,
                met,
                [
                    "every call made exactly its deal, call record, task and pop-up; re-posts nothing",
                    f"the server's CPU {ms(cpu)} and {ours.stats['statements'] / count:.1f} SQL statements a "
                    f"call; the floor: its {transactions} committed transactions as Kanbot sent them, one "
                    f"after another through {'sqlite3' if backend == SQLITE else 'asyncpg'}; the same "
                    f"server checking signatures only: {rate(count, signed.seconds):.0f} posts/s",
                ],
            )
        )
    return results

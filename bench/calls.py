"""Benchmark 2 — call to deal: finished calls posted to ``/api/v1/calls`` by 50 concurrent clients.

Kanbot: ``call_routes`` over a real ``Crm`` in its own process, on a copy of the 10 000-deal database;
each call is signed, de-duplicated, its caller looked up, and it makes or joins a deal, a call record,
a call-back task when missed, and the pop-up's outbox row. Floor: the same aiohttp server whose
handler only checks the signature. The mix: 40 % answered and 30 % missed calls from new numbers, 15 %
answered and 10 % missed from customers with an open deal, 5 % re-posts of earlier calls. Afterwards
the database must hold exactly the deals, calls, tasks and pop-ups those calls make.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from sqlalchemy import text

from bench.buttons import BACKENDS, SMOKE, spec_for
from bench.common import SQLITE, Options, Result, child, free_port, log, ms, percentile, rate, wait_http
from bench.datasets import dataset, seller_extension, working_copy
from crm_core.adapters.database import Database
from telephony_bridge.providers.generic import SIGNATURE_HEADER
from telephony_bridge.providers.openapi import CALLS_PATH
from telephony_bridge.signing import sign

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


async def post_all(base_url: str, load: Load) -> tuple[list[float], float]:
    """Post every call with CLIENTS clients at once; (latencies, seconds)."""
    latencies: list[float] = []
    queue = iter(enumerate(load.posts))

    async def client(session: aiohttp.ClientSession) -> None:
        for index, call in queue:
            header = sign(call.body, SECRET)
            before = time.perf_counter()
            async with session.post(
                base_url + CALLS_PATH,
                data=call.body,
                headers={SIGNATURE_HEADER: header, "Content-Type": "application/json"},
            ) as response:
                answer = await response.json()
                if response.status != 202:
                    raise AssertionError(f"call {call.number}: {response.status} {answer}")
            latencies.append(time.perf_counter() - before)
            load.outcomes[index] = answer

    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(CLIENTS)))
        return latencies, time.perf_counter() - started


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


async def serve_and_post(mode: str, load: Load, url: str | None) -> tuple[list[float], float]:
    port = free_port()
    args = ["-m", "bench.calls_server", "--mode", mode, "--port", str(port)] + (["--url", url] if url else [])
    async with child(args, name=f"calls-{mode}", env={"KANBOT_CALLS_SECRET": SECRET}):
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/")
        load.outcomes.clear()
        return await post_all(base, load)


async def run(options: Options) -> list[Result]:
    count = options.pick(10_000, 1000, 60)
    spec = spec_for(options)
    results = []
    for backend in options.backend_names():
        source = await dataset("buttons-smoke" if spec is SMOKE else "buttons", spec, BACKENDS[backend])
        async with working_copy(source, "calls") as url:
            load = plan(count, await known_callers(url), spec.sellers)
            floor_latencies, floor_s = await serve_and_post("floor", load, None)
            ours_latencies, ours_s = await serve_and_post("kanbot", load, url)
            await check(url, load)
        ours, floor = rate(count, ours_s), rate(count, floor_s)
        p99, floor_p99 = percentile(ours_latencies, 0.99), percentile(floor_latencies, 0.99)
        log.info(
            "2. %s: Kanbot %.0f calls/s p99 %s; floor %.0f/s p99 %s",
            backend,
            ours,
            ms(p99),
            floor,
            ms(floor_p99),
        )
        target = 0.3 if backend == SQLITE else None
        results.append(
            Result(
                "2. Call to deal",
                backend,
                f"calls/s (p99), {count} posts by {CLIENTS} clients",
                f"{ours:.0f}/s ({ms(p99)})",
                f"{floor:.0f}/s ({ms(floor_p99)})",
                ours / floor,
                "≥ 0.3× the floor" if target else "— (reported)",
                ours / floor >= target if target else None,
                ["every call made exactly its deal, call record, task and pop-up; re-posts nothing"],
            )
        )
    return results

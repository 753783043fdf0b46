"""`python -m bench.calls_load PLAN OUT`: benchmark 2's load generator, in a process of its own.

PLAN (JSON): ``{"url": base URL, "secret": ..., "clients": n, "bodies": [body, ...]}``, the posts in
order. The generator posts them with ``clients`` concurrent clients, each signed, and writes OUT
(JSON): ``{"seconds": ..., "latencies": [...], "answers": {index: answer}}``. In its own process it
takes no CPU from the server's process nor the server from it (each has its own interpreter lock).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp

from telephony_bridge.providers.generic import SIGNATURE_HEADER
from telephony_bridge.providers.openapi import CALLS_PATH
from telephony_bridge.signing import sign


async def post_all(url: str, secret: str, clients: int, bodies: list[bytes]) -> dict[str, Any]:
    latencies: list[float] = []
    answers: dict[int, Any] = {}
    queue = iter(enumerate(bodies))

    async def client(session: aiohttp.ClientSession) -> None:
        for index, body in queue:
            header = sign(body, secret)
            before = time.perf_counter()
            async with session.post(
                url + CALLS_PATH,
                data=body,
                headers={SIGNATURE_HEADER: header, "Content-Type": "application/json"},
            ) as response:
                answer = await response.json()
                if response.status != 202:
                    raise AssertionError(f"post {index}: {response.status} {answer}")
            latencies.append(time.perf_counter() - before)
            answers[index] = answer

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "latencies": latencies, "answers": answers}


def main() -> None:
    plan_path, out_path = sys.argv[1:3]
    with open(plan_path) as f:
        plan = json.load(f)
    bodies = [body.encode() for body in plan["bodies"]]
    outcome = asyncio.run(post_all(plan["url"], plan["secret"], plan["clients"], bodies))
    with open(out_path, "w") as f:
        json.dump(outcome, f)


if __name__ == "__main__":
    main()

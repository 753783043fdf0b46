"""A webhook receiver for the tests: a real aiohttp server that records each post, answers 200 or 503,
and can close its port and open it again (the same address) to play a system that is down."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.network import free_port

SECRET = "whsec_receiver_test_secret_0001"


@dataclass(frozen=True)
class Received:
    body: bytes
    headers: dict[str, str]

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    answer: int = 200
    received: list[Received] = field(default_factory=list)  # what it took (answered 2xx)
    refused: int = 0  # the posts it answered with an error
    _runner: web.AppRunner | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    @classmethod
    @contextlib.asynccontextmanager
    async def started(cls) -> AsyncIterator[Receiver]:
        receiver = cls()
        await receiver.open()
        try:
            yield receiver
        finally:
            await receiver.close()

    async def _take(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.answer >= 300:
            self.refused += 1
        else:
            self.received.append(Received(body, dict(request.headers)))
        self._changed.set()
        return web.Response(status=self.answer)

    async def open(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._take)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def until(self, condition: Callable[[], bool], *, timeout_s: float = 30) -> None:
        """Wait until ``condition()`` holds after a post (or now), at most ``timeout_s`` seconds."""
        async with asyncio.timeout(timeout_s):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    def events(self) -> list[tuple[int, str, dict[str, Any]]]:
        """(delivery id, event, data) of what it took, in the order it took them."""
        return [(r.document["id"], r.document["event"], r.document["data"]) for r in self.received]


async def settled(check: Callable[[], Awaitable[bool]], *, timeout_s: float = 30, what: str = "it") -> None:
    """Poll ``check`` (the database's state, which has no event to wait on) until it holds."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)

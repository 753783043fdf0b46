"""Kanbot's HTTP server against clients that hold on: slow headers, slow bodies, idle and surplus
connections, and a process out of file descriptors (``kanbot.http_server`` serving a small app)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from kanbot.http_server import (
    HttpLimits,
    HttpServer,
    Tally,
    connection_budget,
    quiet_accept_errors,
    start_http,
)
from tests.ops.support import closed_by_server, dripping, until

SHORT = 0.5  # seconds: the timeouts under test
LONG = 60.0  # seconds


def limits(**given: Any) -> HttpLimits:
    """The limits under test; every other timeout long enough not to be what closes a connection."""
    timeouts = {"header_timeout_s": LONG, "body_timeout_s": LONG, "idle_timeout_s": LONG}
    return HttpLimits(**(timeouts | given))


@dataclass
class Served:
    server: HttpServer
    release: asyncio.Event = field(default_factory=asyncio.Event)
    holding: int = 0

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def open_connections(self) -> int:
        return len(self.server.connections.open)


@contextlib.asynccontextmanager
async def serving(limits: HttpLimits) -> AsyncIterator[Served]:
    """A small app: /healthz, /echo (reads the body), /slow (a handler that takes its time), /hold
    (waits for the test to release it)."""
    app = web.Application()
    served: Served | None = None

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(SHORT * 3)  # longer than every timeout: handler time is not a client's
        return web.Response(text="done")

    async def hold(request: web.Request) -> web.Response:
        assert served is not None
        served.holding += 1
        await served.release.wait()
        return web.Response(text="released")

    app.router.add_get("/healthz", healthz)
    app.router.add_post("/echo", echo)
    app.router.add_get("/slow", slow)
    app.router.add_get("/hold", hold)
    server = await start_http(app, "127.0.0.1", 0, limits)
    served = Served(server)
    try:
        yield served
    finally:
        served.release.set()
        await server.shutdown()
        await server.cleanup()


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def get(port: int, path: str, *, timeout_s: float = 5.0) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http,
        http.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


async def test_a_client_sending_its_headers_a_byte_at_a_time_is_cut_off() -> None:
    async with serving(limits(header_timeout_s=SHORT)) as served:
        reader, writer = await connect(served.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: kanbot\r\n")
        async with dripping(writer, b"X-Slow: " + b"a" * 500):
            answer = await closed_by_server(reader, within_s=10)
        writer.close()
        assert answer == b""  # no response: the request never arrived
        await until(lambda: served.open_connections == 0, timeout_s=5, what="no connection")


async def test_a_connection_that_never_sends_a_request_is_closed_after_the_header_timeout() -> None:
    async with serving(limits(header_timeout_s=SHORT)) as served:
        reader, writer = await connect(served.port)
        assert await closed_by_server(reader, within_s=10) == b""
        writer.close()


async def test_a_body_sent_a_byte_at_a_time_gets_408_and_the_connection_is_closed() -> None:
    async with serving(limits(body_timeout_s=SHORT)) as served:
        reader, writer = await connect(served.port)
        writer.write(b"POST /echo HTTP/1.1\r\nHost: kanbot\r\nContent-Length: 1000\r\n\r\n")
        async with dripping(writer, b"b" * 1000):
            answer = await closed_by_server(reader, within_s=10)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert b"the request body did not arrive in time" in answer


async def test_a_kept_alive_connection_left_idle_is_closed_after_the_idle_timeout() -> None:
    async with serving(limits(idle_timeout_s=SHORT)) as served:
        reader, writer = await connect(served.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: kanbot\r\n\r\n")
        answer = await closed_by_server(reader, within_s=10)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200 "), answer  # answered, kept alive, then closed idle


async def test_timeouts_limit_the_client_never_the_handler_nor_a_prompt_client() -> None:
    async with serving(limits(header_timeout_s=SHORT, body_timeout_s=SHORT)) as served:
        assert await get(served.port, "/slow") == (200, "done")  # the handler takes three timeouts
        async with aiohttp.ClientSession() as http:
            for n in range(3):  # one kept-alive connection, several requests with bodies
                async with http.post(f"http://127.0.0.1:{served.port}/echo", data=f"body {n}") as response:
                    assert (response.status, await response.text()) == (200, f"body {n}")


async def test_past_the_limit_the_connection_waiting_longest_makes_way_and_healthz_answers() -> None:
    async with serving(limits(max_connections=5)) as served:
        idle = [await connect(served.port) for _ in range(5)]
        await until(lambda: served.open_connections == 5, timeout_s=5, what="5 connections")

        assert await get(served.port, "/healthz") == (200, '{"status": "ok"}')

        oldest_reader, _ = idle[0]
        assert await closed_by_server(oldest_reader, within_s=5) == b""
        assert served.open_connections <= 5
        for _, writer in idle:
            writer.close()


async def test_a_flood_of_idle_connections_never_holds_more_than_the_limit() -> None:
    async with serving(limits(max_connections=10)) as served:
        flood = [await connect(served.port) for _ in range(40)]
        closed = await asyncio.gather(*(closed_by_server(r, within_s=5) for r, _ in flood[:30]))
        assert closed == [b""] * 30  # the thirty oldest made way for the newer ones
        assert served.open_connections == 10
        assert await get(served.port, "/healthz") == (200, '{"status": "ok"}')
        for _, writer in flood:
            writer.close()


async def test_past_the_limit_with_every_connection_running_a_request_a_new_one_is_closed_at_once() -> None:
    async with serving(limits(max_connections=3)) as served:
        held = [asyncio.create_task(get(served.port, "/hold", timeout_s=30)) for _ in range(3)]
        await until(lambda: served.holding == 3, timeout_s=5, what="3 requests held")

        reader, writer = await connect(served.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: kanbot\r\n\r\n")
        assert await closed_by_server(reader, within_s=5) == b""  # refused, not queued
        writer.close()

        served.release.set()
        assert await asyncio.gather(*held) == [(200, "released")] * 3  # the running ones were not harmed


async def test_a_slow_body_makes_way_for_a_new_connection_at_the_limit() -> None:
    async with serving(limits(max_connections=1)) as served:
        reader, writer = await connect(served.port)
        writer.write(b"POST /echo HTTP/1.1\r\nHost: kanbot\r\nContent-Length: 1000\r\n\r\nb")
        await writer.drain()
        await until(
            lambda: [guard.state for guard in served.server.connections.open] == ["body"],
            timeout_s=5,
            what="the slow body in the handler",
        )
        assert await get(served.port, "/healthz") == (200, '{"status": "ok"}')
        assert (await closed_by_server(reader, within_s=5)).startswith(b"HTTP/1.1 503 ")
        writer.close()


class ExhaustedSocket(socket.socket):
    """A listening socket whose first ``accept()`` calls fail as when the process has no descriptor left."""

    failures = 250

    def accept(self) -> tuple[socket.socket, object]:
        if self.failures > 0:
            self.failures -= 1
            raise OSError(errno.EMFILE, "Too many open files")
        return super().accept()


async def test_failed_accepts_are_logged_as_one_line_with_a_count_not_a_traceback_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    listener = ExhaustedSocket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(100)
    listener.setblocking(False)
    undo = quiet_accept_errors(loop, interval_s=1.0)
    caplog.set_level(logging.INFO)
    server = await loop.create_server(asyncio.Protocol, sock=listener, backlog=100)
    try:
        client = socket.create_connection(listener.getsockname())  # makes the listener readable
        await until(lambda: listener.failures == 0, timeout_s=20, what="every accept to fail")
        await until(lambda: len(lines(caplog)) >= 2, timeout_s=10, what="the line with the count")
        client.close()
    finally:
        undo()
        server.close()
    first, summary = lines(caplog)[:2]
    assert "Too many open files" in first and "KANBOT_HTTP_MAX_CONNECTIONS" in first
    assert "times in the last 1 s" in summary
    assert all(record.exc_info is None for record in caplog.records)
    assert not [r for r in caplog.records if r.name == "asyncio"]  # nothing of asyncio's own traceback


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "cannot accept a connection" in r.getMessage()]


class FakeLater:
    """``loop.call_later`` under the test's control: time passes when the test says so."""

    def __init__(self) -> None:
        self.pending: list[Callable[[], None]] = []

    def __call__(self, seconds: float, callback: Callable[[], None]) -> None:
        self.pending.append(callback)

    def interval_passes(self) -> None:
        due, self.pending = self.pending, []
        for callback in due:
            callback()


def test_a_tally_writes_the_first_event_at_once_then_one_count_per_interval_then_goes_quiet() -> None:
    written: list[tuple[int, bool]] = []
    later = FakeLater()
    tally = Tally(lambda count, first: written.append((count, first)), later=later, interval_s=60)

    for _ in range(71_000):
        tally.add()
    assert written == [(1, True)]

    later.interval_passes()
    assert written == [(1, True), (70_999, False)]

    later.interval_passes()  # a quiet interval: nothing to say, and the next event is news again
    assert written == [(1, True), (70_999, False)]
    tally.add()
    assert written[-1] == (1, True)
    assert tally.total == 71_001


@pytest.mark.parametrize(
    ("wanted", "soft", "hard", "expected"),
    [
        (1000, 1024, 524288, (1000, 1256)),  # systemd's default soft limit: raised
        (1000, 1048576, 1048576, (1000, 1048576)),  # Docker's: enough already
        (1000, 1024, 1024, (768, 1024)),  # a hard limit of 1024: fewer connections
        (1000, 1024, -1, (1000, 1256)),  # no hard limit
        (1000, 100, 100, (1, 100)),  # hardly any descriptor: still one connection
    ],
)
def test_the_connection_limit_fits_in_the_open_file_limit(
    wanted: int, soft: int, hard: int, expected: tuple[int, int]
) -> None:
    assert connection_budget(wanted, soft, hard) == expected

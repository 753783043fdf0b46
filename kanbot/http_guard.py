"""The watchdog on each connection of Kanbot's HTTP server and the limit on how many are open.

``Connections`` makes one ``Guard`` per connection, wrapped around aiohttp's own protocol; its
``middleware`` tells the guard when a request reaches the application and when it is done. What they
enforce, and why, is told in ``kanbot/http_server.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from aiohttp.web_protocol import RequestHandler

    from kanbot.settings import ServerSettings

log = logging.getLogger("kanbot.http_server")

LOG_EVERY_S = 60.0
_CLOSE_GRACE_S = 5.0  # after a 408, what the client still sends is read and dropped this long


@dataclass(frozen=True)
class HttpLimits:
    """How long a client may take and how many connections may be open at once."""

    header_timeout_s: float = 30.0
    body_timeout_s: float = 30.0
    idle_timeout_s: float = 150.0
    max_connections: int = 1000

    @classmethod
    def of(cls, settings: ServerSettings) -> HttpLimits:
        return cls(
            header_timeout_s=settings.http_header_timeout_seconds,
            body_timeout_s=settings.http_body_timeout_seconds,
            idle_timeout_s=settings.http_idle_timeout_seconds,
            max_connections=settings.http_max_connections,
        )


class Tally:
    """A recurring event reported at most once per interval: the first at once, then how many more.

    ``report(count, first)`` writes the line; ``later(seconds, callback)`` schedules the end of an
    interval (``loop.call_later``; a test passes a fake to play the clock).
    """

    def __init__(
        self,
        report: Callable[[int, bool], None],
        *,
        later: Callable[[float, Callable[[], None]], object],
        interval_s: float = LOG_EVERY_S,
    ) -> None:
        self._report, self._later, self.interval_s = report, later, interval_s
        self._quiet = False  # an interval is running: count, do not write
        self._count = 0
        self.total = 0

    def add(self) -> None:
        self.total += 1
        if self._quiet:
            self._count += 1
            return
        self._report(1, True)
        self._start_interval()

    def _start_interval(self) -> None:
        self._quiet = True
        self._later(self.interval_s, self._end_interval)

    def _end_interval(self) -> None:
        count, self._count = self._count, 0
        if not count:
            self._quiet = False
            return
        self._report(count, False)
        self._start_interval()


class _BodyCut(TimeoutError):
    """Set on a request's body stream: the client did not send it in time (or made way for another).

    A ``TimeoutError``: should a handler let it through, aiohttp takes it as a timeout (a 504 it cannot
    send any more), not as a crash to log.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def _plain_response(status: int, reason: str) -> bytes:
    body = json.dumps({"error": reason}).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class Guard(asyncio.Protocol):
    """One connection: aiohttp's protocol inside, the deadline of what the client owes outside."""

    def __init__(self, connections: Connections, inner: RequestHandler) -> None:
        self.connections, self.inner = connections, inner
        self.transport: asyncio.Transport | None = None
        self.admitted = False  # aiohttp's protocol has the connection (until a body is cut)
        self.state = "head"  # head | idle | busy | body | lingering | closing
        self.since = 0.0
        self.request: web.BaseRequest | None = None
        self._timer: asyncio.TimerHandle | None = None

    # -- what the transport calls -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if not self.connections.admit(self):
            transport.close()
            return
        self.admitted = True
        self.inner.connection_made(transport)
        self._enter("head", self.connections.limits.header_timeout_s)

    def data_received(self, data: bytes) -> None:
        if not self.admitted:  # lingering after a cut body: what still comes is dropped
            return
        if self.state == "idle":  # the next request begins: its headers are due
            self._enter("head", self.connections.limits.header_timeout_s)
        self.inner.data_received(data)

    def eof_received(self) -> None:
        if self.admitted:
            self.inner.eof_received()
        # returning None closes the connection: a half-closed client is not waited for

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        self.connections.forget(self)
        self.request = None
        if self.admitted:
            self.admitted = False
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    # -- what the middleware calls ------------------------------------------------------------
    def request_started(self, request: web.BaseRequest) -> None:
        self.request = request
        if request.content.is_eof():
            self._enter("busy", None)
        else:
            self._enter("body", self.connections.limits.body_timeout_s)

    def request_finished(self) -> None:
        self.request = None
        if self.state not in ("lingering", "closing"):
            self._enter("idle", self.connections.limits.idle_timeout_s)

    # -- deadlines and cuts -------------------------------------------------------------------
    def evict(self) -> None:
        """Make way for a new connection (the limit is reached)."""
        if self.state == "body":
            self._cut_body(503, "the server is at its connection limit")
        else:
            self._close()

    def _enter(self, state: str, timeout_s: float | None) -> None:
        self._cancel_timer()
        loop = self.connections.loop
        self.state, self.since = state, loop.time()
        if timeout_s is not None:
            self._timer = loop.call_later(timeout_s, self._expired)

    def _expired(self) -> None:
        self._timer = None
        if self.state == "head":
            self.connections.cut_headers.add()
            self._close()
        elif self.state == "idle":
            self._close()
        elif self.state == "body":
            if self.request is not None and not self.request.content.is_eof():
                self.connections.cut_bodies.add()
                self._cut_body(408, "the request body did not arrive in time")
            else:
                self.state = "busy"
        elif self.state == "lingering" and self.transport is not None:
            self.transport.abort()

    def _cut_body(self, status: int, reason: str) -> None:
        """Answer ``status`` and close, reading (and dropping) what the client still sends for a while:
        closing on unread data would reset the connection, and the client could lose the answer."""
        assert self.request is not None and self.transport is not None
        answered = self.request.writer.output_size > 0  # the handler began its own response
        if not answered:
            self.transport.write(_plain_response(status, reason))
            if self.transport.can_write_eof():
                self.transport.write_eof()
        # aiohttp's protocol lets go as if the client had gone: the handler's read raises _BodyCut,
        # and what it answers is not written (the connection is no longer its own).
        self.admitted = False
        self.inner.transport = None
        self.inner.connection_lost(_BodyCut(status, reason))
        if answered:
            self._close()
        else:
            self._enter("lingering", _CLOSE_GRACE_S)

    def _close(self) -> None:
        self._cancel_timer()
        self.state = "closing"
        if self.transport is not None:
            self.transport.close()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class Connections:
    """Every open connection of one server, the limit on them and the tallies of what was cut."""

    def __init__(self, make_inner: Callable[[], RequestHandler], limits: HttpLimits) -> None:
        self.loop = asyncio.get_running_loop()
        self.limits, self._make_inner = limits, make_inner
        self.open: dict[Guard, None] = {}  # in the order they came
        self._by_inner: dict[RequestHandler, Guard] = {}
        header_s, body_s, limit = limits.header_timeout_s, limits.body_timeout_s, limits.max_connections
        self.cut_headers = self._tally(
            f"closed {{n}} connection(s) that sent no complete request headers within {header_s:g} s"
        )
        self.cut_bodies = self._tally(f"answered 408 to {{n}} request(s) whose body took over {body_s:g} s")
        self.evicted = self._tally(
            f"at the connection limit ({limit}): closed {{n}} connection(s) waiting on their client"
        )
        self.refused = self._tally(
            f"at the connection limit ({limit}) with every connection running a request: "
            "closed {n} new connection(s)"
        )

    def _tally(self, line: str) -> Tally:
        def report(count: int, first: bool) -> None:
            if first:
                log.warning("HTTP: %s (more are counted: one line a minute)", line.format(n=count))
            else:
                log.warning("HTTP: %s in the last %.0f s", line.format(n=count), LOG_EVERY_S)

        return Tally(report, later=self.loop.call_later)

    def protocol(self) -> Guard:
        return Guard(self, self._make_inner())

    def admit(self, guard: Guard) -> bool:
        if len(self.open) >= self.limits.max_connections:
            victim = self._victim()
            if victim is None:
                self.refused.add()
                return False
            self.evicted.add()
            self.forget(victim)
            victim.evict()
        self.open[guard] = None
        self._by_inner[guard.inner] = guard
        return True

    def forget(self, guard: Guard) -> None:
        self.open.pop(guard, None)
        self._by_inner.pop(guard.inner, None)

    def _victim(self) -> Guard | None:
        for state in ("head", "idle", "body"):
            waiting = [guard for guard in self.open if guard.state == state]
            if waiting:
                return min(waiting, key=lambda guard: guard.since)
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Tell the connection's guard that a request is in the application, and when it is done."""
        guard = self._by_inner.get(request.protocol)
        if guard is None:
            response: web.StreamResponse = await handler(request)
            return response
        guard.request_started(request)
        try:
            response = await handler(request)
        except _BodyCut as cut:
            response = web.json_response({"error": cut.reason}, status=cut.status)
            response.force_close()
        finally:
            guard.request_finished()
        return response

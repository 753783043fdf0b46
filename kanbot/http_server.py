"""Kanbot's HTTP server: aiohttp behind read deadlines, a connection limit and a quiet accept-error log.

aiohttp waits for a request for as long as the client keeps its connection open, takes every
connection the kernel hands it, and asyncio logs a traceback for every failed ``accept()``: one
client sending a byte every ten seconds holds a connection for ever, and enough of them exhaust the
process's file descriptors. Here each connection has a watchdog (``_Guard``, wrapped around
aiohttp's own protocol, with ``_Connections.middleware`` telling it when a request reaches the
application and when it is done):

* the request line and headers must arrive within ``header_timeout_s`` of the connection opening,
  or of the first byte of the next request on a kept-alive connection;
* the body within ``body_timeout_s`` of the headers: past it the handler's read fails, the client
  gets 408 and the connection is closed (the time the handler itself takes is not limited);
* a kept-alive connection that sends nothing is closed after ``idle_timeout_s`` (counted from the
  moment the handler returned: a response the client has not read by then is cut too).

At most ``max_connections`` are open (fewer when the open-file limit allows fewer). A connection
past the limit takes the place of the one that keeps the server waiting longest — one still sending
its headers, then an idle kept-alive one, then one still sending its body — so a health check gets
through a flood of idle or slow connections; when every connection is running a request, the new
one is closed at once. Those cuts and failed accepts are logged once a minute with a count.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from aiohttp.web_protocol import RequestHandler

    from kanbot.settings import ServerSettings

log = logging.getLogger(__name__)

RESERVED_FILES = 128  # descriptors kept for the database pool, the Bot API client, logs, AMI...
LOG_EVERY_S = 60.0
_CLOSE_GRACE_S = 5.0  # after a 408, the handler has this long to notice before the socket is dropped
_ACCEPT_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


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


class _Guard(asyncio.Protocol):
    """One connection: aiohttp's protocol inside, the deadline of what the client owes outside."""

    def __init__(self, connections: _Connections, inner: RequestHandler) -> None:
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


class _Connections:
    """Every open connection of one server, the limit on them and the tallies of what was cut."""

    def __init__(self, make_inner: Callable[[], RequestHandler], limits: HttpLimits) -> None:
        self.loop = asyncio.get_running_loop()
        self.limits, self._make_inner = limits, make_inner
        self.open: dict[_Guard, None] = {}  # in the order they came
        self._by_inner: dict[RequestHandler, _Guard] = {}
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

    def protocol(self) -> _Guard:
        return _Guard(self, self._make_inner())

    def admit(self, guard: _Guard) -> bool:
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

    def forget(self, guard: _Guard) -> None:
        self.open.pop(guard, None)
        self._by_inner.pop(guard.inner, None)

    def _victim(self) -> _Guard | None:
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


class _GuardedSite(web.BaseSite):
    """A TCP site whose connections go through the guards."""

    def __init__(self, runner: web.BaseRunner, connections: _Connections, host: str, port: int) -> None:
        super().__init__(runner)
        self._connections, self._host, self._port = connections, host, port

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._connections.protocol, self._host, self._port, backlog=self._backlog
        )


class HttpServer:
    """Kanbot's HTTP server, started by ``start_http``."""

    def __init__(
        self, runner: web.AppRunner, connections: _Connections, undo_log: Callable[[], None]
    ) -> None:
        self.runner, self.connections, self._undo_log = runner, connections, undo_log

    @property
    def port(self) -> int:
        return int(self.runner.addresses[0][1])

    async def shutdown(self) -> None:
        """Stop the application's background work (``AppRunner.shutdown``); connections stay open."""
        await self.runner.shutdown()

    async def cleanup(self) -> None:
        """Stop listening, let requests in flight finish, close every connection."""
        try:
            await self.runner.cleanup()
        finally:
            self._undo_log()


async def start_http(app: web.Application, host: str, port: int, limits: HttpLimits) -> HttpServer:
    """Serve ``app`` on ``host:port`` within ``limits`` (``port`` 0 picks a free one)."""
    limits = replace(limits, max_connections=fit_open_files(limits.max_connections))
    backstop_s = limits.idle_timeout_s + limits.header_timeout_s  # aiohttp's own idle timer: after ours
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5, keepalive_timeout=backstop_s)
    connections = _Connections(lambda: _server_of(runner)(), limits)
    app.middlewares.insert(0, connections.middleware)  # outermost: it sees every request the app handles
    await runner.setup()
    undo_log = quiet_accept_errors(asyncio.get_running_loop())
    try:
        await _GuardedSite(runner, connections, host, port).start()
    except BaseException:
        undo_log()
        await runner.cleanup()
        raise
    return HttpServer(runner, connections, undo_log)


def _server_of(runner: web.AppRunner) -> web.Server:
    assert runner.server is not None, "the runner is set up before the site accepts connections"
    return runner.server


def quiet_accept_errors(
    loop: asyncio.AbstractEventLoop, interval_s: float = LOG_EVERY_S
) -> Callable[[], None]:
    """Log the loop's failed ``accept()`` (out of file descriptors, of memory) once per interval with a
    count, instead of a traceback each (asyncio retries up to a hundred accepts a tick, each logged).
    Other errors go where they went. The function it returns puts the previous handler back."""
    previous = loop.get_exception_handler()
    if getattr(previous, "quiets_accept_errors", False):  # another server of this process did it
        return lambda: None
    latest: list[OSError] = []

    def report(count: int, first: bool) -> None:
        error = latest[-1]
        what = f"{error.strerror or error} (errno {error.errno})"
        if first:
            log.error(
                "HTTP: cannot accept a connection: %s; raise the open-file limit (ulimit -n, LimitNOFILE) "
                "or lower KANBOT_HTTP_MAX_CONNECTIONS (more are counted, one line a minute)",
                what,
            )
        else:
            log.error(
                "HTTP: cannot accept a connection: %s, %d times in the last %.0f s", what, count, interval_s
            )

    tally = Tally(report, later=loop.call_later, interval_s=interval_s)

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if (
            isinstance(error, OSError)
            and error.errno in _ACCEPT_ERRNOS
            and "accept" in str(context.get("message", ""))
        ):
            latest[:] = [error]
            tally.add()
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handle.quiets_accept_errors = True  # type: ignore[attr-defined]
    loop.set_exception_handler(handle)
    return lambda: loop.set_exception_handler(previous)


def connection_budget(wanted: int, soft: int, hard: int, *, unlimited: int = -1) -> tuple[int, int]:
    """The connections the open-file limit allows, and the soft limit to ask for: ``wanted`` plus
    ``RESERVED_FILES`` when the hard limit permits (``unlimited`` is ``RLIM_INFINITY``)."""
    needed = wanted + RESERVED_FILES
    if soft == unlimited or soft >= needed:
        return wanted, soft
    target = needed if hard == unlimited else min(needed, hard)
    target = max(target, soft)
    return max(min(wanted, target - RESERVED_FILES), 1), target


def fit_open_files(wanted: int) -> int:
    """Raise the soft open-file limit for ``wanted`` connections if the hard limit allows; the
    connection limit to use (lower than ``wanted``, and said so, when it does not)."""
    try:
        import resource
    except ImportError:  # not on a POSIX system: nothing to fit
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    allowed, target = connection_budget(wanted, soft, hard, unlimited=resource.RLIM_INFINITY)
    if target != soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            allowed = max(min(wanted, soft - RESERVED_FILES), 1)
    if allowed < wanted:
        log.warning(
            "HTTP: the open-file limit (%d) allows %d connections, not KANBOT_HTTP_MAX_CONNECTIONS=%d: "
            "serving at most %d (raise LimitNOFILE or ulimit -n)",
            hard,
            allowed,
            wanted,
            allowed,
        )
    return allowed

"""Kanbot's HTTP server: aiohttp behind read deadlines, a connection limit and a quiet accept-error log.

aiohttp waits for a request for as long as the client keeps its connection open, takes every
connection the kernel hands it, and asyncio logs a traceback for every failed ``accept()``: one
client sending a byte every ten seconds holds a connection for ever, and enough of them exhaust the
process's file descriptors. Here each connection has a watchdog (``kanbot.http_guard``):

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
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aiohttp import web

from kanbot.http_guard import LOG_EVERY_S, Connections, HttpLimits, Tally

__all__ = ["HttpLimits", "HttpServer", "Tally", "connection_budget", "quiet_accept_errors", "start_http"]

log = logging.getLogger(__name__)

ACCEPT_BACKLOG = 128  # connections asyncio may accept in one go, before any is closed for the limit
# Descriptors kept beside the connections: the database pool, the Bot API client, logs, AMI... and
# one accept burst.
RESERVED_FILES = 128 + ACCEPT_BACKLOG
_ACCEPT_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class _GuardedSite(web.BaseSite):
    """A TCP site whose connections go through the guards."""

    def __init__(self, runner: web.BaseRunner, connections: Connections, host: str, port: int) -> None:
        super().__init__(runner)
        self._connections, self._host, self._port = connections, host, port

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._connections.protocol, self._host, self._port, backlog=ACCEPT_BACKLOG
        )


class HttpServer:
    """Kanbot's HTTP server, started by ``start_http``."""

    def __init__(self, runner: web.AppRunner, connections: Connections, undo_log: Callable[[], None]) -> None:
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
    connections = Connections(lambda: _server_of(runner)(), limits)
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

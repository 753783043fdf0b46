"""Running the real ``kanbot`` executable as an operator does, and a load balancer for its webhook."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text

from crm_core.adapters.database import Database
from tests.e2e.harness import TOKEN
from tests.support.network import free_port

KANBOT = str(Path(sys.executable).parent / "kanbot")
SECRET = "ops-test-secret_0123456789"


def plain(text: str) -> str:
    """A message's text without the direction isolates around names and titles (U+2068, U+2069)."""
    return text.replace("\u2068", "").replace("\u2069", "")


def noon_zone(now: datetime | None = None) -> str:
    """A fixed-offset time zone where it is about noon now: inside working hours whatever the hour here."""
    hour = (now or datetime.now(UTC)).hour
    offset = 12 - hour  # between -11 and +12 hours, every one of them an Etc/GMT zone
    return f"Etc/GMT{-offset:+d}"  # POSIX signs: Etc/GMT-3 is three hours ahead of UTC


def base_env(database_url: str, emulator_url: str, **extra: str) -> dict[str, str]:
    """A clean environment for a Kanbot process: the system's basics, no KANBOT_* of the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KANBOT_")}
    env |= {
        "KANBOT_DATABASE_URL": database_url,
        "KANBOT_BOT_TOKEN": TOKEN,
        "KANBOT_TELEGRAM_API_URL": emulator_url,
        "KANBOT_HTTP_HOST": "127.0.0.1",
        "KANBOT_DEFAULT_REGION": "RU",
        "KANBOT_DEFAULT_CURRENCY": "RUB",
        "PYTHONUNBUFFERED": "1",
    }
    return env | extra


@dataclass
class KanbotProcess:
    """One real ``kanbot ...`` process; its output goes to a file the test can read."""

    name: str
    args: Sequence[str]
    env: dict[str, str]
    cwd: Path
    port: int = field(default_factory=free_port)
    open_files: int | None = None  # the process's open-file limit (soft and hard), as `ulimit -n` sets it
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.cwd / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> KanbotProcess:
        env = self.env | {"KANBOT_HTTP_PORT": str(self.port)}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [KANBOT, *self.args],
                env=env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=self._limit_open_files if self.open_files else None,
            )
        return self

    def _limit_open_files(self) -> None:
        assert self.open_files is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def get(self, path: str, *, timeout_s: float = 2.0) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http,
            http.get(self.url + path) as response,
        ):
            return response.status, await response.text()

    async def wait_ready(self, timeout_s: float = 240.0) -> None:
        """Until ``/readyz`` answers 200 (the process started, its database is current); a fresh process
        takes long to start on a busy machine, hence the generous bound."""

        async def ready() -> bool:
            assert self.running, f"{self.name} exited:\n{self.output()}"
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                return (await self.get("/readyz"))[0] == 200
            return False

        await wait_for(ready, timeout_s=timeout_s, what=f"{self.name} to be ready")

    async def metric(self, name: str) -> float | None:
        """A sample's value from ``/metrics`` (``name`` with its labels, as Prometheus prints it)."""
        status, body = await self.get("/metrics")
        assert status == 200, body
        return metric_value(body, name)

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def exit_code(self, within_s: float) -> int | None:
        """The exit code once the process has ended, ``None`` if it still runs after ``within_s``.

        It waits in a thread: the event loop (and the emulator the process talks to) keeps running.
        """
        assert self.proc is not None
        try:
            return await asyncio.to_thread(self.proc.wait, within_s)
        except subprocess.TimeoutExpired:
            return None

    async def stop(self) -> None:
        """Make sure the process is gone (a test's cleanup): SIGTERM, then SIGKILL.

        It waits without blocking the event loop, where the emulator the process talks to runs.
        """
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        if await self.exit_code(within_s=10) is None:
            self.proc.kill()
            await self.exit_code(within_s=5)


def metric_value(body: str, name: str) -> float | None:
    for line in body.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample == name:
            return float(value)
    return None


def metric_total(body: str, name: str) -> float:
    """The sum of a metric's samples over all its labels (``name{...} value`` lines)."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith(name + "{"))


@dataclass
class Forwarded:
    update_id: int | None
    backend: int
    status: int


class RoundRobinProxy:
    """A tiny load balancer: each POST goes to the next backend in turn, headers and body as they came."""

    def __init__(self, backends: Sequence[str]) -> None:
        self.backends = list(backends)
        self.turn = 0
        self.forwarded: list[Forwarded] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> RoundRobinProxy:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._http = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        body = await request.read()
        index = self.turn % len(self.backends)
        self.turn += 1
        update_id = None
        with contextlib.suppress(ValueError, TypeError, KeyError):
            update_id = int((await request.json())["update_id"])
        hop_by_hop = {"host", "content-length", "transfer-encoding", "connection"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in hop_by_hop}
        try:
            async with self._http.post(
                self.backends[index] + request.path_qs, data=body, headers=headers
            ) as response:
                payload = await response.read()
                self.forwarded.append(Forwarded(update_id, index, response.status))
                kept = {"Content-Type": response.headers.get("Content-Type", "application/octet-stream")}
                return web.Response(status=response.status, body=payload, headers=kept)
        except aiohttp.ClientError:
            self.forwarded.append(Forwarded(update_id, index, 502))
            return web.Response(status=502, text="backend unreachable")


async def wait_for(
    check: Callable[[], Awaitable[Any]], *, timeout_s: float, what: str, every_s: float = 0.1
) -> Any:
    """Poll ``check`` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout_s
    while not (value := await check()):
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {what}"
        await asyncio.sleep(every_s)
    return value


async def until(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    async def check() -> bool:
        return condition()

    await wait_for(check, timeout_s=timeout_s, what=what)


async def closed_by_server(reader: asyncio.StreamReader, *, within_s: float) -> bytes:
    """Everything the server sent until it closed the connection (fails if it is still open)."""
    try:
        return await asyncio.wait_for(reader.read(), timeout=within_s)
    except ConnectionResetError:
        return b""


@contextlib.asynccontextmanager
async def dripping(writer: asyncio.StreamWriter, data: bytes, every_s: float = 0.1) -> AsyncIterator[None]:
    """Send ``data`` one byte at a time, as a slow or hostile client does, while the test waits."""

    async def drip() -> None:
        with contextlib.suppress(OSError):
            for byte in data:
                await asyncio.sleep(every_s)  # the attack's pace, not a wait for the server
                writer.write(bytes([byte]))
                await writer.drain()

    task = asyncio.create_task(drip())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def rows(database_url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of a plain SQL query, to look at what the processes wrote."""
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(r._mapping) for r in result]
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def schema_behind(database_url: str) -> AsyncIterator[None]:
    """The database as if the code were one migration ahead of it; put back on exit (the test databases
    are reused, and emptying them leaves alembic_version alone)."""
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            [head] = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalars()
            previous = f"{int(head) - 1:04d}"
            await conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{previous}'")  # noqa: S608
        yield
    finally:
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{head}'")  # noqa: S608
        await db.dispose()

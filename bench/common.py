"""What every benchmark shares: its options, its result rows, percentiles, and the loopback helpers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import aiohttp

log = logging.getLogger("bench")
DATA_ENV = "KANBOT_BENCH_DATA"


def data_dir() -> Path:
    """Where datasets are cached: bench/data, or $KANBOT_BENCH_DATA (the smoke test's temporary one)."""
    return Path(os.environ.get(DATA_ENV) or Path(__file__).parent / "data")


def work_dir() -> Path:
    return data_dir() / "work"


SQLITE, POSTGRES = "SQLite", "PostgreSQL"
T = TypeVar("T")


@dataclass
class Options:
    size: str = "full"  # "full", "quick" (make bench-quick) or "smoke" (tests/test_bench_smoke.py)
    postgres_url: str | None = None  # KANBOT_TEST_DATABASE_URL, when set
    backends: tuple[str, ...] = (SQLITE, POSTGRES)

    @property
    def quick(self) -> bool:
        return self.size != "full"

    def pick(self, full: T, quick: T, smoke: T) -> T:
        """The value for this run's size."""
        return {"full": full, "quick": quick, "smoke": smoke}[self.size]

    def backend_names(self) -> list[str]:
        return [b for b in self.backends if b != POSTGRES or self.postgres_url]


@dataclass
class Result:
    """One line of the table: our figure next to its floor's, and the target."""

    bench: str
    backend: str
    measure: str
    ours: str
    floor: str
    ratio: float | None
    target: str
    met: bool | None
    notes: list[str] = field(default_factory=list)

    def ratio_text(self) -> str:
        return "—" if self.ratio is None else f"{self.ratio:.2f}×"

    def verdict(self) -> str:
        return {True: "✅ met", False: "❌ missed", None: "—"}[self.met]


@dataclass
class Skipped:
    bench: str
    backend: str
    reason: str


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else math.inf


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_http(url: str, *, timeout_s: float = 30.0) -> None:
    """Wait until ``url`` answers (any status)."""
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as response:
                    await response.read()
                    return
            except aiohttp.ClientError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def child(
    args: list[str],
    *,
    name: str,
    env: dict[str, str] | None = None,
    program: str = sys.executable,
    cwd: str | None = None,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A subprocess (``python <args>`` by default), stopped with SIGTERM (then killed) on exit.

    Its output goes to ``bench/data/work/<name>.log`` (a pipe nobody reads would stall it).
    """
    work_dir().mkdir(parents=True, exist_ok=True)
    output = work_dir() / f"{name}.log"
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            program, *args, cwd=cwd, env={**os.environ, **(env or {})}, stdout=sink, stderr=sink
        )
        try:
            yield process
        finally:
            if process.returncode is None:
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()
                await process.wait()
    if process.returncode not in (0, -15):
        tail = output.read_text(errors="replace")[-2000:]
        log.warning("%s exited with %s:\n%s", name, process.returncode, tail)


@contextlib.asynccontextmanager
async def emulator(*, limits: Mapping[str, object] | None = None) -> AsyncIterator[str]:
    """The Telegram emulator in its own process; its base URL. ``limits`` go to POST /emulator/limits."""
    port = free_port()
    async with child(["-m", "telegram_emulator", "--port", str(port)], name="emulator"):
        url = f"http://127.0.0.1:{port}"
        await wait_http(url + "/emulator/limits")
        if limits:
            async with (
                aiohttp.ClientSession() as session,
                session.post(url + "/emulator/limits", json=dict(limits)) as response,
            ):
                response.raise_for_status()
        yield url


def rss_kib(pid: int) -> tuple[int, int]:
    """Resident memory and its peak (VmRSS, VmHWM) of a process, in KiB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]

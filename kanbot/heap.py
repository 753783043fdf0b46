"""Free heap pages given back to the system once the bot goes quiet (glibc's ``malloc_trim``).

A burst of updates, or a digest over many deals, grows the C heap (SQLite's pages, the drivers' buffers,
large Python objects); freed, those pages stay with the process, and glibc returns only what is at the
top of each heap. In a quick run of benchmark 7 ``malloc_trim(0)`` after the load gave back ~15 MiB of
the ~35 the load had added. It walks the heap (tens of ms), so it runs in a thread, once the bot has
been quiet for a moment, and not more often than every ``every_s`` seconds. Elsewhere than glibc (musl,
macOS) it does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)
QUIET_S = 1.0
EVERY_S = 10.0


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


class HeapTrimmer:
    """``quiet()`` when the work at hand is done: the heap is trimmed ``quiet_s`` later, unless more
    comes, and at most every ``every_s`` seconds (the last call is always followed by a trim)."""

    def __init__(
        self,
        *,
        quiet_s: float = QUIET_S,
        every_s: float = EVERY_S,
        trim: Callable[[int], int] | None = None,
    ) -> None:
        self.quiet_s, self.every_s = quiet_s, every_s
        self._trim = trim if trim is not None else _malloc_trim()
        self._timer: asyncio.TimerHandle | None = None
        self._running: asyncio.Task[None] | None = None
        self._last = float("-inf")
        self.trims = 0

    def quiet(self) -> None:
        if self._trim is None:
            return
        loop = asyncio.get_running_loop()
        if self._timer is not None:
            self._timer.cancel()
        at = max(loop.time() + self.quiet_s, self._last + self.every_s)
        self._timer = loop.call_at(at, self._start)

    def _start(self) -> None:
        self._timer = None
        if self._running is not None and not self._running.done():
            self.quiet()  # a trim is under way: another after it
            return
        self._last = asyncio.get_running_loop().time()
        self._running = asyncio.create_task(self._run(), name="heap-trim")

    async def _run(self) -> None:
        assert self._trim is not None
        try:
            await asyncio.to_thread(self._trim, 0)
            self.trims += 1
        except Exception:  # never worth stopping anything for
            log.exception("malloc_trim failed")

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)

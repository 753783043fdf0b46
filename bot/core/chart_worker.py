"""The digest chart's worker: a process of its own, started on the first chart and kept, that draws charts.

matplotlib is ~40 MiB resident once imported and CPython never gives it back, so the long-running
``kanbot run`` does not import it: ``ChartWorker.draw`` sends the chart (as JSON, one line on the
worker's stdin) and reads the PNG back (a status byte, the length, the bytes, on its stdout). Starting
the worker and importing matplotlib take seconds of CPU, so it is started once, on the first chart, and
kept; a worker that died (killed, out of memory) is started again on the next chart, and a chart it died
on is tried once more. The worker ends when the bot's end of its stdin closes, the bot gone.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import struct
import subprocess
import sys
import threading
from dataclasses import asdict
from typing import IO

from bot.core.chart import LossBar, LossChart, draw

HEADER = struct.Struct(">BI")  # status (0: the PNG follows, 1: the error's text), length
OK, FAILED = 0, 1


class ChartError(RuntimeError):
    """The worker could not draw the chart: its error, as the worker wrote it."""


def encode(chart: LossChart) -> bytes:
    return json.dumps(asdict(chart), ensure_ascii=False).encode() + b"\n"


def decode(line: bytes) -> LossChart:
    fields = json.loads(line)
    fields["bars"] = [LossBar(**bar) for bar in fields["bars"]]
    return LossChart(**fields)


def _read(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the chart worker ended")
    return data


class ChartWorker:
    """The bot's side: one worker process, one chart at a time (the callers are threads)."""

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or [sys.executable, "-m", "bot.core.chart_worker"]
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        atexit.register(self.stop)

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def draw(self, chart: LossChart) -> bytes:
        """The PNG of ``chart``, drawn in the worker (started, or started again, as needed)."""
        request = encode(chart)
        with self._lock:
            for attempt in range(2):
                process = self._running()
                assert process.stdin is not None and process.stdout is not None
                try:
                    process.stdin.write(request)
                    process.stdin.flush()
                    status, size = HEADER.unpack(_read(process.stdout, HEADER.size))
                    body = _read(process.stdout, size)
                except (OSError, EOFError):  # the worker died: started again, the chart tried once more
                    self._end(process)
                    if attempt:
                        raise
                    continue
                if status != OK:
                    raise ChartError(body.decode(errors="replace"))
                return body
        raise AssertionError("unreachable")

    def stop(self) -> None:
        with self._lock:
            if self._process is not None:
                self._end(self._process)

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(  # noqa: S603 — our own interpreter and module
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
            )
        return self._process

    def _end(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        if self._process is process:
            self._process = None


WORKER = ChartWorker()


def serve() -> None:
    """The worker's side: a chart per line of stdin, its PNG (or error) on stdout, until stdin ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the bot's to handle; the worker ends with it
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever else writes to stdout lands on stderr, not in a PNG
    for line in sys.stdin.buffer:
        try:
            status, body = OK, draw(decode(line))
        except Exception as error:  # reported to the bot, which raises it in the waiting task
            status, body = FAILED, f"{type(error).__name__}: {error}".encode()
        try:
            out.write(HEADER.pack(status, len(body)) + body)
            out.flush()
        except BrokenPipeError:  # the bot is gone (stopped while the chart was drawn): nobody to answer
            return


if __name__ == "__main__":
    serve()

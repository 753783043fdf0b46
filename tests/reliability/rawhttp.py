"""HTTP/1.1 over a bare socket: any bytes in any header, a body that lies about its length or never ends.

aiohttp's client refuses to send what a hostile client would, so the forged-request tests write the
request themselves and read the status line (and the body, when the server sends one).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RawAnswer:
    status: int
    body: bytes
    seconds: float  # from the end of the headers to the status line


async def raw_request(
    port: int,
    method: str,
    path: bytes | str,
    *,
    headers: Sequence[bytes] = (),
    body: bytes = b"",
    declared_length: int | None = None,
    chunked_parts: Sequence[bytes] | None = None,
    finish_chunked: bool = True,
    timeout_s: float = 10.0,
) -> RawAnswer:
    """Send one request and read the answer.

    ``declared_length``: a ``Content-Length`` other than the body's (the body sent is ``body``, and the
    request is then left open). ``chunked_parts``: send these as chunks instead (``finish_chunked``
    False leaves the body unfinished, as a client still sending would).
    """
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        target = path.encode() if isinstance(path, str) else path
        head = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
        head += list(headers)
        if chunked_parts is not None:
            head.append(b"Transfer-Encoding: chunked")
        else:
            head.append(b"Content-Length: %d" % (len(body) if declared_length is None else declared_length))
        writer.write(b"\r\n".join(head) + b"\r\n\r\n")
        started = loop.time()
        if chunked_parts is not None:
            for part in chunked_parts:
                writer.write(b"%x\r\n" % len(part) + part + b"\r\n")
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
            if finish_chunked:
                writer.write(b"0\r\n\r\n")
        else:
            writer.write(body)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout_s)
        seconds = loop.time() - started
        assert status_line.startswith(b"HTTP/1."), status_line
        status = int(status_line.split()[1])
        length = 0
        while (line := await asyncio.wait_for(reader.readline(), timeout_s)) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        answer = await asyncio.wait_for(reader.readexactly(length), timeout_s) if length else b""
        return RawAnswer(status, answer, seconds)
    finally:
        writer.transport.abort()

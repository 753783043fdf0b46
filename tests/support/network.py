"""Ports and links: a free port for a server whose address must be known in advance, and a TCP proxy
a test cuts to play a network outage between Kanbot and its database."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from sqlalchemy.engine import make_url


def free_port() -> int:
    """A port nothing listens on right now (for a server whose address must be known before it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TcpProxy:
    """A TCP hop between Kanbot and PostgreSQL: ``cut`` breaks every link and refuses new ones, as a
    network outage does; ``restore`` listens again on the same port. The real server never stops."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()
        self._trap: tuple[bytes, str, int | None] | None = None
        self.sprung = asyncio.Event()

    @classmethod
    def to(cls, database_url: str) -> TcpProxy:
        url = make_url(database_url)
        return cls(url.host or "127.0.0.1", url.port or 5432)

    def url_through(self, database_url: str) -> str:
        """``database_url`` with its host and port replaced by this proxy's."""
        return (
            make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)
        )

    @property
    def up(self) -> bool:
        return self._server is not None

    async def restore(self) -> TcpProxy:
        """Listen (again); harmless while listening."""
        if self._server is None:
            self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        return self

    start = restore

    async def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        self.cuts += 1
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    def break_at(self, marker: bytes, how: str, *, port: int | None = None) -> None:
        """Break the next link that sends ``marker`` to the server (``b"COMMIT"``), at that moment:
        ``lose`` drops it and breaks the link (the server rolls back); ``answer_lost`` lets it through
        and breaks the link when the server answers (it committed, the client never hears); ``stall``
        breaks the client's side only and holds the server's open without it (an open transaction).
        ``port``: only the link from this client port (one connection of a pool)."""
        assert how in ("lose", "answer_lost", "stall"), how
        self._trap, self.sprung = (marker, how, port), asyncio.Event()

    async def close(self) -> None:
        await self.cut()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _link(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        if self._server is None:  # cut while connecting
            client_writer.transport.abort()
            server_writer.transport.abort()
            return
        self._links |= {client_writer, server_writer}
        task = asyncio.current_task()
        if task is not None:
            self._pipes.add(task)
        answered = asyncio.Event()  # the server's answer to a trapped packet is not passed on
        client_port = client_writer.get_extra_info("peername")[1]

        async def upstream() -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await client_reader.read(65536):
                    trap = self._trap
                    if trap is not None and trap[0] in data and trap[2] in (None, client_port):
                        self._trap = None
                        self.sprung.set()
                        if trap[1] == "answer_lost":
                            server_writer.write(data)
                            await server_writer.drain()
                            answered.set()
                        else:
                            client_writer.transport.abort()
                            if trap[1] == "lose":
                                server_writer.transport.abort()
                        return
                    server_writer.write(data)
                    await server_writer.drain()
            server_writer.transport.abort()

        async def downstream() -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await server_reader.read(65536):
                    if answered.is_set():
                        break
                    client_writer.write(data)
                    await client_writer.drain()
            client_writer.transport.abort()
            server_writer.transport.abort()

        try:
            await asyncio.gather(upstream(), downstream())
        finally:
            self._links -= {client_writer, server_writer}
            if task is not None:
                self._pipes.discard(task)

"""Which processes are alive: each one holds a lock for as long as it lives, so a claim it left behind
when it died (``kill -9``, a crash, a lost container) is known for what it is at once.

On PostgreSQL the lock is a session advisory lock on a connection of its own: the server drops it when
the process's connection closes, which the kernel does the moment the process dies. On SQLite it is a
file lock (``flock``) on a file beside the database: the kernel drops it the moment the process dies,
even across containers sharing the volume. A lock nobody holds means its process is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.locks import LIVENESS_CLASS

if TYPE_CHECKING:
    from crm_core.adapters.database import Database

log = logging.getLogger(__name__)
LOCK_CLASS = LIVENESS_CLASS  # the first key of the processes' PostgreSQL advisory locks
OWNER_LENGTH = 80


def new_owner() -> str:
    """This process's name in the claims it makes: host and pid for whoever reads the table, and a
    random part, so that a restarted process (the same pid in a new container) is another owner."""
    host = socket.gethostname()[:40]
    return f"{host}:{os.getpid()}:{uuid.uuid4().hex[:16]}"[-OWNER_LENGTH:]


def _lock_key(owner: str) -> int:
    """The advisory lock's second key (an int4): two owners sharing one only make a dead one look alive."""
    return int.from_bytes(hashlib.blake2b(owner.encode(), digest_size=4).digest(), "big", signed=True)


class Liveness:
    """This process's life lock, taken when it first claims work, and the check of another's."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.owner = new_owner()
        self._conn: AsyncConnection | None = None  # PostgreSQL: the connection holding the lock
        self._driver: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._file: int | None = None  # SQLite: the locked file's descriptor
        self._taking: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._warned = False

    async def hold(self) -> str | None:
        """Make sure this process's lock is held (again, after the database came back); returns the
        owner to write on claims, or ``None`` when no lock can be held (claims then last their lease)."""
        if self._held():
            return self.owner
        loop = asyncio.get_running_loop()
        if self._taking is None or self._taking[0] is not loop:
            self._taking = (loop, asyncio.Lock())
        async with self._taking[1]:  # one taker at a time
            if not self._held():
                try:
                    await (self._take_file() if self.database.is_sqlite else self._take_session())
                except (OSError, SQLAlchemyError) as error:
                    if not self._warned:
                        log.warning("cannot hold this process's liveness lock (%s)", error)
                        self._warned = True
                    return None
        return self.owner

    async def gone(self, conn: AsyncConnection, owner: str) -> bool:
        """Whether the process that wrote ``owner`` on a claim has died (its lock is free)."""
        if owner == self.owner:
            return False
        if self.database.is_sqlite:
            return self._file_free(owner)
        # Taken for this transaction only when nobody holds it: then its process is gone.
        free = await conn.scalar(
            text("SELECT pg_try_advisory_xact_lock(:c, :k)"), {"c": LOCK_CLASS, "k": _lock_key(owner)}
        )
        return bool(free)

    async def release(self) -> None:
        """Give the lock up (the process is stopping)."""
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError, OSError, RuntimeError):
                await self._conn.close()
            self._conn = self._driver = None
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._path(self.owner).unlink()
            os.close(self._file)
            self._file = None
            with contextlib.suppress(OSError):  # the last one out leaves no folder behind
                self._folder().rmdir()

    # PostgreSQL

    def _held(self) -> bool:
        if self.database.is_sqlite:
            return self._file is not None
        if self._conn is None or self._loop is not asyncio.get_running_loop():
            return False
        return not self._driver.is_closed()

    async def _take_session(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError, OSError, RuntimeError):
                await self._conn.close()
            self._conn = None
        conn = await self.database.engine.connect()
        try:
            params = {"c": LOCK_CLASS, "k": _lock_key(self.owner)}
            if not await conn.scalar(text("SELECT pg_try_advisory_lock(:c, :k)"), params):
                # Another live owner shares the key: take a name of our own instead.
                self.owner = new_owner()
                await conn.rollback()
                params = {"c": LOCK_CLASS, "k": _lock_key(self.owner)}
                if not await conn.scalar(text("SELECT pg_try_advisory_lock(:c, :k)"), params):
                    raise OSError("advisory lock taken")
            await conn.commit()  # a session lock outlives the transaction; the connection is not left in one
            self._driver = (await conn.get_raw_connection()).driver_connection
        except BaseException:
            await conn.close()
            raise
        self._conn, self._loop = conn, asyncio.get_running_loop()

    # SQLite

    def _folder(self) -> Path:
        database = self.database.url.database
        if not database or database == ":memory:":
            return Path(tempfile.gettempdir()) / f"kanbot-owners-{os.getuid()}"
        return Path(database).with_name(Path(database).name + "-owners")

    def _path(self, owner: str) -> Path:
        return self._folder() / (hashlib.blake2b(owner.encode(), digest_size=12).hexdigest() + ".lock")

    async def _take_file(self) -> None:
        import fcntl

        folder = self._folder()
        # Locked under a name no checker looks at, then renamed: a checker never finds it unlocked.
        draft = folder / f".{uuid.uuid4().hex}.draft"
        for attempt in range(3):
            folder.mkdir(parents=True, exist_ok=True)
            try:
                handle = os.open(draft, os.O_RDWR | os.O_CREAT, 0o600)
                break
            except FileNotFoundError:  # the last process leaving removed the folder just now
                if attempt == 2:
                    raise
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(handle, self.owner.encode())
            draft.rename(self._path(self.owner))
        except BaseException:
            os.close(handle)
            with contextlib.suppress(OSError):
                draft.unlink()
            raise
        self._file = handle
        self._sweep(folder)

    def _sweep(self, folder: Path) -> None:
        """Remove the files of processes that died holding no claim anyone looked at."""
        for path in folder.glob("*.lock"):
            if path != self._path(self.owner):
                self._free(path)

    def _file_free(self, owner: str) -> bool:
        path = self._path(owner)
        return not path.exists() or self._free(path)

    @staticmethod
    def _free(path: Path) -> bool:
        """Whether no process holds ``path``'s lock (then the file is removed)."""
        import fcntl

        try:
            handle = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError:
            return False
        else:
            with contextlib.suppress(OSError):
                path.unlink()
            return True
        finally:
            os.close(handle)

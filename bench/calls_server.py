"""`python -m bench.calls_server --mode kanbot|floor --port P [--url DB] [--record FILE]`: the call
endpoint, in a process.

``kanbot``: ``telephony_bridge.http.call_routes`` over a real ``Crm`` (``ingest=crm.calls.ingest_call``).
``floor``: the same aiohttp server whose ``POST /api/v1/calls`` checks the signature and answers 202.
The secret comes from ``KANBOT_CALLS_SECRET``.

``GET /bench/stats`` answers what the process did so far: its CPU seconds, the SQL statements Kanbot
sent and, on PostgreSQL, the round trips to the database (each write to the database's socket: asyncpg
sends a statement's messages together and waits for the answer, so one write is one round trip, the
pool's pre-ping, BEGIN and COMMIT included). With ``--record``, it also writes there (pickled) every
committed transaction's statements as the driver got them, in commit order: the bare-driver floor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import pickle
import resource
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import event

from crm_core.adapters.database import Database
from crm_core.config import CrmConfig
from crm_core.domain.calls import CallFloodRule
from crm_core.services import Crm
from telephony_bridge.http import call_routes
from telephony_bridge.providers.generic import SIGNATURE_HEADER, SignatureError, verify_generic
from telephony_bridge.providers.openapi import CALLS_PATH
from telephony_bridge.settings import CloudPbxSettings

SECRET_ENV = "KANBOT_CALLS_SECRET"  # noqa: S105 (the name of a variable)


def floor_routes(secret: str) -> list[web.RouteDef]:
    async def signed_only(request: web.Request) -> web.Response:
        """Check the signature and answer, nothing more."""
        body = await request.read()
        try:
            verify_generic(body, request.headers.get(SIGNATURE_HEADER), secret, now=time.time())
        except SignatureError:
            return web.json_response({"error": "signature"}, status=401)
        return web.json_response({"accepted": True}, status=202)

    return [web.post(CALLS_PATH, signed_only)]


class Counters:
    """Statements, round trips and committed transactions of this process."""

    def __init__(self) -> None:
        self.statements = 0
        self.round_trips = 0
        self.open: dict[int, list[tuple[str, Any, bool]]] = {}
        self.committed: list[list[tuple[str, Any, bool]]] = []

    def watch(self, db: Database, *, record: bool) -> None:
        engine = db.engine.sync_engine

        def statement(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, many: bool) -> None:
            self.statements += 1
            if record and not sql.upper().startswith("SELECT TXID_CURRENT_IF_ASSIGNED"):
                self.open.setdefault(id(conn), []).append((sql, parameters, many))

        def begin(conn: Any) -> None:
            if record and not db.is_sqlite:  # on SQLite Kanbot's BEGIN is a statement of its own
                self.open[id(conn)] = [("BEGIN", None, False)]

        def commit(conn: Any) -> None:
            if record:
                self.committed.append([*self.open.pop(id(conn), []), ("COMMIT", None, False)])

        def rollback(conn: Any) -> None:
            self.open.pop(id(conn), None)

        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "begin", begin)
        event.listen(engine, "commit", commit)
        event.listen(engine, "rollback", rollback)
        if not db.is_sqlite:
            self._count_writes_to(db.url.port or 5432)

    def _count_writes_to(self, port: int) -> None:
        from asyncio import selector_events

        transport = selector_events._SelectorSocketTransport
        write = transport.write

        def counted(this: Any, data: Any) -> None:
            peer = this.get_extra_info("peername")
            if peer and peer[1] == port:
                self.round_trips += 1
            write(this, data)

        transport.write = counted  # type: ignore[method-assign]

    def stats(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "statements": self.statements,
            "round_trips": self.round_trips,
            "transactions": len(self.committed),
        }


async def serve(mode: str, port: int, url: str | None, record: str | None = None) -> None:
    secret = os.environ[SECRET_ENV]
    settings = CloudPbxSettings(_env_file=None, calls_secret=SecretStr(secret), default_region="RU")
    app = web.Application(client_max_size=settings.max_body_bytes)
    db = None
    counters = Counters()
    if mode == "kanbot":
        assert url is not None
        db = Database(url)
        counters.watch(db, record=record is not None)
        # Every new number's call makes its deal here: the call-flood rule would hold most of them back.
        config = CrmConfig(default_region="RU", default_currency="RUB", call_flood=CallFloodRule(limit=0))
        crm = Crm(db, config=config)
        app.add_routes(call_routes(ingest=crm.calls.ingest_call, settings=settings))
    else:
        app.add_routes(floor_routes(secret))

    async def stats(request: web.Request) -> web.Response:
        if record and request.query.get("record"):
            await asyncio.to_thread(Path(record).write_bytes, pickle.dumps(counters.committed))
        return web.json_response(counters.stats())

    app.add_routes([web.get("/bench/stats", stats)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        if db is not None:
            await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("kanbot", "floor"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--url")
    parser.add_argument("--record")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.mode, args.port, args.url, args.record))


if __name__ == "__main__":
    main()

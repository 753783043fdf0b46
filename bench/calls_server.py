"""`python -m bench.calls_server --mode kanbot|floor --port P [--url DB]`: the call endpoint, in a process.

``kanbot``: ``telephony_bridge.http.call_routes`` over a real ``Crm`` (``ingest=crm.calls.ingest_call``).
``floor``: the same aiohttp server whose ``POST /api/v1/calls`` checks the signature and answers 202.
The secret comes from ``KANBOT_CALLS_SECRET``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import time

from aiohttp import web
from pydantic import SecretStr

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


async def serve(mode: str, port: int, url: str | None) -> None:
    secret = os.environ[SECRET_ENV]
    settings = CloudPbxSettings(_env_file=None, calls_secret=SecretStr(secret), default_region="RU")
    app = web.Application(client_max_size=settings.max_body_bytes)
    db = None
    if mode == "kanbot":
        assert url is not None
        db = Database(url)
        # Every new number's call makes its deal here: the call-flood rule would hold most of them back.
        config = CrmConfig(default_region="RU", default_currency="RUB", call_flood=CallFloodRule(limit=0))
        crm = Crm(db, config=config)
        app.add_routes(call_routes(ingest=crm.calls.ingest_call, settings=settings))
    else:
        app.add_routes(floor_routes(secret))
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
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.mode, args.port, args.url))


if __name__ == "__main__":
    main()

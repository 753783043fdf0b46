"""Control API for the emulator itself: bots, waiting for quiet, the log, limits, faults, reset."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from telegram_emulator.control_base import ControlError, bot_of, int_field, json_body, str_field, world_of
from telegram_emulator.keys import PAGE_EXTENSIONS_KEY
from telegram_emulator.limits import Fault
from telegram_emulator.state import TOKEN
from telegram_emulator.views import bot_view

routes = web.RouteTableDef()
WAIT_STEP_S = 0.01


@routes.get("/emulator/bots")
async def list_bots(request: web.Request) -> web.Response:
    """Every bot that called the API or was registered (tokens are never shown)."""
    return web.json_response([bot_view(bot) for bot in world_of(request).bots.values()])


@routes.post("/emulator/bots")
async def register_bot(request: web.Request) -> web.Response:
    """Register a bot before it connects, e.g. to give it a username; or change one."""
    body = await json_body(request)
    token = str_field(body, "token")
    match = TOKEN.match(token) if token else None
    if token and match is None:
        raise ControlError(400, '"token" must look like "123456:ABC..."')
    bot_id = int(match[1]) if match else int_field(body, "id", required=False)
    if bot_id is None:
        raise ControlError(400, 'give "token" or "id"')
    bot = world_of(request).register_bot(
        bot_id, token=token, username=str_field(body, "username"), first_name=str_field(body, "first_name")
    )
    if isinstance(body.get("can_read_all_group_messages"), bool):
        bot.account.can_read_all_group_messages = body["can_read_all_group_messages"]
    return web.json_response(bot_view(bot))


@routes.post("/emulator/redeliver")
async def redeliver(request: web.Request) -> web.Response:
    """Deliver an earlier update again, same id, as Telegram does after a lost acknowledgement."""
    body = await json_body(request)
    update_id = int_field(body, "update_id")
    assert update_id is not None
    bot = await bot_of(request, body)
    update = world_of(request).redeliver(bot, update_id)
    if update is None:
        raise ControlError(
            404, f"no update {update_id} was sent to bot {bot.id} (only the last 1000 are kept)"
        )
    return web.json_response({"update_id": update.update_id})


@routes.post("/emulator/wait")
async def wait(request: web.Request) -> web.Response:
    """Return once the bot has fetched and confirmed every update, answered every callback query,
    and made no request for `quiet_ms`; 408 after `timeout_ms`."""
    body = await json_body(request)
    quiet_s = (int_field(body, "quiet_ms", required=False) or 300) / 1000
    timeout_s = (int_field(body, "timeout_ms", required=False) or 10_000) / 1000
    started = time.monotonic()
    world = world_of(request)
    bot = await bot_of(request, body, wait_s=timeout_s)
    while True:
        bot = world.bots.get(bot.id, bot)
        reason = bot.busy_reason(quiet_s, world.limits.callback_timeout_s)
        waited_s = time.monotonic() - started
        if reason is None:
            return web.json_response({"ok": True, "bot_id": bot.id, "waited_ms": round(waited_s * 1000)})
        if waited_s >= timeout_s:
            raise ControlError(408, f"the bot is not quiet after {round(timeout_s * 1000)} ms: {reason}")
        await asyncio.sleep(WAIT_STEP_S)


@routes.get("/emulator/log")
async def log(request: web.Request) -> web.Response:
    """Every Bot API request, oldest first; filter with ?bot_id=, ?method=, ?limit= (the last N)."""
    query = dict(request.query)
    bot_id = int_field(query, "bot_id", required=False)
    method = (query.get("method") or "").lower()
    entries = [
        entry
        for entry in world_of(request).log
        if (bot_id is None or entry["bot_id"] == bot_id) and (not method or entry["method"].lower() == method)
    ]
    limit = int_field(query, "limit", required=False)
    return web.json_response(entries[-limit:] if limit else entries)


@routes.get("/emulator/limits")
async def get_limits(request: web.Request) -> web.Response:
    return web.json_response(world_of(request).limits.as_json())


@routes.post("/emulator/limits")
async def set_limits(request: web.Request) -> web.Response:
    """Change any of the limits; they apply to every bot from the next request on."""
    world = world_of(request)
    try:
        world.limits.update(await json_body(request))
    except ValueError as error:
        raise ControlError(400, str(error)) from None
    world.limiter.buckets.clear()
    return web.json_response(world.limits.as_json())


@routes.get("/emulator/faults")
async def list_faults(request: web.Request) -> web.Response:
    return web.json_response([fault.as_json() for fault in world_of(request).faults.pending])


@routes.post("/emulator/faults")
async def add_fault(request: web.Request) -> web.Response:
    """Make the next `count` calls of a method fail with 429/500/502, or hang `delay_s` first."""
    try:
        fault = Fault.from_json(await json_body(request))
    except ValueError as error:
        raise ControlError(400, str(error)) from None
    world_of(request).faults.pending.append(fault)
    return web.json_response(fault.as_json())


@routes.delete("/emulator/faults")
async def clear_faults(request: web.Request) -> web.Response:
    world_of(request).faults.pending.clear()
    return web.json_response({"ok": True})


@routes.post("/emulator/reset")
async def reset(request: web.Request) -> web.Response:
    """Forget everything: bots, users, chats, files, the log, limits and faults."""
    world_of(request).reset()
    return web.json_response({"ok": True})


@routes.get("/emulator/config")
async def config(request: web.Request) -> web.Response:
    """What the web page needs to start: its extension modules."""
    return web.json_response({"page_extensions": request.app[PAGE_EXTENSIONS_KEY]})

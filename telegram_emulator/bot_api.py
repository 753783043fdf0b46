"""`/bot<token>/<method>`: parse, apply injected faults, run the method, answer as Telegram, log."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from telegram_emulator import errors, methods_bot, methods_media, methods_messages, methods_updates
from telegram_emulator.call import Call, Described, Handler
from telegram_emulator.errors import ApiError
from telegram_emulator.keys import WORLD_KEY
from telegram_emulator.params import Params, read_params
from telegram_emulator.state import BotState, World

METHODS: dict[str, Handler] = {
    **methods_messages.METHODS,
    **methods_media.METHODS,
    **methods_bot.METHODS,
    **methods_updates.METHODS,
}
# A waiting long poll is not the bot doing something; `wait` must not see it as activity.
PASSIVE = {"getupdates"}


def not_found() -> web.Response:
    return web.json_response(ApiError(errors.NOT_FOUND, 404).as_telegram(), status=404)


async def execute(world: World, bot: BotState, method: str, params: Params) -> tuple[int, dict[str, Any]]:
    """Run one Bot API method for a bot; return the HTTP status and Telegram's response body."""
    key = method.lower()
    handler = METHODS.get(key)
    started = time.monotonic()
    if handler is None:
        body = ApiError(errors.NOT_FOUND, 404).as_telegram()
        _log(world, bot, method, params, 404, body, started)
        return 404, body
    active = key not in PASSIVE
    if active:
        bot.in_flight += 1
        bot.touch()
    try:
        result = await _run(world, bot, method, params, handler)
        status, body = 200, _success(result)
    except ApiError as error:
        status, body = error.status, error.as_telegram()
    finally:
        if active:
            bot.in_flight -= 1
            bot.touch()
    _log(world, bot, method, params, status, body, started)
    return status, body


async def _run(world: World, bot: BotState, method: str, params: Params, handler: Handler) -> Any:
    fault = world.faults.take(method, bot.id)
    if fault is not None:
        if fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if (error := fault.error()) is not None:
            raise error
    return await handler(Call(world, bot, params, method))


def _success(result: Any) -> dict[str, Any]:
    if isinstance(result, Described):
        return {"ok": True, "result": result.result, "description": result.description}
    return {"ok": True, "result": result}


def _log(
    world: World,
    bot: BotState,
    method: str,
    params: Params,
    status: int,
    body: dict[str, Any],
    started: float,
) -> None:
    world.record(
        {
            "time": time.time(),
            "bot_id": bot.id,
            "method": method,
            "params": params.loggable(),
            "status": status,
            "ok": status == 200,
            "error": body.get("description") if status != 200 else None,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        }
    )


async def handle(request: web.Request) -> web.Response:
    """Any Bot API call, GET or POST, with any of Telegram's parameter encodings."""
    world = request.app[WORLD_KEY]
    bot = world.bot_for_token(request.match_info["token"])
    if bot is None:
        return not_found()  # Telegram answers a malformed token with 404 too
    try:
        params = await read_params(request)
    except ApiError as error:
        return web.json_response(error.as_telegram(), status=error.status)
    status, body = await execute(world, bot, request.match_info["method"], params)
    return web.json_response(body, status=status)


def routes() -> list[web.RouteDef]:
    return [
        web.route("*", "/bot{token}/{method}", handle),
        web.get("/file/bot{token}/{path:.+}", methods_media.download),
    ]

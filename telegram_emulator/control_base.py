"""What the control routes share: JSON bodies, typed fields, picking the bot, and errors as JSON."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from telegram_emulator.keys import WORLD_KEY
from telegram_emulator.state import BotState, NoBot, World


class ControlError(Exception):
    """A refused control call: `{"error": message}` with the status."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


@web.middleware
async def control_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except ControlError as error:
        return web.json_response({"error": error.message, **error.extra}, status=error.status)
    return response


def world_of(request: web.Request) -> World:
    return request.app[WORLD_KEY]


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def json_body(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise ControlError(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def int_field(body: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise ControlError(400, f'"{name}" is required')
        return None
    if isinstance(value, bool):
        raise ControlError(400, f'"{name}" must be an integer')
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f'"{name}" must be an integer') from None


def str_field(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ControlError(400, f'"{name}" is required')
        return None
    if not isinstance(value, str):
        raise ControlError(400, f'"{name}" must be a string')
    return value


def int_path(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise ControlError(404, f"{name} must be an integer") from None


async def bot_of(
    request: web.Request, body: dict[str, Any] | None = None, *, wait_s: float = 5.0
) -> BotState:
    """The bot a control call means: `bot_id` in the body or query, else the only or latest bot."""
    source = body if body is not None and "bot_id" in body else dict(request.query)
    bot_id = int_field(source, "bot_id", required=False)
    try:
        return await world_of(request).resolve_bot(bot_id, wait_s=wait_s)
    except NoBot as error:
        raise ControlError(404 if bot_id is not None else 409, str(error)) from None

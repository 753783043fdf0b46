"""Typed keys under which the emulator keeps its state in the aiohttp application."""

from __future__ import annotations

from aiohttp import web

from telegram_emulator.state import World

WORLD_KEY = web.AppKey("kanbot_emulator_world", World)
"""`request.app[WORLD_KEY]` is the emulator's state, for routes added through `extra_routes`."""

PAGE_EXTENSIONS_KEY = web.AppKey("kanbot_emulator_page_extensions", list[str])

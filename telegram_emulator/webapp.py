"""Mini Apps as Telegram opens them: launch data signed with the bot's token, in the URL's hash.

``POST /emulator/webapp/launch {"user_id", "url", "bot_id"?, "theme_params"?}`` answers
``{"url": "<url>#tgWebAppData=...&tgWebAppVersion=...", "init_data": "..."}``: what a Telegram client
puts in the Mini App's address when the user presses a ``web_app`` button or the menu button.
The signature follows "Validating data received via the Mini App": the hex HMAC-SHA256 of the
sorted ``key=value`` lines of every field but ``hash``, keyed with HMAC-SHA256(token, key "WebAppData").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from aiohttp import web

from telegram_emulator.control_base import ControlError, bot_of, int_field, json_body, str_field, world_of
from telegram_emulator.models import JSON, UserAccount

API_VERSION = "8.0"
# The emulator page's light palette, as Telegram passes a theme to Mini Apps.
DEFAULT_THEME = {
    "bg_color": "#ffffff",
    "secondary_bg_color": "#eff1f5",
    "text_color": "#15202b",
    "hint_color": "#6b7a89",
    "link_color": "#2f7ff0",
    "button_color": "#2f7ff0",
    "button_text_color": "#ffffff",
    "header_bg_color": "#ffffff",
    "accent_text_color": "#2f7ff0",
    "section_bg_color": "#ffffff",
    "section_header_text_color": "#2f7ff0",
    "subtitle_text_color": "#6b7a89",
    "destructive_text_color": "#e5484d",
}

routes = web.RouteTableDef()


def sign_init_data(token: str, user: UserAccount, *, auth_date: int | None = None) -> str:
    """``initData`` for ``user`` opening a Mini App of the bot with ``token``, signed as Telegram does.

    ``signature`` (Bot API 8.0) is random here: only Telegram holds the Ed25519 key behind the real
    one. The ``hash`` covers it, as it does on Telegram.
    """
    fields = {
        "query_id": "AAH" + secrets.token_urlsafe(12),
        "user": json.dumps({**user.as_telegram(), "allows_write_to_pm": True}, separators=(",", ":")),
        "auth_date": str(int(time.time()) if auth_date is None else auth_date),
        "signature": base64.urlsafe_b64encode(secrets.token_bytes(64)).decode().rstrip("="),
    }
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields, quote_via=quote)


def launch_url(url: str, init_data: str, theme: dict[str, Any], platform: str = "web") -> str:
    """The Mini App's URL with Telegram's launch parameters in its hash (a hash it had is dropped)."""
    params = {
        "tgWebAppData": init_data,
        "tgWebAppVersion": API_VERSION,
        "tgWebAppPlatform": platform,
        "tgWebAppThemeParams": json.dumps(theme, separators=(",", ":")),
    }
    return url.split("#", 1)[0] + "#" + urlencode(params, quote_via=quote)


def _theme(value: object) -> dict[str, str]:
    if value is None:
        return DEFAULT_THEME
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) <= 32 for k, v in value.items()
    ):
        raise ControlError(400, '"theme_params" must be an object of colour strings')
    return {**DEFAULT_THEME, **value}


@routes.post("/emulator/webapp/launch")
async def launch(request: web.Request) -> web.Response:
    """What the user's client opens for a web_app button: the URL with signed launch data."""
    body = await json_body(request)
    bot = await bot_of(request, body)
    user_id = int_field(body, "user_id")
    user = world_of(request).users.get(user_id or 0)
    if user is None:
        raise ControlError(404, f"no user {user_id}: create them first")
    url = str_field(body, "url", required=True) or ""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ControlError(400, '"url" must be an http(s) link')
    if not bot.account.token:
        raise ControlError(409, f"bot {bot.id} has not called the Bot API with its token yet")
    init_data = sign_init_data(bot.account.token, user)
    out: JSON = {"url": launch_url(url, init_data, _theme(body.get("theme_params"))), "init_data": init_data}
    return web.json_response(out)

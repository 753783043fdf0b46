"""Where the board is served, and the chat's menu button that opens it."""

from __future__ import annotations

import logging

import aiohttp

from bot.core.i18n import Tr
from bot.webapp.texts import plain

log = logging.getLogger(__name__)
PATH = "/app/board"
TELEGRAM_API = "https://api.telegram.org"


def board_app_url(
    *, explicit: str | None, public_url: str | None, host: str, port: int, local_bot_api: bool
) -> str | None:
    """The board's address: ``explicit``, else under ``public_url``, else this server's own address.

    Telegram opens Mini Apps only over HTTPS, so against Telegram itself (not ``local_bot_api``, such
    as the emulator) a plain-http address is refused here, with a warning, rather than by Telegram
    each time the chat shows the button. This server's own address is for local use only, and only
    when its port is known (not 0).
    """
    if explicit:
        url = explicit
    elif public_url:
        url = public_url.rstrip("/") + PATH
    elif local_bot_api and port:
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '', '::') else host}:{port}{PATH}"  # noqa: S104
    else:
        return None
    if not local_bot_api and not url.startswith("https://"):
        log.warning(
            "the board app needs an https:// address for Telegram (set KANBOT_PUBLIC_URL or "
            "KANBOT_BOARD_APP_URL); %s is not used",
            url,
        )
        return None
    return url


async def set_board_menu_button(
    *, bot_token: str, api_url: str | None, board_url: str, locale: str = "en", chat_id: int | None = None
) -> bool:
    """Make the chat's menu button (beside the input) open the board, labelled in ``locale``: for every
    user (the default: Telegram has no per-language one), or in the chat ``chat_id``; False on failure."""
    button = {"type": "web_app", "text": plain(Tr(locale)("Board")), "web_app": {"url": board_url}}
    endpoint = f"{(api_url or TELEGRAM_API).rstrip('/')}/bot{bot_token}/setChatMenuButton"
    body: dict[str, object] = {"menu_button": button}
    if chat_id is not None:
        body["chat_id"] = chat_id
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http,
            http.post(endpoint, json=body) as response,
        ):
            answer = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        log.warning("could not set the chat's menu button to the board: %s", type(error).__name__)
        return False
    if not isinstance(answer, dict) or not answer.get("ok"):
        description = answer.get("description") if isinstance(answer, dict) else answer
        log.warning("Telegram refused the board as the chat's menu button: %s", description)
        return False
    return True

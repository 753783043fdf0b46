"""getUpdates (long polling) and the webhook methods."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time

from telegram_emulator import errors
from telegram_emulator.call import Call, Described, Handler
from telegram_emulator.errors import ApiError, bad_request
from telegram_emulator.models import JSON, Update, Webhook
from telegram_emulator.state import BotState

MAX_POLL_S = 50
SECRET = re.compile(r"^[A-Za-z0-9_\-]{1,256}$")


def _allowed_updates(call: Call) -> list[str] | None:
    """The allowed_updates parameter; an empty list means Telegram's default (everything we emit)."""
    raw = call.params.get_json("allowed_updates")
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(kind, str) for kind in raw):
        raise bad_request("can't parse allowed_updates JSON array")
    return raw


def _set_allowed(bot: BotState, allowed: list[str]) -> None:
    """Remember the kinds the bot wants; pending updates of other kinds are dropped, as on Telegram."""
    bot.allowed_updates = allowed or None
    if allowed:
        bot.pending = [u for u in bot.pending if u.kind in allowed]


def _ready(bot: BotState, limit: int) -> list[Update]:
    allowed = bot.allowed_updates
    return [u for u in bot.pending if not allowed or u.kind in allowed][:limit]


async def get_updates(call: Call) -> list[JSON]:
    bot, world = call.bot, call.world
    if bot.webhook is not None:
        raise ApiError(errors.WEBHOOK_ACTIVE, 409)
    if (allowed := _allowed_updates(call)) is not None:
        _set_allowed(bot, allowed)
    offset = call.params.get_int("offset")
    if offset is not None and bot.confirm(offset):
        bot.touch()
    limit = min(max(call.params.get_int("limit") or 100, 1), 100)
    deadline = time.monotonic() + min(max(call.params.get_int("timeout") or 0, 0), MAX_POLL_S)
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.notify()  # an older poll still waiting is terminated, as on Telegram
    while True:
        if bot.poll_generation != generation:
            raise ApiError(errors.OTHER_GET_UPDATES, 409)
        if bot.webhook is not None:
            raise ApiError(errors.WEBHOOK_ACTIVE, 409)
        ready = _ready(bot, limit)
        remaining = deadline - time.monotonic()
        if ready or remaining <= 0 or world.closing or world.bots.get(bot.id) is not bot:
            break
        wakeup = bot.wakeup
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), remaining)
    if ready:
        bot.touch()
    return [update.as_telegram() for update in ready]


async def set_webhook(call: Call) -> Described:
    url = call.params.get_str("url") or ""
    if not url:
        return await delete_webhook(call)
    if not re.match(r"^https?://[^/\s]+", url):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = call.params.get_str("secret_token")
    if secret is not None and not SECRET.match(secret):
        raise bad_request("secret token contains unallowed characters")
    bot = call.bot
    if call.params.get_bool("drop_pending_updates"):
        bot.pending.clear()
    if (allowed := _allowed_updates(call)) is not None:
        _set_allowed(bot, allowed)
    max_connections = call.params.get_int("max_connections") or 40
    already = bot.webhook is not None and bot.webhook.url == url
    bot.webhook = Webhook(url, secret, max_connections, bot.allowed_updates)
    bot.notify()  # a poll still waiting now conflicts with the webhook
    for listener in call.world.update_listeners:
        listener(bot)
    return Described(True, "Webhook is already set" if already else "Webhook was set")


async def delete_webhook(call: Call) -> Described:
    bot = call.bot
    if call.params.get_bool("drop_pending_updates"):
        bot.pending.clear()
    existed, bot.webhook = bot.webhook is not None, None
    return Described(True, "Webhook was deleted" if existed else "Webhook is already deleted")


async def get_webhook_info(call: Call) -> JSON:
    bot = call.bot
    hook = bot.webhook
    info: JSON = {"url": hook.url if hook else "", "has_custom_certificate": False}
    info["pending_update_count"] = len(bot.pending)
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
        if bot.allowed_updates:
            info["allowed_updates"] = bot.allowed_updates
    return info


METHODS: dict[str, Handler] = {
    "getupdates": get_updates,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
}

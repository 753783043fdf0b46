"""getMe, answerCallbackQuery, the bot's commands and menu button, getChat, and the trivial rest."""

from __future__ import annotations

import json
import re
import time

from telegram_emulator import errors
from telegram_emulator.call import Call, Handler
from telegram_emulator.errors import ApiError, bad_request
from telegram_emulator.models import JSON

COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
SCOPES = {
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
    "chat",
    "chat_administrators",
    "chat_member",
}
MAX_ANSWER = 200


async def get_me(call: Call) -> JSON:
    return call.bot.account.as_telegram()


async def answer_callback_query(call: Call) -> bool:
    query_id = call.params.get_str("callback_query_id", required="query_id is empty")
    query = call.bot.callback_queries.get(query_id or "")
    too_late = (
        query is not None and time.monotonic() - query.created_at > call.world.limits.callback_timeout_s
    )
    if query is None or query.answered or too_late:
        raise ApiError(errors.QUERY_TOO_OLD)
    text = call.params.get_str("text") or ""
    if len(text) > MAX_ANSWER:
        raise ApiError(errors.ANSWER_TOO_LONG)
    query.answered = True
    query.answer = {
        "text": text or None,
        "show_alert": call.params.get_bool("show_alert"),
        "url": call.params.get_str("url"),
        "cache_time": call.params.get_int("cache_time") or 0,
    }
    return True


def _scope_key(call: Call) -> tuple[str, str]:
    scope = call.params.get_json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    language = call.params.get_str("language_code") or ""
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("invalid language code specified")
    return json.dumps(scope, sort_keys=True), language


async def set_my_commands(call: Call) -> bool:
    commands = call.params.get_json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    checked = []
    for command in commands:
        if not isinstance(command, dict) or not COMMAND.match(str(command.get("command", "")).lstrip("/")):
            raise bad_request("BOT_COMMAND_INVALID")
        description = command.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        checked.append({"command": str(command["command"]).lstrip("/"), "description": description})
    call.bot.commands[_scope_key(call)] = checked
    return True


async def get_my_commands(call: Call) -> list[JSON]:
    return call.bot.commands.get(_scope_key(call), [])


async def delete_my_commands(call: Call) -> bool:
    call.bot.commands.pop(_scope_key(call), None)
    return True


async def set_chat_menu_button(call: Call) -> bool:
    chat_id = call.params.get_int("chat_id")
    if chat_id is not None and call.world.chat(call.bot, chat_id) is None:
        raise ApiError(errors.CHAT_NOT_FOUND)
    button = call.params.get_json("menu_button") or {"type": "default"}
    kind = button.get("type") if isinstance(button, dict) else None
    if kind not in ("default", "commands", "web_app"):
        raise bad_request("can't parse menu button JSON object")
    if kind == "web_app" and not (isinstance(button.get("web_app"), dict) and button.get("text")):
        raise bad_request("can't parse menu button JSON object")
    call.bot.menu_buttons[chat_id] = button
    return True


async def get_chat_menu_button(call: Call) -> JSON:
    chat_id = call.params.get_int("chat_id")
    buttons = call.bot.menu_buttons
    return buttons.get(chat_id) or buttons.get(None) or {"type": "default"}


async def get_chat(call: Call) -> JSON:
    chat = call.chat()
    return {
        **chat.info,
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def _text_setting(name: str, limit: int) -> tuple[Handler, Handler]:
    """A setter and getter pair for setMyName / setMyDescription / setMyShortDescription."""

    async def setter(call: Call) -> bool:
        value = call.params.get_str(name) or ""
        if len(value) > limit:
            raise bad_request(f"{name} is too long")
        call.bot.texts[(name, call.params.get_str("language_code") or "")] = value
        return True

    async def getter(call: Call) -> JSON:
        value = call.bot.texts.get((name, call.params.get_str("language_code") or ""), "")
        if name == "name" and not value:
            value = call.bot.account.first_name
        return {name: value}

    return setter, getter


async def always_true(call: Call) -> bool:
    return True


def _methods() -> dict[str, Handler]:
    methods: dict[str, Handler] = {
        "getme": get_me,
        "answercallbackquery": answer_callback_query,
        "setmycommands": set_my_commands,
        "getmycommands": get_my_commands,
        "deletemycommands": delete_my_commands,
        "setchatmenubutton": set_chat_menu_button,
        "getchatmenubutton": get_chat_menu_button,
        "getchat": get_chat,
        "logout": always_true,
        "close": always_true,
    }
    settings: dict[str, tuple[str, int]] = {
        "name": ("name", 64),
        "description": ("description", 512),
        "shortdescription": ("short_description", 120),
    }
    for method, (name, limit) in settings.items():
        methods[f"setmy{method}"], methods[f"getmy{method}"] = _text_setting(name, limit)
    return methods


METHODS: dict[str, Handler] = _methods()

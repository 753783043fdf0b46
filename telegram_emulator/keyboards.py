"""Reply markups checked as Telegram checks them: inline keyboards, reply keyboards, their removal."""

from __future__ import annotations

import json
import re
from typing import Any

from telegram_emulator import errors
from telegram_emulator.errors import ApiError, bad_request
from telegram_emulator.models import JSON

INLINE_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
MAX_INLINE_BUTTONS, MAX_INLINE_ROW = 100, 8
MAX_REPLY_BUTTONS, MAX_REPLY_ROW = 300, 12
MAX_CALLBACK_DATA_BYTES = 64
# The emulator runs locally, so plain http links (to 127.0.0.1) are allowed next to https and tg.
LINK = re.compile(r"(https?|tg)://\S+$", re.IGNORECASE)


def parse_markup(raw: Any) -> JSON | None:
    """The reply_markup parameter, a JSON string in forms or an object in JSON bodies."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return raw


def validate_markup(raw: Any, *, chat_type: str, inline_only: bool = False) -> JSON | None:
    """Return the markup as stored, or raise Telegram's 400 for what Telegram refuses."""
    markup = parse_markup(raw)
    if markup is None:
        return None
    if "inline_keyboard" in markup:
        return {"inline_keyboard": _inline_keyboard(markup["inline_keyboard"], chat_type)}
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        return _reply_keyboard(markup)
    if markup.get("remove_keyboard") is True:
        return {"remove_keyboard": True, **_flag(markup, "selective")}
    if markup.get("force_reply") is True:
        return {"force_reply": True, **_flag(markup, "selective")}
    raise bad_request("can't parse reply keyboard markup JSON object")


def _rows(rows: Any, field: str, max_row: int, max_total: int) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{field}" of the {_markup_name(field)} must be an Array of Arrays')
    if any(len(row) > max_row for row in rows) or sum(len(row) for row in rows) > max_total:
        raise ApiError(errors.MARKUP_TOO_LONG)
    return rows


def _markup_name(field: str) -> str:
    return "InlineKeyboardMarkup" if field == "inline_keyboard" else "ReplyKeyboardMarkup"


def _inline_keyboard(rows: Any, chat_type: str) -> list[list[JSON]]:
    checked = _rows(rows, "inline_keyboard", MAX_INLINE_ROW, MAX_INLINE_BUTTONS)
    return [[_inline_button(button, chat_type) for button in row] for row in checked]


def _inline_button(button: Any, chat_type: str) -> JSON:
    prefix = "can't parse inline keyboard button"
    if not isinstance(button, dict):
        raise bad_request(f"{prefix}: InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str) or not button["text"]:
        raise bad_request(f'{prefix}: Field "text" must be of type String')
    actions = [key for key in INLINE_ACTIONS if button.get(key) is not None]
    if not actions:
        raise bad_request(f"{prefix}: Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        # Telegram silently keeps one of them; the emulator refuses, as the Bot API says "exactly one".
        raise bad_request(
            f"{prefix}: exactly one of the optional fields must be used, got {', '.join(actions)}"
        )
    action = actions[0]
    value = button[action]
    if action == "callback_data" and (
        not isinstance(value, str) or not 1 <= len(value.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
    ):
        raise ApiError(errors.BUTTON_DATA_INVALID)
    if action == "url" and (not isinstance(value, str) or not LINK.match(value)):
        raise ApiError(errors.BUTTON_URL_INVALID)
    if action == "web_app":
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("url"), str)
            or not LINK.match(value["url"])
        ):
            raise ApiError(errors.BUTTON_URL_INVALID)
        if chat_type != "private":
            raise ApiError(errors.BUTTON_TYPE_INVALID)
        value = {"url": value["url"]}
    return {"text": button["text"], action: value}


def _reply_keyboard(markup: JSON) -> JSON:
    rows = _rows(markup["keyboard"], "keyboard", MAX_REPLY_ROW, MAX_REPLY_BUTTONS)
    keyboard = [[_reply_button(button) for button in row] for row in rows]
    options = ("is_persistent", "resize_keyboard", "one_time_keyboard", "selective")
    stored: JSON = {"keyboard": keyboard}
    for option in options:
        stored |= _flag(markup, option)
    if isinstance(markup.get("input_field_placeholder"), str):
        stored["input_field_placeholder"] = markup["input_field_placeholder"][:64]
    return stored


def _reply_button(button: Any) -> JSON:
    if isinstance(button, str):
        button = {"text": button}
    if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"]:
        raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
    return {key: value for key, value in button.items() if value is not None and value is not False}


def _flag(markup: JSON, name: str) -> JSON:
    value = markup.get(name)
    return {name: True} if value is True or value == "true" else {}

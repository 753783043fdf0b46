"""A Bot API without a network: an aiogram session that answers from canned results, and update factories.

``StubSession`` does what aiogram's own ``AiohttpSession`` does around the wire (it serializes the call's
fields with ``prepare_value`` and parses the answer with ``check_response`` into aiogram's types), so a
handler costs what it costs in production minus the network.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile

BOT_ID = 123456
TOKEN = f"{BOT_ID}:BENCH-token"
BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Kanbot",
    "username": "kanbot_bench_bot",
}
DATE = 1772441000  # 2026-03-02, any fixed time: nothing reads it
CARD_TEXT = (
    "🟡 Deal 123: ACME order\n3/7 Commercial offer · Seller 1\n💰 370 746,80 RUB\n"
    "👤 Customer 123 · +7 916 000-01-23\n⏰ Follow up by 5 Mar\n"
    "💡 Send the offer and agree on a follow-up call"
)
CARD_MARKUP = {
    "inline_keyboard": [
        [{"text": "◀", "callback_data": "1pv:3f:2"}, {"text": "▶", "callback_data": "1nx:3f:2"}],
        [{"text": "Move to…", "callback_data": "1mm:3f:2"}],
        [{"text": "🏆 Won", "callback_data": "1wn:3f:2"}, {"text": "🚫 Lost", "callback_data": "1ls:3f:2"}],
        [{"text": "📝 Note", "callback_data": "1nt:3f"}, {"text": "⏰ Remind", "callback_data": "1rm:3f"}],
    ]
}


class StubSession(BaseSession):
    """Answers sendMessage/editMessageText with a Message, everything else with ``true``; counts calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self._message_ids = itertools.count(10_000)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (BaseSession's signature)
    ) -> TelegramType:
        files: dict[str, InputFile] = {}
        form = {}
        for key, value in method.model_dump(warnings=False).items():  # what build_form_data does
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                form[key] = prepared
        name = method.__api_method__
        self.calls[name] += 1
        body = self.json_dumps({"ok": True, "result": self._result(name, form)})
        response = self.check_response(bot=bot, method=method, status_code=200, content=body)
        return response.result  # type: ignore[return-value]

    def _result(self, name: str, form: dict[str, Any]) -> Any:
        if name not in ("sendMessage", "editMessageText"):
            return True
        chat_id = int(form["chat_id"])
        message_id = int(form["message_id"]) if "message_id" in form else next(self._message_ids)
        result: dict[str, Any] = {
            "message_id": message_id,
            "date": DATE,
            "chat": {"id": chat_id, "type": "private", "first_name": "Seller"},
            "from": BOT_USER,
            "text": form.get("text", ""),
        }
        if name == "editMessageText":
            result["edit_date"] = int(time.time())
        if "reply_markup" in form:
            result["reply_markup"] = self.json_loads(form["reply_markup"])
        return result

    def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # no files in the benchmark
        raise NotImplementedError

    async def close(self) -> None:
        return None


def button_press(update_id: int, telegram_id: int, data: str, *, message_id: int = 77) -> dict[str, Any]:
    """The update Telegram sends when a seller presses a button under a deal card."""
    user = {"id": telegram_id, "is_bot": False, "first_name": f"Seller {telegram_id}", "language_code": "en"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(4_000_000_000_000 + update_id),
            "from": user,
            "chat_instance": str(-7_000_000 - telegram_id),
            "data": data,
            "message": {
                "message_id": message_id,
                "date": DATE,
                "edit_date": DATE + 60,
                "chat": {"id": telegram_id, "type": "private", "first_name": user["first_name"]},
                "from": BOT_USER,
                "text": CARD_TEXT,
                "reply_markup": CARD_MARKUP,
            },
        },
    }

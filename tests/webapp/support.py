"""Launch data as Telegram makes it, signed here with hmac and hashlib alone (not with bot.webapp's code)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from urllib.parse import quote, urlencode


def sign_fields(bot_token: str, fields: dict[str, str]) -> str:
    """``fields`` with the ``hash`` Telegram adds, as the query string a Mini App receives."""
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    signed = {**fields, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()}
    return urlencode(signed, quote_via=quote)


def telegram_init_data(
    bot_token: str,
    *,
    user_id: int,
    auth_date: datetime,
    first_name: str = "Ann",
    language_code: str = "en",
) -> str:
    """``initData`` as a Telegram client passes it to a Mini App opened from ``bot_token``'s bot."""
    user = {"id": user_id, "first_name": first_name, "language_code": language_code}
    fields = {
        "query_id": f"AAH{user_id}",
        "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False),
        "auth_date": str(int(auth_date.timestamp())),
    }
    return sign_fields(bot_token, fields)

"""Telegram Mini App launch data (``initData``): checked as Telegram documents it, then read.

"Validating data received via the Mini App" (core.telegram.org/bots/webapps): the data-check-string
is every received field except ``hash`` — ``signature`` included — as ``key=value`` lines sorted by
key and joined by "\\n"; the secret key is HMAC-SHA256 of the bot token keyed with "WebAppData"; the
``hash`` is the hex HMAC-SHA256 of the data-check-string under that key. ``auth_date`` bounds replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

MAX_AGE = timedelta(hours=1)
CLOCK_SKEW = timedelta(seconds=30)  # Telegram's clock and ours may differ a little, never by minutes
MAX_LENGTH = 4096  # real initData is well under 1 kB
_HASH = re.compile(r"^[0-9a-f]{64}$")


class InvalidInitData(Exception):
    """The launch data is not Telegram's for this bot, is too old, or is malformed."""


@dataclass(frozen=True, slots=True)
class WebAppUser:
    id: int
    first_name: str
    language_code: str | None = None
    username: str | None = None


@dataclass(frozen=True, slots=True)
class InitData:
    user: WebAppUser
    auth_date: datetime
    query_id: str | None
    fields: Mapping[str, str]


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: Mapping[str, str]) -> str:
    return "\n".join(f"{key}={value}" for key, value in sorted(fields.items()) if key != "hash")


def expected_hash(fields: Mapping[str, str], bot_token: str) -> str:
    """The ``hash`` Telegram puts beside ``fields`` for this bot."""
    return hmac.new(secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256).hexdigest()


def validate(raw: str, *, bot_token: str, now: datetime, max_age: timedelta = MAX_AGE) -> InitData:
    """The launch data if Telegram signed it for this bot within ``max_age``; else ``InvalidInitData``."""
    fields = _fields(raw)
    given = fields.pop("hash", "")
    if not _HASH.match(given):
        raise InvalidInitData("no hash")
    if not hmac.compare_digest(expected_hash(fields, bot_token).encode(), given.encode()):
        raise InvalidInitData("the hash does not match")
    auth_date = _auth_date(fields.get("auth_date", ""))
    if auth_date > now + CLOCK_SKEW:
        raise InvalidInitData("auth_date is in the future")
    if now - auth_date > max_age:
        raise InvalidInitData("auth_date is too old")
    return InitData(_user(fields.get("user", "")), auth_date, fields.get("query_id"), fields)


def _fields(raw: str) -> dict[str, str]:
    if not raw or len(raw) > MAX_LENGTH:
        raise InvalidInitData("empty or too long")
    try:
        raw.encode()
    except UnicodeEncodeError:  # header bytes that are not UTF-8 (aiohttp keeps them as surrogates)
        raise InvalidInitData("not UTF-8") from None
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInitData("not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InvalidInitData("a field is repeated")
    return fields


def _auth_date(value: str) -> datetime:
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise InvalidInitData("no auth_date")
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (OverflowError, OSError, ValueError):  # past year 9999: signed, but no date Telegram sends
        raise InvalidInitData("auth_date is not a date") from None


def _user(value: str) -> WebAppUser:
    try:
        data = json.loads(value)
    except ValueError:
        raise InvalidInitData("no user") from None
    if not isinstance(data, dict):
        raise InvalidInitData("no user")
    user_id, first_name = data.get("id"), data.get("first_name", "")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not 0 < user_id < 2**53:
        raise InvalidInitData("no user id")
    language = data.get("language_code")
    username = data.get("username")
    return WebAppUser(
        user_id,
        first_name if isinstance(first_name, str) else "",
        language if isinstance(language, str) else None,
        username if isinstance(username, str) else None,
    )

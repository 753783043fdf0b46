"""Telegram's launch data: only data Telegram signed for this bot, within the hour, is accepted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from aiogram.utils.web_app import check_webapp_signature

from bot.webapp.initdata import InvalidInitData, validate
from tests.webapp.support import sign_fields, telegram_init_data

TOKEN = "7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
AUTH_DATE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# Computed once outside Kanbot (Python's hmac, checked with aiogram's check_webapp_signature), with
# Bot API 8.0's `signature` field: the HMAC covers every field but `hash`, `signature` included.
VECTOR = (
    "query_id=AAHdF6IQAAAAAN0XohDhrOrc"
    "&user=%7B%22id%22%3A2001%2C%22first_name%22%3A%22Ali%22%2C%22last_name%22%3A%22%22%2C"
    "%22username%22%3A%22ali%22%2C%22language_code%22%3A%22ar%22%2C%22allows_write_to_pm%22%3Atrue%7D"
    "&auth_date=1772442000&signature=x7Qk3-fake-signature_for-tests"
    "&hash=7e37c539817ebd02e59173b1d0be7903ba52d06a7d57bf7567f2bc7da12b39c2"
)


def fields(raw: str) -> dict[str, str]:
    return dict(parse_qsl(raw, keep_blank_values=True))


def encode(values: dict[str, str]) -> str:
    return urlencode(values, quote_via=quote)


def test_the_known_vector_is_telegrams_as_aiogram_checks_it_too() -> None:
    assert check_webapp_signature(TOKEN, VECTOR)


def test_genuine_launch_data_is_accepted_and_read() -> None:
    data = validate(VECTOR, bot_token=TOKEN, now=AUTH_DATE + timedelta(minutes=5))
    assert data.user.id == 2001
    assert data.user.first_name == "Ali"
    assert data.user.language_code == "ar"
    assert data.user.username == "ali"
    assert data.auth_date == AUTH_DATE
    assert data.query_id == "AAHdF6IQAAAAAN0XohDhrOrc"


def test_launch_data_signed_as_a_client_signs_it_is_accepted() -> None:
    raw = telegram_init_data(TOKEN, user_id=42, auth_date=AUTH_DATE, first_name="Мария")
    assert validate(raw, bot_token=TOKEN, now=AUTH_DATE).user.first_name == "Мария"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user", '{"id":1001,"first_name":"Ali","language_code":"ar"}'),  # someone else's id
        ("auth_date", "1772445600"),  # made fresher
        ("signature", "another"),  # the signature is part of what the hash covers
        ("query_id", "AAHdF6IQAAAAAN0XohDhrOrd"),
    ],
)
def test_a_tampered_field_is_refused(field: str, value: str) -> None:
    tampered = fields(VECTOR) | {field: value}
    with pytest.raises(InvalidInitData, match="does not match"):
        validate(encode(tampered), bot_token=TOKEN, now=AUTH_DATE)


def test_an_added_field_is_refused() -> None:
    with pytest.raises(InvalidInitData):
        validate(VECTOR + "&chat_type=private", bot_token=TOKEN, now=AUTH_DATE)


def test_data_signed_for_another_bot_is_refused() -> None:
    with pytest.raises(InvalidInitData, match="does not match"):
        validate(VECTOR, bot_token="7000002:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", now=AUTH_DATE)


@pytest.mark.parametrize(
    "hash_value", [None, "", "abc", "7E37C539817EBD02E59173B1D0BE7903BA52D06A7D57BF7567F2BC7DA12B39C2"]
)
def test_data_without_a_proper_hash_is_refused(hash_value: str | None) -> None:
    values = fields(VECTOR)
    del values["hash"]
    if hash_value is not None:
        values["hash"] = hash_value
    with pytest.raises(InvalidInitData):
        validate(encode(values), bot_token=TOKEN, now=AUTH_DATE)


def test_data_61_minutes_old_is_refused_and_59_minutes_old_is_not() -> None:
    validate(VECTOR, bot_token=TOKEN, now=AUTH_DATE + timedelta(minutes=59))
    with pytest.raises(InvalidInitData, match="too old"):
        validate(VECTOR, bot_token=TOKEN, now=AUTH_DATE + timedelta(minutes=61))


def test_data_from_the_future_is_refused() -> None:
    with pytest.raises(InvalidInitData, match="future"):
        validate(VECTOR, bot_token=TOKEN, now=AUTH_DATE - timedelta(minutes=2))


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not a query string",
        "hash=" + "0" * 64,
        VECTOR + "&hash=" + "0" * 64,  # a repeated field
        "a=" + "x" * 5000,
        "%ff%fe=%80",
    ],
)
def test_malformed_data_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInitData):
        validate(raw, bot_token=TOKEN, now=AUTH_DATE)


@pytest.mark.parametrize(
    "user",
    ["", "not json", "[]", '{"first_name":"Ann"}', '{"id":"1001"}', '{"id":true}', '{"id":-5}'],
)
def test_signed_data_without_a_proper_user_is_refused(user: str) -> None:
    signed = sign_fields(TOKEN, {"query_id": "AAH1", "user": user, "auth_date": "1772442000"})
    with pytest.raises(InvalidInitData, match="user"):
        validate(signed, bot_token=TOKEN, now=AUTH_DATE)


def test_signed_data_without_an_auth_date_is_refused() -> None:
    signed = sign_fields(TOKEN, {"query_id": "AAH1", "user": '{"id":1,"first_name":"Ann"}'})
    with pytest.raises(InvalidInitData, match="auth_date"):
        validate(signed, bot_token=TOKEN, now=AUTH_DATE)


@pytest.mark.parametrize("auth_date", ["999999999999", "253402300800"])
def test_signed_data_dated_past_year_9999_is_refused_not_an_error(auth_date: str) -> None:
    signed = sign_fields(TOKEN, {"user": '{"id":1,"first_name":"Ann"}', "auth_date": auth_date})
    with pytest.raises(InvalidInitData, match="auth_date"):
        validate(signed, bot_token=TOKEN, now=AUTH_DATE)

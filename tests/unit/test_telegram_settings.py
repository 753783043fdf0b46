"""The chat's settings: python-telegram-bot by default, and how many updates are handled at once."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import TelegramSettings
from kanbot.settings import describe_validation_error


def read(monkeypatch: pytest.MonkeyPatch, **env: str) -> TelegramSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return TelegramSettings(_env_file=None)  # type: ignore[call-arg]


def test_by_default_kanbot_runs_on_python_telegram_bot_with_sixteen_updates_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KANBOT_RUNTIME", raising=False)
    monkeypatch.delenv("KANBOT_MAX_CONCURRENT_UPDATES", raising=False)
    settings = read(monkeypatch)
    assert (settings.runtime, settings.max_concurrent_updates) == ("ptb", 16)


def test_aiogram_and_another_limit_are_taken_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = read(monkeypatch, KANBOT_RUNTIME="aiogram", KANBOT_MAX_CONCURRENT_UPDATES="4")
    assert (settings.runtime, settings.max_concurrent_updates) == ("aiogram", 4)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("0", "greater than or equal to 1"),
        ("1001", "less than or equal to 1000"),
        ("many", "valid integer"),
    ],
)
def test_a_bad_limit_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str, why: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        read(monkeypatch, KANBOT_MAX_CONCURRENT_UPDATES=value)
    message = describe_validation_error(refused.value)
    assert message.startswith("Invalid setting KANBOT_MAX_CONCURRENT_UPDATES:")
    assert why in message

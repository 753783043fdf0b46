"""``CloudPbxSettings``: unset secrets switch endpoints off, placeholders are refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from .conftest import make_settings


def test_defaults_are_russia_utc_and_64_kib() -> None:
    from telephony_bridge.settings import CloudPbxSettings

    settings = CloudPbxSettings(_env_file=None)
    assert (settings.default_region, settings.zadarma_timezone, settings.max_body_bytes) == (
        "RU",
        "UTC",
        65536,
    )


def test_settings_come_from_kanbot_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    from telephony_bridge.settings import CloudPbxSettings

    monkeypatch.setenv("KANBOT_CALLS_SECRET", "s3cr3t-from-env-0123")
    monkeypatch.setenv("KANBOT_PUBLIC_URL", "https://crm.example.com/")
    settings = CloudPbxSettings(_env_file=None)
    assert settings.calls_secret is not None
    assert settings.calls_secret.get_secret_value() == "s3cr3t-from-env-0123"
    assert settings.public_url == "https://crm.example.com"
    assert "s3cr3t" not in repr(settings)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("calls_secret", "changeme"),
        ("twilio_auth_token", "CHANGETHIS"),
        ("public_url", "crm.example.com"),
        ("default_region", "Russia"),
        ("zadarma_timezone", "Moscow"),
        ("max_body_bytes", 0),
    ],
)
def test_a_placeholder_or_malformed_setting_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        make_settings(**{field: value})


# Values in each provider's own format (random, not real accounts'): every real one must pass.
REAL_LOOKING = {
    "twilio_auth_token": "9f86d081884c7d659a2feaa0c55ad015",  # 32 hex digits
    "zadarma_secret": "8a8e91d214fb728889c7",  # 20 hex digits
    "mango_api_key": "8v7lygho7jb61aa7e7gwlqz6horeuqe2",  # 32 characters
    "mango_api_salt": "sux7mpqilsripo5gbjok484gxb10h6ua",
    "calls_secret": "0123456789abcdef",  # the shortest an admin may choose
}


def test_secrets_in_their_providers_format_are_taken() -> None:
    settings = make_settings(**REAL_LOOKING)
    assert {name: getattr(settings, name).get_secret_value() for name in REAL_LOOKING} == REAL_LOOKING


@pytest.mark.parametrize("field", list(REAL_LOOKING))
def test_a_secret_one_character_shorter_than_its_minimum_is_refused_naming_it(field: str) -> None:
    from kanbot.settings import describe_validation_error
    from telephony_bridge.settings import SECRET_MINIMUMS

    short = REAL_LOOKING[field][: SECRET_MINIMUMS[field][0] - 1]
    with pytest.raises(ValidationError) as refused:
        make_settings(**{field: short})
    message = describe_validation_error(refused.value)
    assert message.startswith(
        f"Invalid setting KANBOT_{field.upper()}: is {len(short)} characters long, and "
    )
    assert short not in message


@pytest.mark.parametrize(("field", "value"), [("ami_secret", "amp111"), ("calls_secret", "k")])
def test_the_asterisk_bridge_refuses_a_short_secret_too(field: str, value: str) -> None:
    from telephony_bridge.settings import AmiSettings

    with pytest.raises(ValidationError, match=f"{field}\n.*at least 16 are needed"):
        AmiSettings(_env_file=None, **{field: value})
    assert AmiSettings(_env_file=None, **{field: "k4nb0t-ami-secret-16"}) is not None

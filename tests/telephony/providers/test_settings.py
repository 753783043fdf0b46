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

    monkeypatch.setenv("KANBOT_CALLS_SECRET", "s3cr3t-from-env")
    monkeypatch.setenv("KANBOT_PUBLIC_URL", "https://crm.example.com/")
    settings = CloudPbxSettings(_env_file=None)
    assert settings.calls_secret is not None
    assert settings.calls_secret.get_secret_value() == "s3cr3t-from-env"
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

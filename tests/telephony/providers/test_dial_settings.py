"""KANBOT_DIAL_VIA and its credentials: a set-up that cannot place calls stops start-up, naming what lacks."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kanbot.dialing import build_dialer, check
from kanbot.settings import SettingError
from telephony_bridge.dialing.cloud import ZadarmaDialer
from telephony_bridge.settings import DialSettings


def dial(**values: object) -> DialSettings:
    return DialSettings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("via", "missing"),
    [
        ("twilio", "KANBOT_TWILIO_ACCOUNT_SID, KANBOT_TWILIO_AUTH_TOKEN, KANBOT_TWILIO_CALLER_ID"),
        ("zadarma", "KANBOT_ZADARMA_API_KEY, KANBOT_ZADARMA_SECRET"),
        ("mango", "KANBOT_MANGO_API_KEY, KANBOT_MANGO_API_SALT"),
        ("asterisk", "KANBOT_AMI_USERNAME and KANBOT_AMI_SECRET"),
    ],
)
def test_a_pbx_without_its_credentials_is_refused_naming_them(via: str, missing: str) -> None:
    with pytest.raises(SettingError, match=f"KANBOT_DIAL_VIA: {via} needs {missing}"):
        check(dial(dial_via=via), ami_configured=False)


def test_an_unknown_pbx_or_a_template_with_unknown_names_is_a_bad_setting() -> None:
    with pytest.raises(ValidationError, match="must be one of asterisk, bridge, twilio, zadarma, mango"):
        dial(dial_via="carrier-pigeon")
    with pytest.raises(ValidationError, match=r"may use only \{extension\}"):
        dial(ami_originate_channel="PJSIP/{seller}")


def test_without_dial_via_or_with_the_bridge_this_process_places_no_calls() -> None:
    assert build_dialer(dial(), None) is None
    assert build_dialer(dial(dial_via="bridge"), None) is None
    check(dial(dial_via="bridge"), ami_configured=False)  # the bridge's own settings are its own
    zadarma = build_dialer(dial(dial_via="zadarma", zadarma_api_key="key", zadarma_secret="s" * 20), None)
    assert isinstance(zadarma, ZadarmaDialer)

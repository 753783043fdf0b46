"""``parse_file``: one saved webhook payload, as ``kanbot bridge parse`` reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_core.domain.calls import CallStatus
from telephony_bridge.providers import PayloadError, parse_file

from .conftest import DATA

SAVED = [
    ("twilio", "twilio/inbound_completed.form", 1),
    ("twilio", "twilio/inbound_ringing.form", 0),
    ("zadarma", "zadarma/inbound_end_answered.form", 1),
    ("zadarma", "zadarma/inbound_start.form", 0),
    ("mango", "mango/inbound_transferred/09_summary.json", 1),
    ("mango", "mango/inbound_transferred/04_connected_101.json", 1),
    ("mango", "mango/inbound_transferred/02_appeared_101.json", 0),
    ("mango", "mango/summary_answered_posted.form", 1),
    ("generic", "generic/outbound_answered.json", 1),
]


@pytest.mark.parametrize(("provider", "path", "count"), SAVED)
def test_every_saved_fixture_parses_from_its_file(provider: str, path: str, count: int) -> None:
    assert len(parse_file(provider, DATA / path, region="RU", timezone="Europe/Moscow")) == count


def test_a_form_saved_as_json_parses_like_the_form(tmp_path: Path) -> None:
    saved = tmp_path / "callback.json"
    saved.write_text(json.dumps({"CallSid": "CA1", "CallStatus": "completed", "CallDuration": 30,
                                 "Direction": "inbound", "From": "+74951234567", "To": "+74997001122",
                                 "Timestamp": "Tue, 14 May 2024 09:17:08 +0000"}))  # fmt: skip
    [call] = parse_file("twilio", saved, region="RU")
    assert (call.status, call.duration_s, call.caller) == (CallStatus.ANSWERED, 30, "+74951234567")


@pytest.mark.parametrize(
    ("provider", "content", "reason"),
    [
        ("asterisk", b"a=1", "provider: not one of twilio, zadarma, mango, generic"),
        ("generic", b"a=1&b=2", "body: not valid JSON"),
        ("twilio", b'{"CallSid": ["CA1"]}', "CallSid: not a string or a number"),
        ("mango", b"vpbx_api_key=k&sign=s", "json: missing"),
        ("zadarma", b"\xff\xfe", "form body: not UTF-8"),
    ],
)
def test_a_file_that_is_no_payload_of_the_provider_is_a_payload_error(
    tmp_path: Path, provider: str, content: bytes, reason: str
) -> None:
    saved = tmp_path / "payload"
    saved.write_bytes(content)
    with pytest.raises(PayloadError, match=reason):
        parse_file(provider, saved, region="RU")


def test_a_missing_file_or_an_unknown_time_zone_is_a_payload_error(tmp_path: Path) -> None:
    with pytest.raises(PayloadError, match="file: cannot read it"):
        parse_file("twilio", tmp_path / "nowhere.form", region="RU")
    with pytest.raises(PayloadError, match="timezone"):
        parse_file(
            "zadarma", DATA / "zadarma/inbound_end_answered.form", region="RU", timezone="Mars/Olympus"
        )

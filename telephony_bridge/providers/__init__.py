"""Parsers of what cloud PBXs post, each turning a foreign payload into ``CallEvent`` values.

Each provider module has a pure ``verify_*`` (the provider's authenticity check, compared in
constant time) and a pure ``parse_*`` (payload -> ``list[CallEvent]``, empty when the payload
reports nothing worth a call, such as "ringing"). A parser raises nothing but ``PayloadError``.
"""

from __future__ import annotations

import json
from datetime import UTC, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_core.domain.calls import CallEvent

from .generic import parse_generic
from .mango import MangoCallTracker, decode_json_field, json_object, parse_mango
from .payloads import PayloadError, decode_form, first_values
from .twilio import parse_twilio
from .zadarma import parse_zadarma

__all__ = ["PROVIDERS", "MangoCallTracker", "PayloadError", "parse_file", "parse_payload"]

PROVIDERS = ("twilio", "zadarma", "mango", "generic")
MAX_FILE_BYTES = 1024 * 1024


def parse_file(provider: str, path: Path, *, region: str, timezone: str = "UTC") -> list[CallEvent]:
    """Parse one saved webhook payload (a form body ``a=1&b=2``, or JSON) as ``provider`` posted it.

    ``timezone`` is the PBX's wall-clock zone (Zadarma's ``call_start``). A Mango leg is read
    on its own, without the legs before it; a Mango summary alone gives the final call.
    """
    try:
        with path.open("rb") as handle:
            body = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise PayloadError(f"file: cannot read it ({error.strerror or error})") from None
    if len(body) > MAX_FILE_BYTES:
        raise PayloadError(f"file: larger than {MAX_FILE_BYTES} bytes")
    return parse_payload(provider, body.strip(), region=region, timezone=timezone)


def parse_payload(
    provider: str,
    body: bytes,
    *,
    region: str,
    timezone: str = "UTC",
    tracker: MangoCallTracker | None = None,
) -> list[CallEvent]:
    """Parse one raw request body (form-encoded or JSON) of ``provider``."""
    is_json = body.lstrip().startswith(b"{")
    if provider == "generic":
        return parse_generic(json_object(body, "body"), region=region)
    if provider == "mango":
        event = json_object(body, "body") if is_json else decode_json_field(first_values(decode_form(body)))
        return parse_mango(event, region=region, tracker=tracker)
    form = _json_form(body) if is_json else first_values(decode_form(body))
    if provider == "twilio":
        return parse_twilio(form, region=region)
    if provider == "zadarma":
        return parse_zadarma(form, region=region, tz=_zone(timezone))
    raise PayloadError(f"provider: not one of {', '.join(PROVIDERS)}")


def _zone(name: str) -> tzinfo:
    try:
        return UTC if name == "UTC" else ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PayloadError(f"timezone: {name!r} is not an IANA time zone") from None


def _json_form(body: bytes) -> dict[str, str]:
    """A form saved as a JSON object of names to strings or numbers."""
    form: dict[str, str] = {}
    for name, value in json_object(body, "body").items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise PayloadError(f"{name}: not a string or a number")
        form[name] = value if isinstance(value, str) else json.dumps(value)
    return form

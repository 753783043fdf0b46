"""What every PBX parser shares: the one error it may raise, form decoding, fields, times, phones.

Reasons given to ``PayloadError`` name the field and never repeat a phone number, so an
edge may log them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from crm_core.domain.phones import try_e164

MAX_FIELDS = 200
MAX_FIELD_CHARS = 2000
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# A call longer than a day is a broken counter, not a call.
MAX_DURATION_S = 86_400

FormPairs = Sequence[tuple[str, str]]


class PayloadError(Exception):
    """The payload is malformed or incomplete; ``reason`` says which field and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode_form(body: bytes) -> list[tuple[str, str]]:
    """Return the ``name=value`` pairs of a form-encoded body, in order, repeated names kept."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise PayloadError("form body: not UTF-8") from None
    except ValueError:
        raise PayloadError(f"form body: malformed or more than {MAX_FIELDS} fields") from None
    if any(len(value) > MAX_FIELD_CHARS for _, value in pairs):
        raise PayloadError(f"form body: a field is longer than {MAX_FIELD_CHARS} characters")
    return pairs


def first_values(pairs: FormPairs) -> dict[str, str]:
    """The form as a mapping; a repeated name keeps its first value."""
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise PayloadError(f"{name}: missing")
    return value


def optional(form: Mapping[str, str], name: str) -> str | None:
    value = form.get(name, "").strip()
    return value or None


def seconds(raw: str | None, name: str) -> int | None:
    """A non-negative duration in whole seconds, ``None`` when absent."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise PayloadError(f"{name}: not a whole number of seconds")
    value = int(text)
    if value > MAX_DURATION_S:
        raise PayloadError(f"{name}: longer than a day")
    return value


def from_unix(raw: object, name: str) -> datetime:
    """A Unix time (seconds, as a number or digits) as an aware UTC datetime."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise PayloadError(f"{name}: not a Unix time")
    try:
        value = float(raw)
        moment = datetime.fromtimestamp(value, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise PayloadError(f"{name}: not a Unix time") from None
    return within_range(moment, name)


def within_range(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise PayloadError(f"{name}: has no time zone")
    if not _EARLIEST <= moment <= _LATEST:
        raise PayloadError(f"{name}: not between 2000 and 2100")
    return moment


def later(moment: datetime, duration_s: int) -> datetime:
    return moment + timedelta(seconds=duration_s)


def earlier(moment: datetime, duration_s: int) -> datetime:
    return moment - timedelta(seconds=duration_s)


def phone(raw: str | None, *, region: str) -> str | None:
    """The number in E.164, or ``None`` for a hidden caller, an extension or a SIP address."""
    if raw is None:
        return None
    return try_e164(raw[:64], region=region)


def extension(raw: str | None) -> str | None:
    """An extension as PBXs write it: ``101``, ``sip:101@pbx.example``, ``client:alice``."""
    if raw is None:
        return None
    text = raw.strip()
    for prefix in ("sip:", "client:", "SIP/", "PJSIP/"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    text = text.split("@", 1)[0].strip()
    return text[:64] or None

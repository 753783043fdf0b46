"""Phone numbers: everything the CRM stores is E.164, whatever the user or the PBX typed."""

from __future__ import annotations

import re

import phonenumbers

from crm_core.domain.errors import InvalidInput, Why

_DIGITS = re.compile(r"\D+")
_MAX_TYPED = 40


_E164_MAX_DIGITS = 15


def to_e164(raw: str, *, region: str) -> str:
    """Return ``raw`` as an E.164 number, reading national formats in ``region``; refuse what is no phone."""
    text = raw.strip()
    if not text or len(text) > _MAX_TYPED:
        raise InvalidInput("phone", raw, Why.NOT_A_PHONE)
    candidates = [text]
    digits = _DIGITS.sub("", text)
    # A PBX often drops the "+" of an international number ("74951234567", "0049...").
    if not text.startswith("+") and digits:
        if digits.startswith("00"):
            candidates.append("+" + digits[2:])
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            # E.164 allows 15 digits; the library's metadata accepts a few longer German numbers
            if len(e164) - 1 <= _E164_MAX_DIGITS:
                return e164
    raise InvalidInput("phone", raw, Why.NOT_A_PHONE)


def try_e164(raw: str | None, *, region: str) -> str | None:
    """Like ``to_e164`` but ``None`` for anything that is not a valid number (anonymous callers...)."""
    if raw is None:
        return None
    try:
        return to_e164(raw, region=region)
    except InvalidInput:
        return None


def pretty(e164: str | None) -> str:
    """A stored number as people read it, "+7 495 123-45-67"; "" for none, one it cannot read as it is."""
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


def national_digits(e164: str) -> str:
    """The national significant number of a stored number, "4951234567" for "+74951234567" (what a PBX
    dials within the country); its digits when it cannot be read."""
    try:
        return str(phonenumbers.parse(e164).national_number)
    except phonenumbers.NumberParseException:
        return e164.lstrip("+")


def digits_of(raw: str) -> str:
    """Only the digits of ``raw``: what a search by "the last digits" compares."""
    return _DIGITS.sub("", raw)


def mask(phone: str | None) -> str:
    """The phone as logs may show it: every digit but the last four hidden."""
    if not phone:
        return "-"
    digits = digits_of(phone)
    return "*" * max(len(digits) - 4, 0) + digits[-4:]

"""Twilio Voice: the ``X-Twilio-Signature`` check and status callbacks as ``CallEvent``.

Kanbot listens to the *status callbacks* of the calls on a Twilio number (and, optionally,
to the ``<Dial action>`` request, which tells whether the dialled seller answered). Each
Twilio call is one CRM call keyed by its ``CallSid``; the child legs a ``<Dial>`` creates
(they carry ``ParentCallSid``) are acknowledged and ignored, because their parent reports
the call. Twilio sends no start time, so times come from ``Timestamp`` (the moment of the
status change) minus ``CallDuration``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.domain.recordings import MAX_REF, RecordingNotice

from .payloads import (
    FormPairs,
    PayloadError,
    earlier,
    extension,
    optional,
    phone,
    required,
    seconds,
    within_range,
)

PROVIDER = "twilio"
SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

_NOT_YET = frozenset({"queued", "initiated", "ringing"})
_MISSED = frozenset({"no-answer", "busy", "failed", "canceled"})
_DIAL_ANSWERED = frozenset({"completed", "answered"})
_ENDPOINT_PREFIXES = ("client:", "sip:")


def twilio_signature(url: str, params: FormPairs, auth_token: str) -> str:
    """Base64 HMAC-SHA1 of the URL followed by each parameter's name and value, sorted by name then value."""
    data = url + "".join(name + value for name, value in sorted(params))
    # surrogateescape: a Host header (hence the URL) with bytes that are not UTF-8 is signed as sent
    digest = hmac.new(auth_token.encode(), data.encode("utf-8", "surrogateescape"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_twilio(url: str, params: FormPairs, signature: str | None, auth_token: str) -> bool:
    """Whether ``signature`` signs this request; like Twilio's libraries, with and without the port."""
    if not signature:
        return False
    given = signature.strip().encode("utf-8", "surrogateescape")  # header bytes as sent, UTF-8 or not
    matches = [
        hmac.compare_digest(twilio_signature(candidate, params, auth_token).encode(), given)
        for candidate in _url_variants(url)
    ]
    return any(matches)


def _url_variants(url: str) -> list[str]:
    """The URL as given, without its port and with the scheme's default port made explicit."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return [url]
    host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    default = 443 if parts.scheme == "https" else 80
    without = urlunsplit(parts._replace(netloc=host))
    with_port = urlunsplit(parts._replace(netloc=f"{host}:{port or default}"))
    return list(dict.fromkeys([url, without, with_port]))


def parse_twilio(
    form: Mapping[str, str],
    *,
    region: str,
    received_at: datetime | None = None,
    placed_for: str | None = None,
) -> list[CallEvent]:
    """Map one Twilio Voice request to the call it reports: none, in progress, or final.

    ``placed_for``: the customer's number of a call placed from the CRM (carried in the status callback's
    URL, which the signature covers): Twilio rang the seller's endpoint (``To``) and then dialled it, so
    it is an outbound call from that seller to that number."""
    call_id = required(form, "CallSid")[:128]
    call_status = optional(form, "CallStatus")
    dial_status = optional(form, "DialCallStatus")
    if optional(form, "ParentCallSid") or "Digits" in form or "SpeechResult" in form:
        return []  # a <Dial> child leg or a <Gather> result: the parent's callbacks report the call
    if dial_status is None and (call_status is None or call_status in _NOT_YET):
        return []
    moment = _timestamp(form, received_at)
    event = CallEvent(
        call_id=call_id,
        provider=PROVIDER,
        direction=_direction(form),
        status=CallStatus.ANSWERED,
        caller=phone(_party(form, "From", "Caller"), region=region),
        dialed=phone(_party(form, "To", "Called"), region=region),
        started_at=moment,
        raw_caller=_party(form, "From", "Caller"),
    )
    if placed_for is not None:
        seller = _party(form, "To", "Called")
        event = replace(
            event,
            direction=CallDirection.OUTBOUND,
            caller=None,
            dialed=phone(placed_for, region=region),
            raw_caller=None,
        )
        form = {**form, "From": seller or "", "Caller": seller or ""}
    if dial_status is not None:
        return [_dial_result(event, dial_status, form, moment)]
    if call_status == "in-progress":
        return [_answered(event, form, answered_at=moment, ended_at=None, duration_s=None)]
    if call_status in _MISSED:
        return [_missed(event, moment)]
    if call_status == "completed":
        duration = seconds(form.get("CallDuration"), "CallDuration") or 0
        if duration == 0:
            return [_missed(event, moment)]
        started = earlier(moment, duration)
        return [_answered(event, form, answered_at=started, ended_at=moment, duration_s=duration)]
    raise PayloadError("CallStatus: not a Twilio call status")


def _dial_result(event: CallEvent, dial_status: str, form: Mapping[str, str], moment: datetime) -> CallEvent:
    if dial_status in _MISSED:
        return _missed(event, moment)
    if dial_status not in _DIAL_ANSWERED:
        raise PayloadError("DialCallStatus: not a Twilio dial status")
    duration = seconds(form.get("DialCallDuration"), "DialCallDuration") or 0
    return _answered(event, form, answered_at=earlier(moment, duration), ended_at=moment, duration_s=duration)


def _answered(
    event: CallEvent,
    form: Mapping[str, str],
    *,
    answered_at: datetime,
    ended_at: datetime | None,
    duration_s: int | None,
) -> CallEvent:
    seller = _seller_endpoint(event.direction, form)
    return replace(
        event,
        started_at=answered_at,
        answered_at=answered_at,
        answered_by=seller,
        rang=(seller,) if seller else (),
        ended_at=ended_at,
        duration_s=duration_s,
    )


def _missed(event: CallEvent, moment: datetime) -> CallEvent:
    return replace(event, status=CallStatus.MISSED, started_at=moment, ended_at=moment, duration_s=0)


def _direction(form: Mapping[str, str]) -> CallDirection:
    direction = required(form, "Direction")
    ends = (_party(form, "From", "Caller") or "", _party(form, "To", "Called") or "")
    if all(end.startswith(_ENDPOINT_PREFIXES) for end in ends):
        return CallDirection.INTERNAL
    if direction == "inbound":
        return CallDirection.INBOUND
    if direction.startswith("outbound"):
        return CallDirection.OUTBOUND
    raise PayloadError("Direction: not inbound, outbound-api or outbound-dial")


def _seller_endpoint(direction: CallDirection, form: Mapping[str, str]) -> str | None:
    """The seller's own endpoint (``client:alice``, ``sip:101@...``) when the call names one."""
    side = (
        _party(form, "From", "Caller")
        if direction is CallDirection.OUTBOUND
        else _party(form, "To", "Called")
    )
    if side is None or not side.startswith(_ENDPOINT_PREFIXES):
        return None
    return extension(side)


def _party(form: Mapping[str, str], name: str, alias: str) -> str | None:
    return optional(form, name) or optional(form, alias)


def _timestamp(form: Mapping[str, str], received_at: datetime | None) -> datetime:
    raw = optional(form, "Timestamp")
    if raw is None:
        if received_at is None:
            raise PayloadError("Timestamp: missing")
        return received_at
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise PayloadError("Timestamp: not an RFC 2822 date") from None
    if moment.tzinfo is None:  # "-0000": UTC, by RFC 2822
        moment = moment.replace(tzinfo=UTC)
    return within_range(moment, "Timestamp")


def recording_of_twilio(form: Mapping[str, str]) -> RecordingNotice | None:
    """The recording a request names (``RecordingUrl`` of a recording status callback, of a ``<Dial
    record>`` action, or of a status callback), once it is complete; for the call Kanbot keys it by
    (the parent's ``CallSid``: a ``<Dial>`` leg's recording is its parent call's)."""
    url = optional(form, "RecordingUrl")
    status = optional(form, "RecordingStatus")
    if url is None or (status is not None and status != "completed"):
        return None
    if len(url) > MAX_REF or not url.startswith("https://"):
        raise PayloadError("RecordingUrl: not an https URL of at most 500 characters")
    call_id = optional(form, "ParentCallSid") or required(form, "CallSid")
    return RecordingNotice(PROVIDER, call_id[:128], url)

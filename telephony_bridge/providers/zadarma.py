"""Zadarma PBX notifications: the ``Signature`` check and the events as ``CallEvent``.

The signature is what Zadarma's own PHP library (``zadarma/user-api-v1``,
``lib/Webhook/Notify*.php`` and ``Api::getWebhookEvent``) checks: base64 of the *hex*
HMAC-SHA1 digest, keyed with the API secret, of fields that depend on the event.

``NOTIFY_START``/``NOTIFY_INTERNAL``/``NOTIFY_OUT_START`` only say that something rings
and give no call; ``NOTIFY_ANSWER`` gives the in-progress call (pop-up card), and
``NOTIFY_END``/``NOTIFY_OUT_END`` the final one. ``call_start`` is a wall-clock time of the
PBX (``YYYY-MM-DD HH:MM:SS``), read in the account's time zone ``tz``.

The signature leaves ``pbx_call_id`` and everything but two numbers and the start out: each call event
carries what was signed as its ``seal``, which the CRM binds to the call id it first came with (a
ringing notification's seal is bound through ``call_seal``), so one captured notification cannot sign
other calls, nor another outcome of its own call once that is known.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, tzinfo

from crm_core.domain.calls import CallDirection, CallEvent, CallSeal, CallStatus
from crm_core.domain.recordings import RecordingNotice

from .payloads import PayloadError, earlier, later, optional, phone, required, seconds, within_range

PROVIDER = "zadarma"
SIGNATURE_HEADER = "Signature"

# The fields each event signs, in order, as in the library's getSignatureString().
SIGNED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_INTERNAL": ("caller_id", "called_did", "call_start"),
    "NOTIFY_IVR": ("caller_id", "called_did", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
    "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
    "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}
_RINGING = frozenset({"NOTIFY_START", "NOTIFY_INTERNAL", "NOTIFY_IVR", "NOTIFY_OUT_START", "NOTIFY_RECORD"})
_MAX_EXTENSION_DIGITS = 5


def is_known_event(form: Mapping[str, str]) -> bool:
    return form.get("event", "") in SIGNED_FIELDS


def zadarma_signature(form: Mapping[str, str], secret: str) -> str:
    """The ``Signature`` Zadarma sends with this notification."""
    fields = SIGNED_FIELDS.get(form.get("event", ""))
    if fields is None:
        raise PayloadError("event: not a Zadarma call notification")
    data = "".join(form.get(name, "") for name in fields)
    hex_digest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(hex_digest.encode()).decode()


def call_seal(form: Mapping[str, str]) -> CallSeal | None:
    """What this notification signs of its call, when that leaves the call id out (``None`` for a
    notification that is not about a call, or that signs the call id itself: ``NOTIFY_RECORD``)."""
    fields = SIGNED_FIELDS.get(form.get("event", ""))
    if fields is None or "pbx_call_id" in fields:
        return None
    return CallSeal.of({name: form.get(name, "") for name in fields})


def verify_zadarma(form: Mapping[str, str], signature: str | None, secret: str) -> bool:
    """Whether ``signature`` is Zadarma's for this notification (unknown events never verify)."""
    if not signature or not is_known_event(form):
        return False
    given = signature.strip().encode("utf-8", "surrogateescape")  # header bytes as sent, UTF-8 or not
    return hmac.compare_digest(zadarma_signature(form, secret).encode(), given)


def parse_zadarma(
    form: Mapping[str, str], *, region: str, tz: tzinfo, received_at: datetime | None = None
) -> list[CallEvent]:
    """Map one Zadarma notification to the call it reports: none, in progress, or final."""
    event = required(form, "event")
    if event not in SIGNED_FIELDS:
        raise PayloadError("event: not a Zadarma call notification")
    if event in _RINGING:
        return []
    return [replace(call, seal=call_seal(form)) for call in _calls(form, event, region, tz, received_at)]


def _calls(
    form: Mapping[str, str], event: str, region: str, tz: tzinfo, received_at: datetime | None
) -> list[CallEvent]:
    call_id = required(form, "pbx_call_id")[:128]
    started_at = _call_start(form, tz)
    internal = optional(form, "internal")
    if event == "NOTIFY_ANSWER":
        answered_at = received_at or started_at
        who = internal or optional(form, "destination")
        return [
            CallEvent(
                call_id=call_id,
                provider=PROVIDER,
                direction=CallDirection.INBOUND,
                status=CallStatus.ANSWERED,
                caller=phone(optional(form, "caller_id"), region=region),
                dialed=phone(optional(form, "called_did"), region=region),
                started_at=started_at,
                rang=(who,) if who else (),
                answered_by=who,
                answered_at=max(answered_at, started_at),
                raw_caller=optional(form, "caller_id"),
            )
        ]
    return [
        _final(form, event, call_id=call_id, started_at=started_at, region=region, received_at=received_at)
    ]


def _final(
    form: Mapping[str, str],
    event: str,
    *,
    call_id: str,
    started_at: datetime,
    region: str,
    received_at: datetime | None,
) -> CallEvent:
    answered = required(form, "disposition") == "answered"
    duration = (seconds(form.get("duration"), "duration") or 0) if answered else 0
    ended_at = max(received_at or later(started_at, duration), later(started_at, duration))
    internal = optional(form, "internal")
    seller, rang = internal, (internal,) if internal else ()
    if event == "NOTIFY_END":
        direction, dialed = CallDirection.INBOUND, phone(optional(form, "called_did"), region=region)
    else:
        destination = optional(form, "destination")
        direction = _outbound_direction(destination)
        dialed, rang = phone(destination, region=region), ()
        if direction is CallDirection.INTERNAL:  # the colleague called is the one who answers
            seller, rang = destination, (destination,) if destination else ()
    return CallEvent(
        call_id=call_id,
        provider=PROVIDER,
        direction=direction,
        status=CallStatus.ANSWERED if answered else CallStatus.MISSED,
        caller=phone(optional(form, "caller_id"), region=region),
        dialed=dialed,
        started_at=started_at,
        rang=rang,
        answered_by=seller if answered else None,
        answered_at=earlier(ended_at, duration) if answered else None,
        ended_at=ended_at,
        duration_s=duration,
        raw_caller=optional(form, "caller_id"),
    )


def _outbound_direction(destination: str | None) -> CallDirection:
    """A call from an extension to a short number is a call to a colleague."""
    if destination is not None and destination.isdigit() and len(destination) <= _MAX_EXTENSION_DIGITS:
        return CallDirection.INTERNAL
    return CallDirection.OUTBOUND


def _call_start(form: Mapping[str, str], tz: tzinfo) -> datetime:
    raw = required(form, "call_start")
    try:
        moment = datetime.strptime(raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
    except ValueError:
        raise PayloadError("call_start: not a YYYY-MM-DD HH:MM:SS time") from None
    return within_range(moment, "call_start")


def recording_of_zadarma(form: Mapping[str, str]) -> RecordingNotice | None:
    """The recorded call's id (``call_id_with_rec``) of ``NOTIFY_RECORD`` (which signs it with the call
    id), or of a ``NOTIFY_END``/``NOTIFY_OUT_END`` that says ``is_recorded=1``; fetched with
    ``/v1/pbx/record/request/``."""
    event = form.get("event")
    recorded = event == "NOTIFY_RECORD" or (
        event in ("NOTIFY_END", "NOTIFY_OUT_END") and optional(form, "is_recorded") == "1"
    )
    with_rec = optional(form, "call_id_with_rec")
    if not recorded or with_rec is None:
        return None
    if len(with_rec) > 128 or not with_rec.replace(".", "").replace("-", "").isalnum():
        raise PayloadError("call_id_with_rec: not a Zadarma call id")
    return RecordingNotice(PROVIDER, required(form, "pbx_call_id")[:128], with_rec)

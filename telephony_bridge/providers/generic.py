"""The generic call webhook (``POST /api/v1/calls``): a ``CallEvent`` as JSON, signed.

For any PBX Kanbot has no parser for: a FreePBX dialplan hook, a script, another CRM.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal, overload

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.domain.phones import try_e164
from telephony_bridge.signing import HEADER as SIGNATURE_HEADER
from telephony_bridge.signing import SignatureError, verify

from .payloads import MAX_DURATION_S, PayloadError, within_range

PROVIDER = "generic"
__all__ = ["SIGNATURE_HEADER", "CallEventIn", "SignatureError", "parse_generic", "verify_generic"]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Extension = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class CallEventIn(BaseModel):
    """The body of ``POST /api/v1/calls``: one call, as the PBX saw it."""

    model_config = ConfigDict(extra="forbid", title="CallEvent")

    call_id: Text = Field(
        description="The PBX's id of the whole call; the same for its in-progress and final event."
    )
    provider: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,31}$")] = Field(
        default=PROVIDER, description="Who reports the call; (provider, call_id) identifies it."
    )
    direction: Literal["inbound", "outbound", "internal"]
    status: Literal["answered", "missed"]
    caller: Phone | None = Field(description="The calling number in any format; null when hidden.")
    dialed: Phone | None = Field(default=None, description="The number called, in any format.")
    did: Phone | None = Field(
        default=None,
        description="Inbound: the company's number the call came in on (its DID), any format; "
        "another name for dialed (give either, or both the same).",
    )
    rang: list[Extension] = Field(default_factory=list, max_length=50, description="Extensions that rang.")
    answered_by: Extension | None = Field(default=None, description="The extension that answered first.")
    transfers: list[Extension] = Field(
        default_factory=list, max_length=50, description="Later transfer targets."
    )
    started_at: AwareDatetime
    answered_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = Field(default=None, description="null while the call is still going on.")
    duration_s: int | None = Field(default=None, ge=0, le=MAX_DURATION_S, description="Talk time in seconds.")


def verify_generic(body: bytes, header: str | None, secret: str, *, now: float) -> None:
    """Raise ``SignatureError`` unless ``header`` signs ``body`` with ``secret``, within 5 minutes."""
    if header is not None and not header.isascii():
        # signing.verify would hand non-ASCII text to hmac.compare_digest, which raises TypeError.
        raise SignatureError("malformed signature")
    verify(body, header, secret, now=now)


def parse_generic(payload: object, *, region: str) -> list[CallEvent]:
    """Validate a decoded JSON body and return the one call it describes."""
    if not isinstance(payload, dict):
        raise PayloadError("body: not a JSON object")
    try:
        model = CallEventIn.model_validate(payload)
    except ValidationError as error:
        raise PayloadError(_describe(error)) from None
    return [_to_event(model, region=region)]


def _to_event(model: CallEventIn, *, region: str) -> CallEvent:
    started_at, answered_at, ended_at = (
        _moment(model.started_at, "started_at"),
        _moment(model.answered_at, "answered_at"),
        _moment(model.ended_at, "ended_at"),
    )
    if ended_at is not None and ended_at < started_at:
        raise PayloadError("ended_at: before started_at")
    if answered_at is not None and answered_at < started_at:
        raise PayloadError("answered_at: before started_at")
    if model.status == "missed" and (model.answered_by or model.answered_at):
        raise PayloadError("status: a missed call has no answered_by or answered_at")
    dialed, did = _phone(model.dialed, "dialed", region), _phone(model.did, "did", region)
    if dialed is not None and did is not None and dialed != did:
        raise PayloadError("did: not the number in dialed (give one of them, or both the same)")
    return CallEvent(
        call_id=model.call_id,
        provider=model.provider,
        direction=CallDirection(model.direction),
        status=CallStatus(model.status),
        caller=_phone(model.caller, "caller", region),
        dialed=dialed or did,
        started_at=started_at,
        rang=tuple(model.rang),
        answered_by=model.answered_by,
        transfers=tuple(model.transfers),
        answered_at=answered_at,
        ended_at=ended_at,
        duration_s=model.duration_s,
        raw_caller=model.caller,
    )


@overload
def _moment(value: datetime, name: str) -> datetime: ...
@overload
def _moment(value: None, name: str) -> None: ...
def _moment(value: datetime | None, name: str) -> datetime | None:
    """The time within range, its offset as a plain ``datetime.timezone`` rather than pydantic's."""
    if value is None:
        return None
    offset = value.utcoffset()
    if offset is None:
        raise PayloadError(f"{name}: has no time zone")
    return within_range(value.replace(tzinfo=timezone(offset)), name)


def _phone(raw: str | None, name: str, region: str) -> str | None:
    if raw is None:
        return None
    number = try_e164(raw, region=region)
    if number is None:
        raise PayloadError(f"{name}: not a valid phone number (send null for a hidden number)")
    return number


def _describe(error: ValidationError) -> str:
    """Pydantic's complaints as ``field: message``, without echoing the values (they may be phones)."""
    parts = []
    for item in error.errors(include_input=False, include_url=False)[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        message = "unknown field" if item["type"] == "extra_forbidden" else item["msg"]
        parts.append(f"{where}: {message}")
    return "; ".join(parts)

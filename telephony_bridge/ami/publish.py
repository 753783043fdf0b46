"""What the tracker publishes: a tracked call as a ``CallEvent``, with E.164 numbers and aware times."""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime

from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.domain.phones import digits_of, try_e164
from telephony_bridge.ami.config import TrackerConfig
from telephony_bridge.ami.state import Call

_NO_NUMBER = frozenset({"", "<unknown>", "unknown", "anonymous", "<unavailable>", "s"})


def build_event(config: TrackerConfig, call: Call, *, ended_at: float | None) -> CallEvent:
    """The call as seen so far: in progress while ``ended_at`` is ``None``, final otherwise."""
    region = config.region
    transfers = tuple(call.transfers)
    pending = call.pending_target
    if ended_at is not None and pending is not None and pending not in (*transfers, call.answered_by):
        transfers += (pending,)  # a blind transfer nobody picked up: its target as the PBX named it
    duration = None
    if ended_at is not None:
        duration = max(0, round(ended_at - call.answered_at)) if call.answered_at is not None else 0
    if call.inbound:
        direction = CallDirection.INBOUND
    else:
        direction = CallDirection.OUTBOUND if call.outbound else CallDirection.INTERNAL
    return CallEvent(
        call_id=call.call_id,
        provider=config.provider,
        direction=direction,
        status=CallStatus.ANSWERED if call.answered_by is not None else CallStatus.MISSED,
        caller=e164(call.raw_caller, region) if call.inbound else _own_number(call, region),
        dialed=e164(call.raw_dialed, region) or e164(call.raw_dest, region),
        started_at=moment(call.started_at),
        rang=tuple(call.rang),
        answered_by=call.answered_by,
        transfers=transfers,
        answered_at=moment(call.answered_at) if call.answered_at is not None else None,
        ended_at=moment(ended_at) if ended_at is not None else None,
        duration_s=duration,
        raw_caller=call.raw_caller,
    )


def _own_number(call: Call, region: str) -> str | None:
    """A seller's call shows the phone's own extension as caller: that is no customer's number."""
    raw = call.raw_caller
    if raw is None or digits_of(raw) == call.origin_ext or len(digits_of(raw)) < 7:
        return None
    return e164(raw, region)


def as_number(value: str | None) -> str | None:
    """A caller ID or extension as the PBX gave it, ``None`` for its ways of saying "none"."""
    if value is None:
        return None
    text = value.strip()
    return None if text.lower() in _NO_NUMBER else text


@functools.lru_cache(maxsize=8192)
def e164(raw: str | None, region: str) -> str | None:
    """``try_e164``, remembered: the same customers and DIDs come back all day."""
    return try_e164(raw, region=region) if raw else None


def uid_epoch(uid: str | None) -> float:
    """The creation time in a ``Uniqueid`` (``[system-]<epoch>.<sequence>``), or 0."""
    if not uid:
        return 0.0
    head = uid.rpartition("-")[2].partition(".")[0]
    return float(head) if head.isdigit() and len(head) <= 11 else 0.0


def moment(seconds: float) -> datetime:
    if not math.isfinite(seconds):
        return datetime.now(tz=UTC)
    return datetime.fromtimestamp(round(seconds, 3), tz=UTC)

"""Mango Office VPBX API notifications: the ``sign`` check and call legs and summaries as ``CallEvent``.

Mango posts form fields ``vpbx_api_key``, ``sign`` and ``json``; ``sign`` is the hex SHA-256
of api key + json + api salt. ``events/call`` reports each *leg* of a call (``call_id``)
as it appears, connects and disconnects, all sharing the call's ``entry_id``;
``events/summary`` comes once when the whole call is over.

What the parser relies on:

* The final ``CallEvent`` comes from the **summary alone**: ``call_direction`` (0 internal,
  1 inbound, 2 outbound), ``create_time``/``talk_time``/``end_time`` (Unix seconds, ``talk_time``
  0 when nobody talked), ``entry_result`` (1 answered, 0 missed), ``from``/``to``/``line_number``.
* A leg ``Connected`` at ``location == "abonent"`` means an employee took the call: its
  extension (``to.extension``, or ``from.extension`` when the employee dialled out) answered.
  The first such leg of an entry yields the in-progress ``CallEvent`` (pop-up card).
* A ``MangoCallTracker`` (in memory, per process, bounded) remembers per ``entry_id`` the
  extensions that rang (``Appeared`` at an abonent) and that connected, so the summary's
  event gets ``rang``, ``answered_by`` (the first connected) and ``transfers`` (later ones).
  Without it -- another process, a restart -- the summary still gives the final call, with
  ``answered_by`` from the summary's own extension.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.domain.recordings import RecordingNotice

from .payloads import PayloadError, from_unix, phone

PROVIDER = "mango"
_STATES = frozenset({"Appeared", "Connected", "Disconnected", "OnHold"})
_DIRECTIONS = {0: CallDirection.INTERNAL, 1: CallDirection.INBOUND, 2: CallDirection.OUTBOUND}


def mango_sign(api_key: str, json_text: str, api_salt: str) -> str:
    """The ``sign`` field Mango computes: hex SHA-256 of api key + json + salt."""
    return hashlib.sha256((api_key + json_text + api_salt).encode()).hexdigest()


def verify_mango(form: Mapping[str, str], *, api_key: str, api_salt: str) -> bool:
    """Whether the form comes from the VPBX whose key and salt these are."""
    key, sign, json_text = form.get("vpbx_api_key", ""), form.get("sign", ""), form.get("json")
    if json_text is None or not sign:
        return False
    key_ok = hmac.compare_digest(key.encode(), api_key.encode())
    expected = mango_sign(api_key, json_text, api_salt)
    sign_ok = hmac.compare_digest(expected.encode(), sign.strip().lower().encode())
    return key_ok and sign_ok


def decode_json_field(form: Mapping[str, str]) -> dict[str, object]:
    """The event carried in the form's ``json`` field."""
    raw = form.get("json")
    if raw is None:
        raise PayloadError("json: missing")
    return json_object(raw, "json")


def json_object(raw: str | bytes, name: str) -> dict[str, object]:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise PayloadError(f"{name}: not valid JSON") from None
    if not isinstance(value, dict):
        raise PayloadError(f"{name}: not a JSON object")
    return value


@dataclass
class _Entry:
    first_seen: datetime
    rang: list[str] = field(default_factory=list)
    connected: list[str] = field(default_factory=list)


class MangoCallTracker:
    """What the legs of each ongoing call told so far; forgets a call at its summary, or when full."""

    def __init__(self, *, max_calls: int = 5000) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._max_calls = max_calls

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, entry_id: str, seen_at: datetime) -> _Entry:
        entry = self._entries.get(entry_id)
        if entry is None:
            entry = self._entries[entry_id] = _Entry(first_seen=seen_at)
            while len(self._entries) > self._max_calls:
                self._entries.popitem(last=False)
        self._entries.move_to_end(entry_id)
        entry.first_seen = min(entry.first_seen, seen_at)
        return entry

    def pop(self, entry_id: str) -> _Entry | None:
        return self._entries.pop(entry_id, None)


def parse_mango(
    event: Mapping[str, object], *, region: str, tracker: MangoCallTracker | None = None
) -> list[CallEvent]:
    """Map one Mango notification (``events/call`` or ``events/summary``) to calls; others give none."""
    if "call_state" in event:
        return _leg(event, region=region, tracker=tracker)
    if "entry_result" in event or "call_direction" in event:
        return [_summary(event, region=region, tracker=tracker)]
    return []  # recording, dtmf, sms, ping: nothing about a call


def _leg(event: Mapping[str, object], *, region: str, tracker: MangoCallTracker | None) -> list[CallEvent]:
    entry_id = _required_text(event, "entry_id")
    state = _text(event.get("call_state"))
    if state not in _STATES:
        raise PayloadError("call_state: not Appeared, Connected, Disconnected or OnHold")
    moment = from_unix(event.get("timestamp"), "timestamp")
    direction = _direction(event)
    employee = _employee(event, direction)
    at_abonent = _text(event.get("location")) == "abonent" and employee is not None
    entry = tracker.entry(entry_id, moment) if tracker is not None else _Entry(first_seen=moment)
    if not at_abonent or employee is None:
        return []
    if state == "Appeared" and employee not in entry.rang:
        entry.rang.append(employee)
    if state != "Connected" or employee in entry.connected:
        return []
    entry.connected.append(employee)
    if len(entry.connected) > 1:
        return []  # a transfer: the summary reports it
    caller, dialed = _numbers(event, direction, region)
    return [
        CallEvent(
            call_id=entry_id,
            provider=PROVIDER,
            direction=direction,
            status=CallStatus.ANSWERED,
            caller=caller,
            dialed=dialed,
            started_at=entry.first_seen,
            rang=tuple(dict.fromkeys([*entry.rang, employee])),
            answered_by=employee,
            answered_at=moment,
            raw_caller=_text(_side(event, "from").get("number")),
        )
    ]


def _summary(event: Mapping[str, object], *, region: str, tracker: MangoCallTracker | None) -> CallEvent:
    entry_id = _required_text(event, "entry_id")
    direction = _direction(event)
    started_at = from_unix(event.get("create_time"), "create_time")
    ended_at = max(from_unix(event.get("end_time"), "end_time"), started_at)
    talk_raw = event.get("talk_time")
    talk_at = from_unix(talk_raw, "talk_time") if talk_raw not in (None, 0, "0", "") else None
    answered = _entry_result(event, talk_at)
    seen = tracker.pop(entry_id) if tracker is not None else None
    answered_by = (
        (seen.connected[0] if seen and seen.connected else _employee(event, direction)) if answered else None
    )
    rang = seen.rang if seen else ([answered_by] if answered_by else [])
    transfers = [ext for ext in (seen.connected[1:] if seen else []) if ext != answered_by]
    answered_at = min(max(talk_at, started_at), ended_at) if answered and talk_at else None
    caller, dialed = _numbers(event, direction, region)
    return CallEvent(
        call_id=entry_id,
        provider=PROVIDER,
        direction=direction,
        status=CallStatus.ANSWERED if answered else CallStatus.MISSED,
        caller=caller,
        dialed=dialed,
        started_at=started_at,
        rang=tuple(dict.fromkeys(rang)),
        answered_by=answered_by,
        transfers=tuple(dict.fromkeys(transfers)),
        answered_at=answered_at,
        ended_at=ended_at,
        duration_s=int((ended_at - answered_at).total_seconds()) if answered_at else 0,
        raw_caller=_text(_side(event, "from").get("number")),
    )


def _entry_result(event: Mapping[str, object], talk_at: datetime | None) -> bool:
    raw = event.get("entry_result")
    if raw is None:
        return talk_at is not None
    if _text(raw) not in ("0", "1"):
        raise PayloadError("entry_result: not 0 or 1")
    return _text(raw) == "1"


def _direction(event: Mapping[str, object]) -> CallDirection:
    raw = _text(event.get("call_direction"))
    if raw is not None and raw.isdigit() and int(raw) in _DIRECTIONS:
        return _DIRECTIONS[int(raw)]
    from_ext = _text(_side(event, "from").get("extension"))
    to_ext = _text(_side(event, "to").get("extension"))
    if from_ext and to_ext:
        return CallDirection.INTERNAL
    return CallDirection.OUTBOUND if from_ext else CallDirection.INBOUND


def _employee(event: Mapping[str, object], direction: CallDirection) -> str | None:
    """The extension on the company's side: who takes an inbound call, who placed an outbound one."""
    side = "from" if direction is CallDirection.OUTBOUND else "to"
    return _text(_side(event, side).get("extension"))


def _numbers(
    event: Mapping[str, object], direction: CallDirection, region: str
) -> tuple[str | None, str | None]:
    frm, to = _side(event, "from"), _side(event, "to")
    line = _text(event.get("line_number")) or _text(to.get("line_number")) or _text(frm.get("line_number"))
    their = phone(_text(frm.get("number")), region=region)
    if direction is CallDirection.OUTBOUND:
        return phone(line, region=region) or their, phone(_text(to.get("number")), region=region)
    return their, phone(line, region=region) or phone(_text(to.get("number")), region=region)


def _side(event: Mapping[str, object], name: str) -> Mapping[str, object]:
    value = event.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{name}: not an object")
    return value


def _text(value: object) -> str | None:
    """A JSON string or integer as text; anything else (objects, booleans, null) as ``None``."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()[:128] if isinstance(value, str) or abs(value) < 10**18 else None
    return text or None


def _required_text(event: Mapping[str, object], name: str) -> str:
    text = _text(event.get(name))
    if text is None:
        raise PayloadError(f"{name}: missing")
    return text


def recording_of_mango(event: Mapping[str, object]) -> RecordingNotice | None:
    """The recording an ``events/record/added`` notification announces (``recording_id`` of the call
    ``entry_id``); fetched with ``queries/recording/post``."""
    recording_id = _text(event.get("recording_id"))
    if recording_id is None or "call_state" in event:
        return None
    state = _text(event.get("recording_state"))
    if state is not None and state.lower() not in ("completed", "added"):
        return None  # events/recording: still being recorded
    if len(recording_id) > 200:
        raise PayloadError("recording_id: longer than 200 characters")
    return RecordingNotice(PROVIDER, _required_text(event, "entry_id")[:128], recording_id)

"""Replay a captured AMI session through the call tracker: what ``kanbot bridge replay`` prints."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from crm_core.domain.calls import CallEvent
from telephony_bridge.ami.config import TrackerConfig
from telephony_bridge.ami.reader import read_capture
from telephony_bridge.ami.tracker import CallTracker

__all__ = ["read_capture", "replay", "replay_file"]

_log = logging.getLogger("telephony_bridge.ami")


def replay(
    events: Iterable[Mapping[str, str]],
    config: TrackerConfig | None = None,
    *,
    clock: Callable[[], float] | None = None,
) -> list[CallEvent]:
    """Return the calls that ended in ``events``, in the order they ended (no in-progress events)."""
    tracker = CallTracker(config, clock=clock)
    finals = [call for event in events for call in tracker.feed(event) if call.is_final]
    if tracker.in_flight:
        _log.info(
            "%d call(s) had not ended when the capture stopped; they are not reported", tracker.in_flight
        )
    return finals


def replay_file(path: Path, config: TrackerConfig | None = None) -> list[CallEvent]:
    """Replay the capture in ``path`` (wire text or JSON)."""
    return replay(read_capture(path), config)

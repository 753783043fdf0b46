"""Read captured AMI sessions: raw wire text or a JSON array of event objects.

Wire text is ``Key: Value`` lines (CRLF or LF) with a blank line between packets, maybe after the
``Asterisk Call Manager/x.y`` banner. A JSON capture is ``[{"Event": "Newchannel", ...}, ...]``; an extra
``content`` key (as panoramisk records it) is ignored. The reader is forgiving: bytes that are not
UTF-8 are replaced, packets without ``Event`` are skipped, a truncated JSON array yields the events
before the cut. Nothing it reads makes it raise.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

_IGNORED_KEYS = frozenset({"content"})


def read_capture(path: Path) -> Iterator[dict[str, str]]:
    """Yield the events of a capture file, whichever of the two formats it is in."""
    return parse_capture(path.read_bytes())


def parse_capture(data: bytes | str) -> Iterator[dict[str, str]]:
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    body = text.lstrip("\ufeff \t\r\n")
    if body.startswith("["):
        return parse_json_events(body)
    return parse_wire(text)


def parse_wire(text: str) -> Iterator[dict[str, str]]:
    """Yield each packet with an ``Event`` header as a dict, in order."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    for block in text.split("\n\n"):
        event = parse_packet(block.split("\n"))
        if event is not None:
            yield event


def parse_packet(lines: Iterable[str]) -> dict[str, str] | None:
    """One packet's ``Key: Value`` lines as a dict, or ``None`` when it is not an event."""
    packet: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(": ")
        if not sep:  # "Key:" with an empty value, or a line that is no header (the banner)
            key, sep, value = line.partition(":")
            if not sep:
                continue
        if key and " " not in key:
            packet[key] = value
    return packet if packet.get("Event") else None


def parse_json_events(text: str) -> Iterator[dict[str, str]]:
    """Yield the event objects of a JSON array, stopping quietly where the text is cut or broken."""
    decoder = json.JSONDecoder()
    position = text.find("[") + 1
    end = len(text)
    while position < end:
        while position < end and text[position] in " \t\r\n,":
            position += 1
        if position >= end or text[position] == "]":
            return
        try:
            item, position = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            return
        event = _as_event(item)
        if event is not None:
            yield event


def _as_event(item: object) -> dict[str, str] | None:
    if not isinstance(item, dict):
        return None
    event: dict[str, str] = {}
    for key, value in item.items():
        if not isinstance(key, str) or key in _IGNORED_KEYS:
            continue
        if isinstance(value, str):
            event[key] = value
        elif isinstance(value, bool | int | float):
            event[key] = str(value)
        elif value is None:
            event[key] = ""
    return event if event.get("Event") else None

"""Benchmark 3 — AMI throughput: a captured Asterisk stream replayed at full speed through the call tracker.

The stream is the captures in ``tests/data/ami/`` repeated until it holds 100 000 events, each copy
renumbered (fresh ``Uniqueid``/``Linkedid``/bridge ids and channel names, shifted times) and twenty
copies at a time interleaved by time, as concurrent calls are on a busy PBX; it is written out as wire
text. Kanbot: ``parse_wire`` then ``CallTracker.feed`` for every event. Floor: ``parse_wire`` alone,
the same text into dicts. Every copy must give exactly the calls its capture's ``.expected.json`` lists.
"""

from __future__ import annotations

import heapq
import itertools
import json
import re
import time
from collections import Counter
from pathlib import Path

from bench.common import Options, Result, log
from telephony_bridge.ami.config import TrackerConfig
from telephony_bridge.ami.reader import parse_wire, read_capture
from telephony_bridge.ami.tracker import CallTracker

CAPTURES = Path(__file__).resolve().parent.parent / "tests" / "data" / "ami"
CONCURRENT = 20
SPACING_S = 7.3  # between the starts of two interleaved copies
_CHANNEL = re.compile(r"^(?P<head>.*-)(?P<hex>[0-9a-f]{8})(?P<tail>;[12])?$")


def captures() -> list[tuple[str, list[dict[str, str]], list[dict[str, object]]]]:
    """(name, events, expected calls) of each capture."""
    found = []
    for path in sorted(CAPTURES.iterdir()):
        if path.name.endswith(".expected.json"):
            continue
        expected = json.loads((CAPTURES / f"{path.stem}.expected.json").read_text())
        found.append((path.stem, list(read_capture(path)), expected))
    return found


def renumber(events: list[dict[str, str]], copy: int, shift_s: float) -> list[dict[str, str]]:
    """The capture as another call: every id and channel name its own, every time moved by ``shift_s``."""
    ids: dict[str, str] = {}
    sequence = itertools.count(1)

    def new_id(old: str) -> str:
        if old not in ids:
            epoch = old.partition(".")[0]
            moved = int(epoch) + int(shift_s) if epoch.isdigit() else epoch
            ids[old] = f"{moved}.{copy:06d}{next(sequence):03d}"
        return ids[old]

    def new_channel(name: str) -> str:
        """The same channel (both halves of a Local pair alike) under a name of this copy's own."""
        match = _CHANNEL.match(name)
        if match is None:
            return name
        base = match["head"] + match["hex"]
        if base not in ids:
            ids[base] = f"{match['head']}{copy:05x}{next(sequence):03x}"
        return ids[base] + (match["tail"] or "")

    out = []
    for event in events:
        fresh = {}
        for key, value in event.items():
            if key.endswith(("Uniqueid", "Linkedid")) and value:
                value = new_id(value) if "." in value else f"{value}-{copy}"
            elif key.endswith("Channel") or key == "Newname":
                value = new_channel(value)
            elif key == "Timestamp" and value:
                value = f"{float(value) + shift_s:.6f}"
            fresh[key] = value
        out.append(fresh)
    return out


def build_stream(target: int) -> tuple[str, Counter[tuple[object, ...]], int]:
    """Wire text of at least ``target`` events, the calls it must give (as a multiset), and its events."""
    sources = captures()
    copies = []
    expected: Counter[tuple[object, ...]] = Counter()
    total = 0
    for copy in itertools.count():
        _, events, calls = sources[copy % len(sources)]
        wave, slot = divmod(copy, CONCURRENT)
        copies.append(renumber(events, copy, 86400 * wave + SPACING_S * slot))
        expected.update(_shape(call) for call in calls)
        total += len(events)
        if total >= target:
            break
    stream: list[dict[str, str]] = []
    for wave in range(0, len(copies), CONCURRENT):
        stream += heapq.merge(*copies[wave : wave + CONCURRENT], key=_moment)
    text = "".join("".join(f"{k}: {v}\r\n" for k, v in event.items()) + "\r\n" for event in stream)
    return "Asterisk Call Manager/5.0.1\r\n" + text, expected, len(stream)


def _moment(event: dict[str, str]) -> float:
    return float(event.get("Timestamp") or 0)


def _shape(call: object) -> tuple[object, ...]:
    """A call without its ids and times: what must be the same for every copy of a capture."""
    doc = call if isinstance(call, dict) else call.to_json()  # type: ignore[attr-defined]
    final = doc["ended_at"] is not None
    return (doc["direction"], doc["status"], doc["caller"], doc["answered_by"], tuple(doc["rang"]), final)


def parse_only(text: str) -> int:
    return sum(1 for _ in parse_wire(text))


def parse_and_track(text: str) -> Counter[tuple[object, ...]]:
    tracker = CallTracker(TrackerConfig())
    published: Counter[tuple[object, ...]] = Counter()
    for event in parse_wire(text):
        for call in tracker.feed(event):
            published[_shape(call)] += 1
    return published


def best_of(rounds: int, work: object) -> float:
    fastest = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


async def run(options: Options) -> list[Result]:
    target = options.pick(100_000, 20_000, 2_000)
    text, expected, events = build_stream(target)
    published = parse_and_track(text)
    if published != expected:
        extra, missing = published - expected, expected - published
        raise AssertionError(
            f"the tracker's calls differ: extra {list(extra)[:3]}, missing {list(missing)[:3]}"
        )
    rounds = options.pick(5, 3, 1)
    # Alternate the two so that a burst of load on the machine hits both alike; keep each one's best.
    floor_s = ours_s = float("inf")
    for _ in range(rounds):
        floor_s = min(floor_s, best_of(1, lambda: parse_only(text)))
        ours_s = min(ours_s, best_of(1, lambda: parse_and_track(text)))
    ours, floor = events / ours_s, events / floor_s
    log.info("3. tracker %.0f events/s, parsing alone %.0f events/s (%d events)", ours, floor, events)
    return [
        Result(
            "3. AMI throughput",
            "—",
            f"events/s, {events} events ({sum(expected.values())} call events), best of {rounds}",
            f"{ours:,.0f}/s",
            f"{floor:,.0f}/s",
            ours / floor,
            "≥ 0.5× parsing alone",
            ours / floor >= 0.5,
            ["every copy gave exactly its capture's expected calls"],
        )
    ]

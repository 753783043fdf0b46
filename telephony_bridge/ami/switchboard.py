"""The channels and bridges of one Asterisk as the call tracker sees them.

Which channels exist and whose call each belongs to, who is in which bridge, which ``Local/...;1`` and
``;2`` halves are twins. The switchboard only keeps this picture up to date; whether a call is answered,
transferred or over is the tracker's to decide (``telephony_bridge.ami.tracker``).
"""

from __future__ import annotations

from collections.abc import Callable

from telephony_bridge.ami.config import ChannelKind
from telephony_bridge.ami.state import Call, Channel

Classify = Callable[[str], tuple[ChannelKind, str | None]]


class Switchboard:
    """Channels by ``Uniqueid`` and bridges by ``BridgeUniqueid``, each bridge an ordered set of channels."""

    def __init__(self, classify: Classify) -> None:
        self._classify = classify
        self.channels: dict[str, Channel] = {}
        self.bridges: dict[str, dict[Channel, None]] = {}  # an ordered set, for reproducible choices
        self._locals: dict[str, Channel] = {}  # a Local half waiting for its twin

    def add(self, call: Call, uid: str, name: str) -> Channel:
        """A new channel of ``call``; a ``Local`` half is paired with its twin when both are seen."""
        kind, ext = self._classify(name)
        channel = Channel(uid, name, kind, ext, call)
        self.channels[uid] = channel
        call.channels[uid] = channel
        if kind == ChannelKind.LOCAL and name[-2:] in (";1", ";2"):
            key = name[:-2]
            twin = self._locals.pop(key, None)
            if twin is None:
                self._locals[key] = channel
                channel.local_key = key
            else:
                twin.local_key = None
                channel.twin, twin.twin = twin, channel
        return channel

    def drop(self, channel: Channel) -> None:
        """Forget a channel that hung up: out of its call, its bridge and its Local pair."""
        self.channels.pop(channel.uid, None)
        channel.call.channels.pop(channel.uid, None)
        if channel.bridge is not None:
            self.leave(channel)
        if channel.twin is not None:
            channel.twin.twin = None
            channel.twin = None
        if channel.local_key is not None and self._locals.get(channel.local_key) is channel:
            del self._locals[channel.local_key]

    def rename(self, channel: Channel, new_name: str) -> None:
        channel.name = new_name
        channel.kind, channel.ext = self._classify(new_name)

    def pair(self, one: Channel, two: Channel) -> None:
        """Make two Local halves twins (a ``LocalBridge`` event), whatever their names said."""
        if one.twin is two:
            return
        for half in (one, two):
            if half.local_key is not None and self._locals.get(half.local_key) is half:
                del self._locals[half.local_key]
            half.local_key = None
        one.twin, two.twin = two, one

    def enter(self, channel: Channel, bridge_id: str) -> dict[Channel, None]:
        """Put the channel in the bridge (leaving the one it was in); return the bridge's members."""
        if channel.bridge is not None and channel.bridge != bridge_id:
            self.leave(channel)
        channel.bridge = bridge_id
        members = self.bridges.get(bridge_id)
        if members is None:
            members = self.bridges[bridge_id] = {}
        members[channel] = None
        return members

    def leave(self, channel: Channel) -> None:
        members = self.bridges.get(channel.bridge or "")
        if members is not None:
            members.pop(channel, None)
            if not members:
                del self.bridges[channel.bridge or ""]
        channel.bridge = None

    def destroy(self, bridge_id: str) -> None:
        for member in self.bridges.pop(bridge_id, {}):
            member.bridge = None

"""The tracker's working memory: the channels it follows and the calls they make up."""

from __future__ import annotations

from collections.abc import Mapping

from telephony_bridge.ami.config import ChannelKind


class Channel:
    """One Asterisk channel (one ``Uniqueid``) of a tracked call."""

    __slots__ = ("bridge", "call", "ext", "kind", "local_key", "name", "on_behalf", "twin", "uid", "up")

    def __init__(self, uid: str, name: str, kind: ChannelKind, ext: str | None, call: Call) -> None:
        self.uid = uid
        self.name = name
        self.kind = kind
        self.ext = ext
        self.call = call
        self.up = False
        self.bridge: str | None = None
        self.twin: Channel | None = None  # the other half of a Local channel pair
        self.local_key: str | None = None
        self.on_behalf: str | None = (
            None  # an external leg dialled by a Local channel forwarding for an extension
        )


class Call:
    """One call, keyed by the ``Linkedid`` of its first channel, as it is seen so far."""

    __slots__ = (
        "abandoned",
        "anchor",
        "anchor_transferred",
        "answered_at",
        "answered_by",
        "call_id",
        "channels",
        "context",
        "dialed_trunk",
        "inbound",
        "last_seen",
        "origin_ext",
        "origin_kind",
        "pending_target",
        "progress_sent",
        "rang",
        "raw_caller",
        "raw_dest",
        "raw_dialed",
        "started_at",
        "transfers",
    )

    def __init__(
        self, call_id: str, *, started_at: float, origin_kind: ChannelKind, origin_ext: str | None
    ) -> None:
        self.call_id = call_id
        self.started_at = started_at
        self.last_seen = started_at
        self.origin_kind = origin_kind
        self.origin_ext = origin_ext
        self.anchor: Channel | None = None  # the channel whose hang-up ends the call (the caller's)
        self.anchor_transferred = False  # the anchor handed the call over: its hang-up does not end it
        self.channels: dict[str, Channel] = {}
        self.context = ""
        self.inbound = False
        self.dialed_trunk = False
        self.raw_caller: str | None = None
        self.raw_dialed: str | None = None
        self.raw_dest: str | None = None
        self.rang: list[str] = []
        self.answered_by: str | None = None
        self.answered_at: float | None = None
        self.transfers: list[str] = []
        self.pending_target: str | None = None  # a blind transfer's target until someone answers it
        self.abandoned = False
        self.progress_sent = False

    @property
    def outbound(self) -> bool:
        return not self.inbound and self.origin_kind == ChannelKind.ENDPOINT and self.dialed_trunk

    @property
    def internal(self) -> bool:
        return not self.inbound and not self.outbound

    def ring(self, ext: str | None) -> None:
        if ext is not None and ext not in self.rang:
            self.rang.append(ext)


def reach(anchor: Channel, bridges: Mapping[str, Mapping[Channel, None]]) -> tuple[list[str], bool]:
    """The answered sellers connected to ``anchor`` (nearest first), and whether an outside leg is.

    Connected means in one bridge, or linked through bridges and Local pairs: a walk over the few
    channels of one conversation.
    """
    sellers: list[str] = []
    outside_up = False
    seen = {anchor}
    stack = [anchor]
    while stack:
        channel = stack.pop()
        if channel.up and channel is not anchor:
            seller = channel.ext if channel.kind == ChannelKind.ENDPOINT else None
            if channel.kind == ChannelKind.EXTERNAL:
                seller = channel.on_behalf
                outside_up = outside_up or seller is None
            if seller is not None and seller not in sellers:
                sellers.append(seller)
        if channel.bridge is not None:
            for member in bridges.get(channel.bridge, ()):
                if member not in seen:
                    seen.add(member)
                    stack.append(member)
        twin = channel.twin
        if twin is not None and twin not in seen:
            seen.add(twin)
            stack.append(twin)
    return sellers, outside_up


def successor_of(call: Call) -> Channel | None:
    """Who holds the call once its anchor transferred it away: an outside party first, then a seller."""
    for kind in (ChannelKind.EXTERNAL, ChannelKind.ENDPOINT):
        for channel in call.channels.values():
            if channel.kind == kind:
                return channel
    return None

"""Turn the AMI events of Asterisk 12+ into ``CallEvent``s: in progress when answered, final when it ends.

A call is the set of channels sharing the ``Linkedid`` of its first channel (the *anchor*, the caller's
channel). It is **answered** once a seller's endpoint is connected to the anchor: in one bridge with it,
or through a chain of bridges and ``Local/...;1``/``;2`` pairs (queues, ring groups, follow-me). No single
field decides it: the PBX answering the caller's channel itself (greeting, queue music), an inner leg's
``DialStatus: ANSWER``, ``CANCEL`` with cause 0, ring-group losers' cause 26 and repeated ``Cdr``
records are all events the tracker sees without concluding from them. The call ends when the anchor
hangs up (when the anchor transferred the call away, the transferee takes its place). Which channels
exist and who is in which bridge is kept by the ``Switchboard`` (``telephony_bridge.ami.switchboard``).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence

from crm_core.domain.calls import CallEvent
from crm_core.domain.phones import mask
from telephony_bridge.ami.config import ChannelKind, TrackerConfig
from telephony_bridge.ami.publish import as_number, build_event, uid_epoch
from telephony_bridge.ami.state import Call, reach, successor_of
from telephony_bridge.ami.switchboard import Switchboard

_log = logging.getLogger("telephony_bridge.ami")

Event = Mapping[str, str]
_NOTHING: tuple[CallEvent, ...] = ()
_FINISHED_LIMIT = 50_000
_ENDPOINT, _LOCAL, _EXTERNAL = ChannelKind.ENDPOINT, ChannelKind.LOCAL, ChannelKind.EXTERNAL


class CallTracker:
    """Follows every call on one Asterisk; ``feed`` it each event, in order, and publish what it returns."""

    def __init__(
        self, config: TrackerConfig | None = None, *, clock: Callable[[], float] | None = None
    ) -> None:
        """``clock`` dates events without ``Timestamp``; lacking both, times come from ``Uniqueid``s."""
        self.config = config or TrackerConfig()
        self._classify = self.config.classifier().classify
        self._clock = clock
        self._calls: dict[str, Call] = {}
        self._board = Switchboard(self._classify)
        self._channels = self._board.channels  # by Uniqueid: read on every event
        self._finished: dict[str, float] = {}  # recently ended calls, whose late events are ignored
        self._last_t = 0.0
        self._handlers: dict[str, Callable[[Event], Sequence[CallEvent]]] = {
            "Newchannel": self._on_newchannel,
            "Newstate": self._on_newstate,
            "DialBegin": self._on_dial_begin,
            "DialEnd": self._on_dial_end,
            "BridgeEnter": self._on_bridge_enter,
            "BridgeLeave": self._on_bridge_leave,
            "BridgeDestroy": self._on_bridge_destroy,
            "LocalBridge": self._on_local_bridge,
            "Hangup": self._on_hangup,
            "BlindTransfer": self._on_blind_transfer,
            "AttendedTransfer": self._on_attended_transfer,
            "QueueCallerAbandon": self._on_queue_caller_abandon,
            "Rename": self._on_rename,
        }

    @property
    def in_flight(self) -> int:
        return len(self._calls)

    def feed(self, event: Event) -> Sequence[CallEvent]:
        """Take one AMI event; return the calls it answered (in progress) or ended (final), usually none."""
        handler = self._handlers.get(event.get("Event", ""))
        if handler is None:
            return _NOTHING
        try:
            return handler(event)
        except Exception as exc:  # a malformed packet must never stop the bridge
            _log.warning("skipped a malformed %s event: %r", event.get("Event"), exc)
            return _NOTHING

    def evict_stale(self, now: float | None = None) -> list[CallEvent]:
        """Close calls silent for longer than ``stale_after_s`` (their hang-up was lost) and return them."""
        moment = now if now is not None else self._now()
        limit = moment - self.config.stale_after_s
        closed = []
        for call in [call for call in self._calls.values() if call.last_seen < limit]:
            event = self._finish(call, call.last_seen)
            silent_min = (moment - call.last_seen) / 60
            who = mask(event.caller or event.raw_caller)
            _log.warning(
                "evicted call %s from %s: no hang-up seen for %.0f min; closed as %s",
                call.call_id,
                who,
                silent_min,
                event.status,
            )
            closed.append(event)
        for call_id in [key for key, ended in self._finished.items() if ended < limit]:
            del self._finished[call_id]
        return closed

    def close_all(self, *, ended_at: float | None = None) -> list[CallEvent]:
        """Close every call in flight from what was seen (the connection to Asterisk was lost)."""
        return [self._finish(call, ended_at or call.last_seen) for call in list(self._calls.values())]

    # -- channels and calls -------------------------------------------------------------------------------

    def _on_newchannel(self, e: Event) -> Sequence[CallEvent]:
        uid = e["Uniqueid"]
        if uid in self._channels:
            return _NOTHING
        linked = e.get("Linkedid") or uid
        if linked == uid:
            if uid not in self._calls and uid not in self._finished:
                self._start_call(e, uid)
            return _NOTHING
        call = self._calls.get(linked)
        if call is not None:
            channel = self._board.add(call, uid, e.get("Channel", ""))
            channel.up = e.get("ChannelState") == "6"
            call.last_seen = self._time(e)
        return _NOTHING

    def _start_call(self, e: Event, uid: str) -> None:
        name = e.get("Channel", "")
        kind, ext = self._classify(name)
        call = Call(
            uid, started_at=self._time(e), origin_kind=kind, origin_ext=ext if kind == _ENDPOINT else None
        )
        call.context = e.get("Context", "")
        call.inbound = call.context in self.config.inbound_contexts or kind == _EXTERNAL
        call.raw_caller = as_number(e.get("CallerIDNum"))
        call.raw_dialed = as_number(e.get("Exten"))
        self._calls[uid] = call
        anchor = self._board.add(call, uid, name)
        anchor.up = e.get("ChannelState") == "6"
        call.anchor = anchor

    def _on_newstate(self, e: Event) -> Sequence[CallEvent]:
        channel = self._channels.get(e.get("Uniqueid", ""))
        if channel is None:
            return _NOTHING
        state = e.get("ChannelState")
        call = channel.call
        if state == "6":
            channel.up = True
        elif state == "5" and channel.kind == _ENDPOINT and channel is not call.anchor:
            call.ring(channel.ext)
        if channel is call.anchor and call.raw_caller is None:
            call.raw_caller = as_number(e.get("CallerIDNum"))
        return _NOTHING

    def _on_rename(self, e: Event) -> Sequence[CallEvent]:
        channel = self._channels.get(e.get("Uniqueid", ""))
        new_name = e.get("Newname")
        if channel is not None and new_name:
            self._board.rename(channel, new_name)
        return _NOTHING

    def _on_local_bridge(self, e: Event) -> Sequence[CallEvent]:
        one = self._channels.get(e.get("LocalOneUniqueid", ""))
        two = self._channels.get(e.get("LocalTwoUniqueid", ""))
        if one is not None and two is not None:
            self._board.pair(one, two)
        return _NOTHING

    # -- dialling ------------------------------------------------------------------------------------------

    def _on_dial_begin(self, e: Event) -> Sequence[CallEvent]:
        dest_uid = e.get("DestUniqueid")
        if not dest_uid:
            return _NOTHING
        source = self._channels.get(e.get("Uniqueid", ""))
        dest = self._channels.get(dest_uid)
        if dest is None:
            owner = source.call if source is not None else self._calls.get(e.get("DestLinkedid", ""))
            if owner is None:
                return _NOTHING
            dest = self._board.add(owner, dest_uid, e.get("DestChannel", ""))
        call = dest.call
        call.last_seen = self._time(e)
        if dest.kind == _ENDPOINT:
            if dest is not call.anchor:
                call.ring(dest.ext)
        elif dest.kind == _EXTERNAL and source is not None:
            if source.uid == call.call_id and call.origin_kind == _ENDPOINT:
                call.dialed_trunk = True  # a seller's phone dialling through a trunk: an outbound call
                if call.raw_dest is None:
                    call.raw_dest = as_number(e.get("DialString", "").rpartition("/")[2].partition("@")[0])
            elif source.kind == _LOCAL and source.ext is not None:
                dest.on_behalf = source.ext  # a forward (follow-me) of that extension to an outside number
                call.ring(source.ext)
        return _NOTHING

    def _on_dial_end(self, e: Event) -> Sequence[CallEvent]:
        if e.get("DialStatus") == "ANSWER":
            dest = self._channels.get(e.get("DestUniqueid", ""))
            if dest is not None:
                dest.up = True
        return _NOTHING

    # -- bridges: where "answered" is decided -------------------------------------------------------------

    def _on_bridge_enter(self, e: Event) -> Sequence[CallEvent]:
        channel = self._channels.get(e.get("Uniqueid", ""))
        bridge_id = e.get("BridgeUniqueid")
        if channel is None or not bridge_id:
            return _NOTHING
        if e.get("ChannelState") == "6":
            channel.up = True
        members = self._board.enter(channel, bridge_id)
        moment = self._time(e)
        published: list[CallEvent] = []
        for call in dict.fromkeys(member.call for member in members):
            call.last_seen = moment
            event = self._check_connected(call, moment)
            if event is not None:
                published.append(event)
        return published

    def _on_bridge_leave(self, e: Event) -> Sequence[CallEvent]:
        channel = self._channels.get(e.get("Uniqueid", ""))
        if channel is not None and channel.bridge is not None and channel.bridge == e.get("BridgeUniqueid"):
            self._board.leave(channel)
        return _NOTHING

    def _on_bridge_destroy(self, e: Event) -> Sequence[CallEvent]:
        self._board.destroy(e.get("BridgeUniqueid", ""))
        return _NOTHING

    def _check_connected(self, call: Call, moment: float) -> CallEvent | None:
        """Answer the call when a seller is first connected to its anchor; later ones are transfers."""
        if call.anchor is None:
            return None
        sellers, outside_up = reach(call.anchor, self._board.bridges)
        if call.answered_by is None:
            if call.outbound:
                if not outside_up:
                    return None
                call.answered_by = call.origin_ext  # the seller who placed the call
            elif sellers:
                call.answered_by = sellers[0]
            else:
                return None
            call.answered_at = moment
            if call.internal:
                return None  # no pop-up card for a colleague's call
            call.progress_sent = True
            return build_event(self.config, call, ended_at=None)
        for ext in sellers:
            if ext != call.answered_by and ext not in call.transfers:
                call.transfers.append(ext)
                call.pending_target = None
        return None

    # -- the end, queues and transfers ---------------------------------------------------------------------

    def _on_hangup(self, e: Event) -> Sequence[CallEvent]:
        channel = self._channels.get(e.get("Uniqueid", ""))
        if channel is None:
            return _NOTHING
        call = channel.call
        moment = self._time(e)
        call.last_seen = moment
        self._board.drop(channel)
        if channel is not call.anchor:
            return _NOTHING
        if call.anchor_transferred:
            successor = successor_of(call)
            if successor is not None:
                call.anchor, call.anchor_transferred = successor, False
                return _NOTHING
        return (self._finish(call, moment),)

    def _on_queue_caller_abandon(self, e: Event) -> Sequence[CallEvent]:
        channel = self._channels.get(e.get("Uniqueid", ""))
        if channel is not None:
            channel.call.abandoned = True
        return _NOTHING

    def _on_blind_transfer(self, e: Event) -> Sequence[CallEvent]:
        if e.get("Result") != "Success":
            return _NOTHING
        transferer = self._channels.get(e.get("TransfererUniqueid", ""))
        transferee = self._channels.get(e.get("TransfereeUniqueid", ""))
        known = transferee or transferer
        if known is None:
            return _NOTHING
        call = known.call
        call.last_seen = self._time(e)
        call.pending_target = as_number(e.get("Extension")) or call.pending_target
        if transferer is not None and transferer is call.anchor:
            if transferee is not None and transferee.call is call:
                call.anchor = transferee
            else:
                call.anchor_transferred = True
        return _NOTHING

    def _on_attended_transfer(self, e: Event) -> Sequence[CallEvent]:
        if e.get("Result") != "Success":
            return _NOTHING
        first = self._channels.get(e.get("OrigTransfererUniqueid", ""))
        second = self._channels.get(e.get("SecondTransfererUniqueid", ""))
        one = first.call if first is not None else self._calls.get(e.get("OrigTransfererLinkedid", ""))
        two = second.call if second is not None else self._calls.get(e.get("SecondTransfererLinkedid", ""))
        moment = self._time(e)
        published: list[CallEvent] = []
        if one is not None and two is not None and one is not two:
            survivor, absorbed = (two, one) if one.internal and not two.internal else (one, two)
            transferer = first or second
            published += self._absorb(survivor, absorbed, transferer.ext if transferer else None, moment)
            event = self._check_connected(survivor, moment)
            if event is not None:
                published.append(event)
        for call in dict.fromkeys(c for c in (one, two) if c is not None and c.call_id in self._calls):
            call.last_seen = moment
            if call.anchor is not None and call.anchor in (first, second):
                call.anchor_transferred = True
        return published

    def _absorb(
        self, survivor: Call, absorbed: Call, transferer: str | None, moment: float
    ) -> list[CallEvent]:
        """Fold the consultation call of an attended transfer into the call it was made for."""
        published = [build_event(self.config, absorbed, ended_at=moment)] if absorbed.progress_sent else []
        for ext in absorbed.rang:
            if ext != transferer:
                survivor.ring(ext)
        target = (
            absorbed.origin_ext if absorbed.origin_ext not in (None, transferer) else absorbed.answered_by
        )
        if target is not None and target not in (transferer, survivor.answered_by, *survivor.transfers):
            survivor.transfers.append(target)
        for channel in absorbed.channels.values():
            channel.call = survivor
            survivor.channels[channel.uid] = channel
        absorbed.channels = {}
        del self._calls[absorbed.call_id]
        self._remember(absorbed.call_id, moment)
        return published

    def _finish(self, call: Call, moment: float) -> CallEvent:
        event = build_event(self.config, call, ended_at=moment)
        for channel in list(call.channels.values()):
            self._board.drop(channel)
        self._calls.pop(call.call_id, None)
        self._remember(call.call_id, moment)
        if call.abandoned:
            _log.debug("call %s: the caller abandoned the queue", call.call_id)
        return event

    def _remember(self, call_id: str, moment: float) -> None:
        self._finished[call_id] = moment
        if len(self._finished) > _FINISHED_LIMIT:
            for old in list(itertools.islice(self._finished, _FINISHED_LIMIT // 10)):
                del self._finished[old]

    # -- output ------------------------------------------------------------------------------------------

    def _time(self, e: Event) -> float:
        stamp = e.get("Timestamp")
        moment = None
        if stamp:
            try:
                moment = float(stamp)
            except ValueError:
                moment = None
            if moment is not None and not 0 < moment < 1e11:  # also refuses nan and inf
                moment = None
        if moment is None:
            moment = (
                self._clock() if self._clock is not None else max(self._last_t, uid_epoch(e.get("Uniqueid")))
            )
        if moment > self._last_t:
            self._last_t = moment
        return moment

    def _now(self) -> float:
        return self._clock() if self._clock is not None else self._last_t

"""The switchboard's picture of one Asterisk: channels, the bridges they are in, and Local twins."""

from __future__ import annotations

from telephony_bridge.ami.config import ChannelKind, TrackerConfig
from telephony_bridge.ami.state import Call
from telephony_bridge.ami.switchboard import Switchboard


def a_board_and_a_call() -> tuple[Switchboard, Call]:
    board = Switchboard(TrackerConfig().classifier().classify)
    call = Call("1.1", started_at=1.0, origin_kind=ChannelKind.EXTERNAL, origin_ext=None)
    return board, call


def test_the_two_halves_of_a_local_channel_become_twins_when_both_are_seen() -> None:
    board, call = a_board_and_a_call()
    one = board.add(call, "1.2", "Local/201@from-queue-0000001a;1")
    assert one.twin is None
    two = board.add(call, "1.3", "Local/201@from-queue-0000001a;2")
    assert (one.twin, two.twin) == (two, one)
    assert call.channels == {"1.2": one, "1.3": two}


def test_a_channel_that_hangs_up_leaves_its_call_its_bridge_and_its_twin() -> None:
    board, call = a_board_and_a_call()
    one = board.add(call, "1.2", "Local/201@from-queue-0000001a;1")
    two = board.add(call, "1.3", "Local/201@from-queue-0000001a;2")
    board.enter(one, "bridge-a")
    board.drop(one)
    assert "1.2" not in board.channels
    assert "1.2" not in call.channels
    assert two.twin is None
    assert "bridge-a" not in board.bridges


def test_entering_another_bridge_leaves_the_first_which_goes_when_empty() -> None:
    board, call = a_board_and_a_call()
    caller = board.add(call, "1.1", "PJSIP/trunk-00000001")
    seller = board.add(call, "1.2", "PJSIP/201-00000002")
    board.enter(caller, "bridge-a")
    board.enter(seller, "bridge-a")
    assert list(board.enter(caller, "bridge-b")) == [caller]
    assert list(board.bridges["bridge-a"]) == [seller]
    board.destroy("bridge-a")
    assert seller.bridge is None
    assert "bridge-a" not in board.bridges


def test_a_local_bridge_event_pairs_halves_whatever_their_names_said() -> None:
    board, call = a_board_and_a_call()
    one = board.add(call, "1.2", "Local/201@from-queue-0000001a;1")
    two = board.add(call, "1.3", "Local/202@from-queue-0000001b;2")
    board.pair(one, two)
    assert (one.twin, two.twin) == (two, one)
    late = board.add(call, "1.4", "Local/201@from-queue-0000001a;2")
    assert late.twin is None  # the first half's place is taken: no waiting half to pair with

"""Button actions: each declared action goes onto a button and comes back the same, the wire format of
buttons already in users' chats stays as it was, and no button over Telegram's 64 bytes is built."""

from __future__ import annotations

import string
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import actions, codec
from bot.core import actions as A
from bot.core.features import routers
from bot.core.views import Button

ACTIONS = sorted(actions.ACTIONS, key=lambda action: action.code)
CODEC = actions.codec()
TOKEN_CHARS = string.ascii_letters + string.digits + "._-"
BIGGEST = 2**63 - 1  # the biggest id the database stores: 13 base-36 digits
# Every action's code and the kinds of its fields, in order, as buttons in users' chats carry them
# ("i" a whole number, "s" a token). A change here would turn those buttons into "out of date" ones.
WIRE = {
    "no": "", "mn": "", "bd": "i", "bds": "", "col": "iis", "colp": "iiss", "my": "s", "cd": "i",
    "cdl": "is", "mr": "is", "bkl": "s", "nx": "ii", "pv": "ii", "mvm": "ii", "mv": "iii", "won": "ii",
    "lsm": "ii", "ls": "iii", "lso": "ii", "nt": "ii", "rmm": "ii", "rm": "iis", "rmt": "ii",
    "rmk": "iis", "rma": "si", "rmw": "i", "edm": "ii", "ed": "iis", "pr": "iis", "hs": "ii", "cl": "i",
    "sf": "iisi", "tf": "iisi",
    "lsn": "i", "ram": "ii", "ra": "iii", "tk": "ii", "ts": "", "tsp": "i", "tdn": "is", "tsz": "iss",
    "ndc": "i", "ndx": "i", "nds": "i", "wa": "ii", "csc": "si", "rp": "si", "rps": "s", "rpc": "si",
    "tm": "", "tms": "i", "dea": "i", "de": "iii", "ivm": "", "iv": "si", "ivr": "i", "lg": "s",
    "st": "", "stl": "", "zm": "is", "zs": "iss", "mo": "s", "tmx": "i", "cx": "", "cbd": "i",
    "ccr": "i", "cat": "i", "catd": "ii", "cig": "i", "dl": "ii", "cou": "is", "szm": "ii",
    "sz": "iis", "szd": "i", "lw": "ii", "ng": "i", "dgs": "s", "mpp": "i", "mpt": "isi",
    "bdf": "i", "bdp": "ii", "bdsp": "i", "ndf": "ii", "fnm": "ii", "fns": "iii", "fnv": "iii",
    "rpf": "sii", "rpsf": "si",
    "tga": "ii", "tgs": "i",
}  # fmt: skip


def fitting_values(kind: type[codec.Action]) -> st.SearchStrategy[tuple[int | str, ...]]:
    """Any values of ``kind``'s fields whose button fits in 64 bytes, the biggest numbers included."""
    numbers, tokens = kind.kinds.count("i"), kind.kinds.count("s")
    room = codec.MAX_BYTES - len(codec.VERSION + kind.code) - len(kind.kinds) - 13 * numbers
    longest = min(40, room // tokens) if tokens else 0
    return st.tuples(
        *(
            st.integers(0, BIGGEST) if letter == "i" else st.text(TOKEN_CHARS, max_size=longest)
            for letter in kind.kinds
        )
    )


@pytest.mark.parametrize("kind", ACTIONS, ids=lambda kind: kind.__name__)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_every_declared_action_comes_back_from_its_button_as_it_was_built(
    kind: type[codec.Action], data: st.DataObject
) -> None:
    action = kind(*data.draw(fitting_values(kind)))
    button = Button.act("label", action)
    assert button.data is not None
    assert len(button.data.encode()) <= codec.MAX_BYTES
    assert CODEC.decode(button.data) == action
    assert CODEC.decode(button.data.encode()) == action


def longest(kind: type[codec.Action]) -> codec.Action:
    """``kind`` with its biggest numbers and longest tokens."""
    return kind(*(BIGGEST if letter == "i" else "x" * 40 for letter in kind.kinds))


def size(kind: type[codec.Action]) -> int:
    """The bytes of ``kind``'s longest button."""
    return (
        len(codec.VERSION + kind.code)
        + len(kind.kinds)
        + 13 * kind.kinds.count("i")
        + 40 * kind.kinds.count("s")
    )


OVERSIZED = [kind for kind in ACTIONS if size(kind) > codec.MAX_BYTES]


@pytest.mark.parametrize("kind", OVERSIZED, ids=lambda kind: kind.__name__)
def test_a_button_over_64_bytes_is_refused_when_it_is_built(kind: type[codec.Action]) -> None:
    with pytest.raises(ValueError, match="over 64 bytes"):
        Button.act("label", longest(kind))


def test_the_longest_column_page_is_refused_and_a_shorter_one_is_not() -> None:
    assert A.ColumnPage in OVERSIZED
    with pytest.raises(ValueError, match="over 64 bytes"):
        Button.act("▶", A.ColumnPage(BIGGEST, BIGGEST, "n", "x" * 40))
    assert Button.act("▶", A.ColumnPage(5, 0, "n", "x" * 20)).data == "1colp:5:0:n:" + "x" * 20


def test_the_wire_format_of_buttons_in_users_chats_is_unchanged() -> None:
    assert {kind.code: kind.kinds for kind in ACTIONS} == WIRE
    assert codec.encode(A.Next(deal_id=75, version=5)) == "1nx:23:5"
    assert CODEC.decode("1mv:23:5:a") == A.Move(deal_id=75, version=5, stage_id=10)
    assert CODEC.decode("1tsz:1:1h:n") == A.TaskSnooze(task_id=1, option="1h", where="n")
    assert codec.encode(A.Noop()) == "1no"


@pytest.mark.parametrize("data", ["1dg:menu", "0nx:1:1", "2nx:1:1", "1nx:1", "1nx:1:1:1", "1zz"])
def test_a_retired_or_foreign_encoding_is_not_read_as_an_action(data: str) -> None:
    with pytest.raises(codec.BadPayload):
        CODEC.decode(data)


def test_every_action_has_one_handler_and_every_handler_an_action() -> None:
    handled = [kind for router in routers() for kind in router.buttons]
    assert sorted(handled, key=lambda kind: kind.code) == ACTIONS


def test_an_action_is_declared_with_a_short_code_and_fields_that_travel() -> None:
    with pytest.raises(TypeError, match="bad action"):

        class Floats(codec.Action, code="fl"):
            amount: float

    with pytest.raises(TypeError, match="bad action"):

        class LongCode(codec.Action, code="toolong"):
            deal_id: int

    with pytest.raises(ValueError, match="two actions"):
        codec.Codec([A.Next, type("Again", (codec.Action,), {"__annotations__": {}}, code="nx")])


def test_each_handler_takes_the_actions_it_is_registered_for() -> None:
    registered: dict[object, set[type[codec.Action]]] = {}
    for router in routers():
        for kind, handler in router.buttons.items():
            registered.setdefault(handler, set()).add(kind)
    for handler, kinds in registered.items():
        hints = typing.get_type_hints(handler)
        taken = set(typing.get_args(hints["p"])) or {hints["p"]}
        assert taken == kinds, handler

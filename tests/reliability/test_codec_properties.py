"""The button-payload codec: whatever comes back from Telegram (or a modified client) decodes to one of
our actions with well-typed arguments, or is refused cleanly; what we encode round-trips and fits in
Telegram's 64 bytes."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import actions, codec
from tests.reliability.nothing_lost import TALLY

EXAMPLES = settings(max_examples=300, deadline=None)
TOKEN_CHARS = string.ascii_letters + string.digits + "._-"
ACTIONS = sorted(actions.ACTIONS, key=lambda action: action.code)
CODEC = actions.codec()
Kind = type[codec.Action]


def arguments(kinds: str) -> st.SearchStrategy[tuple[int | str, ...]]:
    parts = [st.integers(0, 36**14) if kind == "i" else st.text(TOKEN_CHARS, max_size=40) for kind in kinds]
    return st.tuples(*parts)


payloads = st.sampled_from(ACTIONS).flatmap(lambda kind: st.tuples(st.just(kind), arguments(kind.kinds)))
near_misses = st.sampled_from(ACTIONS).flatmap(
    lambda kind: st.lists(st.one_of(st.text(max_size=8), st.integers(-5, 10**20).map(str)), max_size=4).map(
        lambda parts: codec.VERSION + kind.code + "".join(":" + p for p in parts)
    )
)


def valid(payload: codec.Action) -> bool:
    kinds, args = payload.kinds, payload.values()
    return len(kinds) == len(args) and all(
        (isinstance(a, int) and not isinstance(a, bool) and 0 <= a < 2**63)
        if k == "i"
        else isinstance(a, str)
        for k, a in zip(kinds, args, strict=True)
    )


@EXAMPLES
@given(st.one_of(st.binary(max_size=80), st.text(max_size=80), near_misses, st.none()))
def test_any_callback_data_is_one_of_our_actions_or_a_clean_refusal(data: bytes | str | None) -> None:
    TALLY.cases += 1
    try:
        payload = CODEC.decode(data)
    except codec.BadPayload:
        return
    assert CODEC.actions.get(payload.code) is type(payload) and valid(payload), payload


@EXAMPLES
@given(payloads)
def test_what_fits_in_64_bytes_round_trips_and_nothing_longer_is_made(
    payload: tuple[Kind, tuple[int | str, ...]],
) -> None:
    TALLY.cases += 1
    kind, args = payload
    try:
        data = codec.encode(kind(*args))
    except ValueError:
        # Refused only for what could not come back: over Telegram's 64 bytes, or a number past the
        # database's signed 64-bit ids.
        too_big = any(isinstance(a, int) and a >= 2**63 for a in args)
        parts = [codec._b36(a) if isinstance(a, int) else a for a in args]
        too_long = (
            len((codec.VERSION + kind.code + "".join(f":{p}" for p in parts)).encode()) > codec.MAX_BYTES
        )
        assert too_big or too_long, (kind, args)
        return
    assert len(data.encode()) <= codec.MAX_BYTES
    assert CODEC.decode(data) == kind(*args)
    assert CODEC.decode(data.encode()) == kind(*args)


@EXAMPLES
@given(payloads, st.integers(0, 63), st.binary(min_size=1, max_size=3))
def test_a_payload_with_a_byte_changed_decodes_to_a_valid_action_or_is_refused(
    payload: tuple[Kind, tuple[int | str, ...]], at: int, junk: bytes
) -> None:
    TALLY.cases += 1
    kind, args = payload
    try:
        data = codec.encode(kind(*args)).encode()
    except ValueError:
        return
    index = at % len(data)
    forged = data[:index] + junk + data[index + 1 :]
    try:
        decoded = CODEC.decode(forged)
    except codec.BadPayload:
        return
    assert valid(decoded)


@pytest.mark.parametrize(
    "value", [-1, True, 1.5, "1", None, "x" * 41, "a b", "é", "a:b", 2**63, 36**13], ids=repr
)
def test_arguments_of_the_wrong_kind_are_never_encoded(value: object) -> None:
    for kind in ACTIONS:
        kinds = kind.kinds
        for index, letter in enumerate(kinds):
            good: list[object] = [0 if k == "i" else "x" for k in kinds]
            good[index] = value
            if letter == "i" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                continue  # a big but valid number: refused only if it does not fit (checked above)
            if (
                letter == "s"
                and isinstance(value, str)
                and all(c in TOKEN_CHARS for c in value)
                and len(value) <= 40
            ):
                continue
            with pytest.raises(ValueError, match=kind.code):
                codec.encode(kind(*good))


NUMBERED = [kind for kind in ACTIONS if "i" in kind.kinds]


@EXAMPLES
@given(st.sampled_from(NUMBERED), st.integers(2**63, 36**13 - 1), st.integers(0, 2**63 - 1))
def test_a_number_past_the_databases_ids_is_refused_and_the_last_one_is_not(
    kind: Kind, past: int, fits: int
) -> None:
    TALLY.cases += 1
    first = kind.kinds.index("i")
    args: list[int | str] = [0 if letter == "i" else "x" for letter in kind.kinds]
    forged = (
        codec.VERSION
        + kind.code
        + "".join(
            f":{codec._b36(past) if i == first else codec._b36(a) if isinstance(a, int) else a}"
            for i, a in enumerate(args)
        )
    )
    with pytest.raises(codec.BadPayload):
        CODEC.decode(forged)
    args[first] = fits
    assert CODEC.decode(codec.encode(kind(*args))).values()[first] == fits

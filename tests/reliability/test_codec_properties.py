"""The button-payload codec: whatever comes back from Telegram (or a modified client) decodes to one of
our actions with well-typed arguments, or is refused cleanly; what we encode round-trips and fits in
Telegram's 64 bytes."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.core.actions  # noqa: F401  (registers every action the chat knows)
from bot.core import codec
from tests.reliability.nothing_lost import TALLY

EXAMPLES = settings(max_examples=300, deadline=None)
TOKEN_CHARS = string.ascii_letters + string.digits + "._-"
ACTIONS = sorted(codec.SCHEMA)


def arguments(kinds: str) -> st.SearchStrategy[tuple[int | str, ...]]:
    parts = [st.integers(0, 36**14) if kind == "i" else st.text(TOKEN_CHARS, max_size=40) for kind in kinds]
    return st.tuples(*parts)


payloads = st.sampled_from(ACTIONS).flatmap(lambda act: st.tuples(st.just(act), arguments(codec.SCHEMA[act])))
near_misses = st.sampled_from(ACTIONS).flatmap(
    lambda act: st.lists(st.one_of(st.text(max_size=8), st.integers(-5, 10**20).map(str)), max_size=4).map(
        lambda parts: codec.VERSION + act + "".join(":" + p for p in parts)
    )
)


def valid(payload: codec.Payload) -> bool:
    kinds = codec.SCHEMA[payload.act]
    return len(kinds) == len(payload.args) and all(
        (isinstance(a, int) and not isinstance(a, bool) and 0 <= a < 2**63)
        if k == "i"
        else isinstance(a, str)
        for k, a in zip(kinds, payload.args, strict=True)
    )


@EXAMPLES
@given(st.one_of(st.binary(max_size=80), st.text(max_size=80), near_misses, st.none()))
def test_any_callback_data_is_one_of_our_actions_or_a_clean_refusal(data: bytes | str | None) -> None:
    TALLY.cases += 1
    try:
        payload = codec.decode(data)
    except codec.BadPayload:
        return
    assert payload.act in codec.SCHEMA and valid(payload), payload


@EXAMPLES
@given(payloads)
def test_what_fits_in_64_bytes_round_trips_and_nothing_longer_is_made(
    payload: tuple[str, tuple[int | str, ...]],
) -> None:
    TALLY.cases += 1
    act, args = payload
    try:
        data = codec.encode(act, *args)
    except ValueError:
        # Refused only for what could not come back: over Telegram's 64 bytes, or a number past the
        # database's signed 64-bit ids.
        too_big = any(isinstance(a, int) and a >= 2**63 for a in args)
        parts = [codec._b36(a) if isinstance(a, int) else a for a in args]
        too_long = len((codec.VERSION + act + "".join(f":{p}" for p in parts)).encode()) > codec.MAX_BYTES
        assert too_big or too_long, (act, args)
        return
    assert len(data.encode()) <= codec.MAX_BYTES
    assert codec.decode(data) == codec.Payload(act, args)
    assert codec.decode(data.encode()) == codec.Payload(act, args)


@EXAMPLES
@given(payloads, st.integers(0, 63), st.binary(min_size=1, max_size=3))
def test_a_payload_with_a_byte_changed_decodes_to_a_valid_action_or_is_refused(
    payload: tuple[str, tuple[int | str, ...]], at: int, junk: bytes
) -> None:
    TALLY.cases += 1
    act, args = payload
    try:
        data = codec.encode(act, *args).encode()
    except ValueError:
        return
    index = at % len(data)
    forged = data[:index] + junk + data[index + 1 :]
    try:
        decoded = codec.decode(forged)
    except codec.BadPayload:
        return
    assert valid(decoded)


@pytest.mark.parametrize(
    "value", [-1, True, 1.5, "1", None, "x" * 41, "a b", "é", "a:b", 2**63, 36**13], ids=repr
)
def test_arguments_of_the_wrong_kind_are_never_encoded(value: object) -> None:
    for act, kinds in codec.SCHEMA.items():
        for index, kind in enumerate(kinds):
            good: list[object] = [0 if k == "i" else "x" for k in kinds]
            good[index] = value
            if kind == "i" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                continue  # a big but valid number: refused only if it does not fit (checked above)
            if (
                kind == "s"
                and isinstance(value, str)
                and all(c in TOKEN_CHARS for c in value)
                and len(value) <= 40
            ):
                continue
            with pytest.raises(ValueError, match=act):
                codec.encode(act, *good)  # type: ignore[arg-type]


NUMBERED = [act for act in ACTIONS if "i" in codec.SCHEMA[act]]


@EXAMPLES
@given(st.sampled_from(NUMBERED), st.integers(2**63, 36**13 - 1), st.integers(0, 2**63 - 1))
def test_a_number_past_the_databases_ids_is_refused_and_the_last_one_is_not(
    act: str, past: int, fits: int
) -> None:
    TALLY.cases += 1
    kinds = codec.SCHEMA[act]
    first = kinds.index("i")
    args: list[int | str] = [0 if kind == "i" else "x" for kind in kinds]
    forged = (
        codec.VERSION
        + act
        + "".join(
            f":{codec._b36(past) if i == first else codec._b36(a) if isinstance(a, int) else a}"
            for i, a in enumerate(args)
        )
    )
    with pytest.raises(codec.BadPayload):
        codec.decode(forged)
    args[first] = fits
    assert codec.decode(codec.encode(act, *args)).args[first] == fits

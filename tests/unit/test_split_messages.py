"""Splitting a long text into messages Telegram accepts: between lines, never inside one."""

from __future__ import annotations

from bot.core.features.followups import split_messages


def test_split_messages_never_cuts_a_line_and_keeps_every_one_in_order() -> None:
    lines = [f"line {i} " + "." * (i % 97) for i in range(400)]
    parts = split_messages(lines, limit=500)
    assert all(len(p) <= 500 for p in parts)
    assert "\n".join(parts).split("\n") == lines
    assert split_messages(["short", "text"]) == ["short\ntext"]


def test_split_messages_drops_blank_lines_only_at_the_seams() -> None:
    lines = ["a" * 60, "", "b" * 60, "", "c" * 60]
    parts = split_messages(lines, limit=64)
    assert parts == ["a" * 60, "b" * 60, "c" * 60]
    assert all(p.strip() for p in split_messages(["", "", "x"], limit=3))


def test_a_single_line_longer_than_a_message_is_shortened_not_split() -> None:
    [part] = split_messages(["<b>" + "y" * 5000 + "</b>"], limit=4000)
    assert len(part) <= 4000 and part.endswith("…") and "<b>" not in part

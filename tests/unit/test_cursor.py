"""Page cursors: short, opaque, and read back to the same place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.domain.errors import InvalidInput
from crm_core.domain.listing import Page

MOMENTS = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))


@settings(max_examples=200)
@given(MOMENTS, st.integers(min_value=1, max_value=2**63 - 1))
def test_a_cursor_reads_back_to_the_same_moment_and_deal(moment: datetime, deal_id: int) -> None:
    cursor = Page.encode_cursor(moment, deal_id)
    assert Page.decode_cursor(cursor) == (moment, deal_id)
    assert len(cursor.encode()) <= 40  # fits in a Telegram button's 64 bytes with room to spare


def test_a_deal_imported_with_a_date_before_1970_still_gets_a_cursor() -> None:
    moment = datetime(1960, 5, 1, 12, 30, tzinfo=UTC)
    assert Page.decode_cursor(Page.encode_cursor(moment, 3)) == (moment, 3)


@pytest.mark.parametrize("cursor", ["", "abc", "1.2.3", ".", "a.", "!!.1", "zzzzzzzzzzzzzzzzzzzz.1"])
def test_a_cursor_that_was_not_made_here_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        Page.decode_cursor(cursor)
    assert refusal.value.field == "cursor"

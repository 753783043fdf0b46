"""CSV cells a spreadsheet would run as formulas: written with a leading quote, read back exactly."""

from __future__ import annotations

import csv
import io
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from crm_core.services.transfer import neutralised, restored

FORMULA_START = "=+-@\t\r"
EXAMPLES = settings(max_examples=500, deadline=None)
# Texts made mostly of quotes and formula characters, where an escaping scheme goes wrong.
tricky = st.text(alphabet=st.sampled_from("'=+-@\t\r 1a\"|!"), max_size=12)


def runs(cell: str) -> bool:
    """Whether a spreadsheet would read ``cell`` as a formula (a plain number it reads as a number)."""
    return cell[:1] in tuple(FORMULA_START) and not re.fullmatch(r"[+-][0-9]+(\.[0-9]+)?", cell)


@EXAMPLES
@given(st.one_of(tricky, st.text()))
@example("'=1+1")
@example("''=1+1")
@example("'plain")
@example("+74951234567")
def test_any_text_comes_back_as_it_was(text: str) -> None:
    assert restored(neutralised(text)) == text


@EXAMPLES
@given(st.one_of(tricky, st.text()))
def test_no_written_cell_starts_like_a_formula(text: str) -> None:
    assert not runs(neutralised(text))


@EXAMPLES
@given(st.lists(st.one_of(tricky, st.text()), min_size=1, max_size=5))
def test_a_row_written_and_read_as_csv_gives_back_the_same_cells(cells: list[str]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralised(c) for c in cells])
    [row] = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert [restored(c) for c in row] == cells


def test_formulas_get_a_quote_and_numbers_and_plain_text_do_not() -> None:
    assert [neutralised(c) for c in ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]] == [
        "'=1+1",
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(A1)",
        "'\t=1",
        "'\r=1",
    ]
    assert [neutralised(c) for c in ["+74951234567", "-5", "1500.50", "ACME", "'quoted", "''=x"]] == [
        "+74951234567",
        "-5",
        "1500.50",
        "ACME",
        "'quoted",
        "'''=x",
    ]

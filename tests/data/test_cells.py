"""CSV cells guarded against spreadsheet formulas, and read back exactly."""

from __future__ import annotations

import pytest

from emotion_clf.data.cells import guard_cell, unguard_cell

TEXTS = [
    "=1+1",
    '=HYPERLINK("http://evil.example", "x")',
    "+33 6 12",
    "-5",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "'Tis the season",
    "'=already guarded by the person who typed it",
    "''",
    "'",
    "'\t",
    "",
    "plain text",
    "a = b",
]


@pytest.mark.parametrize("text", TEXTS)
def test_every_text_round_trips_exactly(text: str) -> None:
    assert unguard_cell(guard_cell(text)) == text


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_evaluate_starts_with_a_quote(text: str) -> None:
    assert guard_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["'Tis", "plain", "", "'", "a=b"])
def test_other_text_is_written_as_it_is(text: str) -> None:
    assert guard_cell(text) == text


def test_a_hand_written_guard_is_read_as_the_text_it_protects() -> None:
    # a spreadsheet exports '=x as =x; a cell '=x was protected by hand
    assert unguard_cell("'=x") == "=x"
    assert unguard_cell("'Tis") == "'Tis"

"""JSON from clients within bounds: depth, numbers, constants; every failure a DataError."""

from __future__ import annotations

import pytest

from emotion_clf.data.bounded_json import MAX_DEPTH, loads_bounded, nesting_depth
from emotion_clf.errors import DataError


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "more than 32 levels deep"),  # RecursionError
        (b"[" * 100_000, "more than 32 levels deep"),  # unbalanced: the parser would recurse
        (b"[" * 100_000 + b"]", "more than 32 levels deep"),
        (b'{"a": ' * 33 + b"1" + b"}" * 33, "more than 32 levels deep"),
        (b'{"a": 1' + b"0" * 5000 + b"}", "has 5001 digits"),  # ValueError at int()
        (b'{"a": 1.' + b"0" * 5000 + b"}", "5002 characters long"),
        (b'{"a": 1e999}', "1e999 is out of range"),
        (b'{"a": -1e999}', "out of range"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": Infinity}', "Infinity is not a JSON number"),
        (b"\xff{}", "not UTF-8 text"),
        (b'{"a": "unterminated [[[[', "not JSON"),
        (b"[}", "not JSON"),
        (b"", "not JSON"),
    ],
)
def test_what_once_crashed_or_was_not_json_is_a_data_error(body: bytes, fragment: str) -> None:
    with pytest.raises(DataError, match=fragment) as caught:
        loads_bounded(body)
    assert caught.value.field == "body"


def test_brackets_and_escapes_inside_strings_do_not_count() -> None:
    text = '"' + "[" * 100 + '\\"' + "{" * 100 + '\\\\"'
    assert loads_bounded(f'{{"a": {text}}}'.encode()) == {"a": "[" * 100 + '"' + "{" * 100 + "\\"}
    assert nesting_depth(b'["\\\\", ["]"]]', limit=5) == 2


def test_the_limit_is_exact_and_ordinary_values_parse() -> None:
    deepest = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert nesting_depth(deepest, limit=MAX_DEPTH) == MAX_DEPTH
    assert loads_bounded(deepest) is not None
    assert loads_bounded(
        b'\xef\xbb\xbf{"n": 12345678901234567890, "f": 1.5e308, "s": "\xc3\xa9"}'
    ) == {
        "n": 12345678901234567890,
        "f": 1.5e308,
        "s": "é",
    }

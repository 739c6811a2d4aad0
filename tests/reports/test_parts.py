"""The runner's and the site's parts, without a kernel."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from emotion_clf.cli.report import parse_parameters
from emotion_clf.errors import DataError, NotebookError
from emotion_clf.reports.keynumbers import KEY_NUMBERS_MIME, format_value, read_key_numbers
from emotion_clf.reports.records import ReportRecord, attach_record, stored_record
from emotion_clf.reports.runner import coerce_value
from emotion_clf.reports.site import add_to_index, read_index, write_index
from emotion_clf.training import family_params


def record(run_id: str, date: str, **numbers: object) -> ReportRecord:
    return ReportRecord(
        id=run_id,
        name="01-train",
        title="Train a model",
        date=date,
        seconds=1.0,
        parameters={"family": "tfidf", "data": ""},
        key_numbers=dict(numbers),  # type: ignore[arg-type]
        html=f"{run_id}.html",
        notebook=f"runs/{run_id}.ipynb",
    )


def test_key_numbers_are_read_back_in_the_recorded_order() -> None:
    payload = {"items": [["zeta", 1], ["alpha", 0.5]]}
    cell = new_code_cell("record_key_numbers(...)")
    cell.outputs = [new_output("display_data", data={KEY_NUMBERS_MIME: payload})]
    book = new_notebook(cells=[new_code_cell("x = 1"), cell])
    again = nbformat.reads(nbformat.writes(book), as_version=4)  # nbformat sorts keys
    assert list(read_key_numbers(again).items()) == [("zeta", 1), ("alpha", 0.5)]
    assert read_key_numbers(new_notebook()) == {}


def test_record_survives_the_notebook_metadata_in_order() -> None:
    book = new_notebook()
    original = record("r1", "2026-01-01T00:00:00+00:00", version=3, accuracy=0.5)
    attach_record(book, original)
    again = nbformat.reads(nbformat.writes(book), as_version=4)
    assert stored_record(again) == original
    assert stored_record(new_notebook()) is None


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("3", "int", 3),
        ("0.5", "float", 0.5),
        ("true", "bool", True),
        ("False", "bool", False),
        ("", "str", ""),
        ("3", "str", "3"),
        (2, "float", 2.0),
        (True, "bool", True),
    ],
)
def test_parameters_take_the_declared_type(value: object, kind: str, expected: object) -> None:
    assert coerce_value("p", value, kind) == expected
    assert type(coerce_value("p", value, kind)) is type(expected)


@pytest.mark.parametrize(
    ("value", "kind"), [("x", "int"), ("1.5", "int"), ("maybe", "bool"), (True, "int"), (1, "str")]
)
def test_parameters_of_the_wrong_type_are_refused(value: object, kind: str) -> None:
    with pytest.raises(NotebookError, match=f"is a {kind}"):
        coerce_value("p", value, kind)


def test_cli_parameters_are_name_value_pairs() -> None:
    assert parse_parameters(["-p", "family", "tfidf", "--parameter", "data", ""]) == {
        "family": "tfidf",
        "data": "",
    }
    with pytest.raises(NotebookError, match="NAME VALUE"):
        parse_parameters(["-p", "family"])
    with pytest.raises(NotebookError, match="unexpected argument"):
        parse_parameters(["family", "tfidf"])


def test_zero_means_the_family_default() -> None:
    assert family_params("minilm") == {}
    assert family_params("minilm", epochs=2, lr=0.0, max_steps=10) == {
        "epochs": 2,
        "max_steps": 10,
    }
    assert family_params("minilm", goemotions="") == {}
    assert family_params("minilm", goemotions="joint") == {"goemotions": "joint"}
    with pytest.raises(DataError, match="--goemotions only apply to --family minilm"):
        family_params("tfidf", goemotions="transfer")


def test_index_is_newest_first_and_escapes_what_it_shows(tmp_path: Path) -> None:
    old = record("a", "2026-01-01T00:00:00+00:00", note="<script>")
    new = record("b", "2026-02-01T00:00:00+00:00", accuracy=0.12345)
    write_index([old, new], reports_dir=tmp_path)
    assert [r.id for r in read_index(tmp_path) or []] == ["b", "a"]
    page = (tmp_path / "index.html").read_text()
    assert page.index("b.html") < page.index("a.html")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "0.123" in page and "<code>data</code> = <code>&quot;&quot;</code>" in page


def test_adding_to_an_unreadable_index_rebuilds_it(tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text("{not json")
    add_to_index(record("c", "2026-03-01T00:00:00+00:00"), reports_dir=tmp_path)
    data = json.loads((tmp_path / "index.json").read_text())
    assert [r["id"] for r in data["reports"]] == ["c"]


def test_values_are_shown_briefly() -> None:
    assert [format_value(v) for v in (None, True, 0.123456, 0.0, 3, "x")] == [
        "-",
        "yes",
        "0.123",
        "0.000",
        "3",
        "x",
    ]


def test_training_data_with_fewer_than_three_batches_is_refused_before_training(
    tmp_path: Path,
) -> None:
    from emotion_clf.config import Settings
    from emotion_clf.errors import DataError
    from emotion_clf.reports.workflow import training_data
    from tests.conftest import make_slice

    two = make_slice(tmp_path / "two", batches=2, rows=20)
    with pytest.raises(DataError, match="at least 3 batch files"):
        training_data(str(two), settings=Settings(home=tmp_path))
    three = make_slice(tmp_path / "three", batches=3, rows=20)
    assert training_data(str(three), settings=Settings(home=tmp_path)) == three

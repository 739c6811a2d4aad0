from __future__ import annotations

from pathlib import Path

import pytest

from emotion_clf.data.loader import load_dataset, read_csv_file
from emotion_clf.errors import DataError
from tests.conftest import HEADER, RAW, write_csv

GOOD = ["00:00:01,000", "00:00:02,500", "Hello there.", "neutral", "neutral", "neutral"]


def test_bundled_data_loads_with_counts_of_what_was_skipped() -> None:
    dataset = load_dataset(RAW)
    assert len(dataset.files) == 32
    assert len(dataset) == 31_127
    assert dataset.skipped_empty == 23
    assert dataset.skipped_unlabelled == 553
    assert set(dataset.frame["intensity"]) == {"mild", "moderate", "strong"}
    assert dataset.frame["emotion"].nunique() == 7
    assert dataset.frame["sub_emotion"].nunique() == 30


def test_both_time_formats(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "b.csv",
        [
            ["00:01:02,345", "00:01:03,000", "One.", "neutral", "neutral", "mild"],
            ["01:00:07", "01:00:09", "Two.", "happiness", "joy", "moderate"],
            ["00:00:01.5", "00:00:02", "Three.", "fear", "fear", "strong"],
        ],
    )
    frame, _ = read_csv_file(path)
    assert frame["start_s"].tolist() == [62.345, 3607.0, 1.5]
    assert frame["end_s"].tolist() == [63.0, 3609.0, 2.0]


def test_malformed_time_names_file_line_and_field(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "b.csv", [GOOD, ["1:2", "00:00:03", "Hi.", "neutral", "neutral", "mild"]]
    )
    with pytest.raises(DataError) as info:
        read_csv_file(path)
    assert info.value.line == 3 and info.value.field == "start_time"
    assert "b.csv, line 3" in str(info.value)


@pytest.mark.parametrize("header", ["sub-emotion", "sub_emotion", " Sub-Emotion ", "SUB_EMOTION"])
def test_sub_emotion_header_spellings(tmp_path: Path, header: str) -> None:
    path = write_csv(tmp_path / "b.csv", [GOOD], header=[*HEADER[:4], header, HEADER[5]])
    frame, _ = read_csv_file(path)
    assert frame["sub_emotion"].tolist() == ["neutral"]


def test_extra_columns_are_ignored_and_reported(tmp_path: Path) -> None:
    header = ["id", *HEADER, "annotator"]
    path = write_csv(tmp_path / "b.csv", [["7", *GOOD, "ann-1"]], header=header)
    frame, report = read_csv_file(path)
    assert frame["text"].tolist() == ["Hello there."]
    assert report.extra_columns == ("id", "annotator")


def test_empty_and_unlabelled_rows_are_skipped_and_counted(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "b.csv",
        [
            ["00:00:00,000", "00:00:15,000", "", "", "", ""],
            GOOD,
            [],
            ["00:00:03,000", "00:00:04,000", "Never annotated.", "", "", ""],
            ["", "", "   ", " ", "", ""],
        ],
    )
    frame, report = read_csv_file(path)
    assert len(frame) == 1
    assert (report.skipped_empty, report.skipped_unlabelled) == (3, 1)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("neutral", "mild"),
        ("mild", "mild"),
        ("moderate", "moderate"),
        ("intense", "strong"),
        ("overwhelming", "strong"),
        ("strong", "strong"),
        ("  Intense ", "strong"),
        ("MODERATE", "moderate"),
    ],
)
def test_intensity_normalisation(tmp_path: Path, written: str, expected: str) -> None:
    path = write_csv(tmp_path / "b.csv", [[*GOOD[:5], written]])
    frame, _ = read_csv_file(path)
    assert frame["intensity"].tolist() == [expected]


def test_label_case_and_whitespace(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", [["", "", "Wow!", " Surprise ", "CONFUSION", "Mild"]])
    frame, _ = read_csv_file(path)
    assert frame[["emotion", "sub_emotion", "intensity"]].values.tolist() == [
        ["surprise", "confusion", "mild"]
    ]


@pytest.mark.parametrize(
    ("row", "field", "value"),
    [
        (["", "", "Hi.", "joyful", "joy", "mild"], "emotion", "joyful"),
        (["", "", "Hi.", "happiness", "glee", "mild"], "sub_emotion", "glee"),
        (["", "", "Hi.", "happiness", "joy", "extreme"], "intensity", "extreme"),
    ],
)
def test_unknown_label_names_file_line_field_and_allowed_values(
    tmp_path: Path, row: list[str], field: str, value: str
) -> None:
    path = write_csv(tmp_path / "batch.csv", [GOOD, GOOD, row])
    with pytest.raises(DataError) as info:
        read_csv_file(path)
    error = info.value
    assert (error.line, error.field, error.value) == (4, field, value)
    assert error.allowed and len(error.allowed) >= 3
    message = str(error)
    assert "batch.csv, line 4" in message and value in message and "allowed values" in message


def test_unknown_label_is_never_mapped_to_something_else(tmp_path: Path) -> None:
    # "happy" looks like happiness, but only known spellings are accepted
    path = write_csv(tmp_path / "b.csv", [["", "", "Hi.", "happy", "joy", "mild"]])
    with pytest.raises(DataError, match="unknown emotion 'happy'"):
        read_csv_file(path)


def test_sub_emotion_contradicting_its_emotion_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", [["", "", "Hi.", "happiness", "anger", "mild"]])
    with pytest.raises(DataError, match="belongs to emotion 'anger', not 'happiness'") as info:
        read_csv_file(path)
    assert info.value.field == "sub_emotion"


def test_partially_labelled_row_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", [["", "", "Hi.", "happiness", "", "mild"]])
    with pytest.raises(DataError, match="no sub-emotion") as info:
        read_csv_file(path)
    assert info.value.line == 2


def test_labels_without_text_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", [["", "", "", "happiness", "joy", "mild"]])
    with pytest.raises(DataError, match="no text"):
        read_csv_file(path)


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", [GOOD[:5]], header=HEADER[:5])
    with pytest.raises(DataError, match="missing column\\(s\\) intensity"):
        read_csv_file(path)


def test_quotes_commas_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(
        "\ufeffstart_time,end_time,text,emotion,sub-emotion,intensity\n"
        '"00:00:01,000","00:00:02,000",'
        '"Well, he said ""no"", twice.",anger,annoyance,mild\n'.encode()
    )
    frame, _ = read_csv_file(path)
    assert frame["text"].tolist() == ['Well, he said "no", twice.']


def test_empty_file_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        read_csv_file(tmp_path / "empty.csv")
    with pytest.raises(DataError, match="no such file or folder"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "dir").mkdir()
    with pytest.raises(DataError, match="no .csv files"):
        load_dataset(tmp_path / "dir")


def test_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(
        b"start_time,end_time,text,emotion,sub-emotion,intensity\n,,caf\xe9,neutral,neutral,mild\n"
    )
    with pytest.raises(DataError, match="not UTF-8"):
        read_csv_file(path)


def test_fingerprint_depends_on_content_not_location(tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a" / "b.csv", [GOOD])
    b = write_csv(tmp_path / "b" / "b.csv", [GOOD])
    c = write_csv(tmp_path / "c" / "b.csv", [[*GOOD[:5], "moderate"]])
    assert load_dataset(a).fingerprint() == load_dataset(b).fingerprint()
    assert load_dataset(a).fingerprint() != load_dataset(c).fingerprint()

"""GoEmotions as a second source: the shipped files, our emotion mapping, multi-label rows
dropped and counted, and bad rows refused with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from emotion_clf.config import project_root
from emotion_clf.data import SCHEMA, load_goemotions
from emotion_clf.data.goemotions import read_labels
from emotion_clf.data.schema import SUB_EMOTION_PARENT
from emotion_clf.errors import DataError

SHIPPED = project_root() / "data" / "goemotions"


def folder_with(tmp_path: Path, train: str, labels: str | None = None) -> Path:
    folder = tmp_path / "goemotions"
    folder.mkdir(parents=True)
    if labels is None:
        shutil.copy(SHIPPED / "labels.txt", folder / "labels.txt")
    else:
        (folder / "labels.txt").write_text(labels, encoding="utf-8")
    (folder / "train.tsv").write_bytes(train.encode("utf-8"))
    return folder


def test_the_shipped_splits_keep_single_label_rows_and_count_the_others() -> None:
    counts = {}
    for split in ("train", "dev", "test"):
        rows = load_goemotions(SHIPPED, split=split)
        counts[split] = (rows.rows_read, len(rows), rows.skipped_multi_label)
        assert len(rows) + rows.skipped_multi_label == rows.rows_read
    assert counts == {
        "train": (43_410, 36_308, 7_102),
        "dev": (5_426, 4_548, 878),
        "test": (5_427, 4_590, 837),
    }
    for name in ("LICENSE", "README.md"):  # the licence and attribution travel with the data
        assert (SHIPPED / name).is_file()


def test_every_label_is_one_of_our_sub_emotions_and_the_emotion_is_ours() -> None:
    labels = read_labels(SHIPPED)
    assert len(labels) == 28
    assert set(SCHEMA.sub_emotions) - set(labels) == {"aversion", "melancholy"}
    rows = load_goemotions(SHIPPED, split="test")
    assert set(rows.frame["sub_emotion"]) == set(labels)
    pairs = set(zip(rows.frame["sub_emotion"], rows.frame["emotion"], strict=True))
    assert all(SUB_EMOTION_PARENT[sub] == emotion for sub, emotion in pairs)
    # where our hierarchy and GoEmotions' Ekman grouping differ, ours is used
    assert {("curiosity", "happiness"), ("disapproval", "disgust")} <= pairs
    assert ("embarrassment", "fear") in pairs
    assert "intensity" not in rows.frame.columns


def test_a_small_folder_reads_rows_drops_multi_label_ones_and_keeps_lines(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path,
        "I love it\t18\tc1\r\n"  # love; CRLF line end
        "So happy and proud\t17,21\tc2\n"  # joy + pride: dropped
        "  What?  \t6,6\tc3\n"  # one label written twice is one label
        "Thanks\t15\tc4\n",
    )
    rows = load_goemotions(folder)
    assert rows.summary() == {
        "path": str(folder / "train.tsv"),
        "rows": 3,
        "rows_read": 4,
        "skipped_multi_label": 1,
    }
    assert rows.texts == ["I love it", "What?", "Thanks"]
    assert rows.frame["line"].tolist() == [1, 3, 4]
    assert rows.frame["sub_emotion"].tolist() == ["love", "confusion", "gratitude"]
    assert rows.frame["emotion"].tolist() == ["happiness", "surprise", "happiness"]
    assert rows.head(2).texts == ["I love it", "What?"]


def test_the_fingerprint_follows_the_rows(tmp_path: Path) -> None:
    one = load_goemotions(folder_with(tmp_path / "a", "I love it\t18\tc1\n"))
    same = load_goemotions(folder_with(tmp_path / "b", "I love it\t18\tc9\n"))
    other = load_goemotions(folder_with(tmp_path / "c", "I love it\t17\tc1\n"))
    assert one.fingerprint() == same.fingerprint() != other.fingerprint()


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("fine\t0\tc1\nbad id\t28\tc2\n", 2, "unknown label id '28' (labels.txt has ids 0 to 27)"),
        ("fine\t0\tc1\nbad id\t3,x\tc2\n", 2, "unknown label id 'x'"),
        ("fine\t0\tc1\nnegative\t-1\tc2\n", 2, "unknown label id '-1'"),
        ("two columns\t4\n", 1, "expected 3 tab-separated columns"),
        ("fine\t0\tc1\n \t4\tc2\n", 2, "row has labels but no text"),
    ],
)
def test_bad_rows_are_refused_with_file_and_line(
    tmp_path: Path, content: str, line: int, message: str
) -> None:
    folder = folder_with(tmp_path, content)
    with pytest.raises(DataError) as caught:
        load_goemotions(folder)
    assert caught.value.file == str(folder / "train.tsv")
    assert caught.value.line == line
    assert message in str(caught.value)


def test_a_label_that_is_not_our_sub_emotion_is_refused(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "fine\t0\tc1\n", labels="admiration\nboredom\n")
    with pytest.raises(DataError) as caught:
        load_goemotions(folder)
    assert (caught.value.file, caught.value.line) == (str(folder / "labels.txt"), 2)
    assert "'boredom' is not a sub-emotion" in str(caught.value)
    assert caught.value.allowed is not None and "aversion" in caught.value.allowed


def test_unknown_split_and_missing_folder_are_clear(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown GoEmotions split 'validation'"):
        load_goemotions(SHIPPED, split="validation")
    with pytest.raises(DataError, match="no such folder"):
        load_goemotions(tmp_path / "absent")

"""The cross-validation benchmark on a small slice: every row is held out exactly once, and the
batch protocol never puts one video in two folds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emotion_clf import load_dataset

ROOT = Path(__file__).resolve().parents[1]


def run_cv(data: Path, out: Path, *extra: str) -> dict:
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "quality_cv.py"),
            "--families",
            "tfidf",
            "--folds",
            "2",
            "--data",
            str(data),
            "--out",
            str(out),
            *extra,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.read_text())


def test_batch_protocol_holds_out_each_video_once(small_data: Path, tmp_path: Path) -> None:
    result = run_cv(small_data, tmp_path / "cv.json")
    dataset = load_dataset(small_data)
    held = result["held_out_per_fold"]
    assert sorted(b for fold in held for b in fold) == sorted(dataset.frame["batch"].unique())
    tfidf = result["families"]["tfidf"]
    assert sum(f["test_rows"] for f in tfidf["folds"]) == len(dataset)
    for fold in tfidf["folds"]:
        assert fold["train_rows"] + fold["test_rows"] == len(dataset)
        assert fold["held_out_batches"] == held[fold["fold"]]
    assert sorted(tfidf["emotion_accuracy_per_batch"]) == sorted(dataset.frame["batch"].unique())
    accuracies = [f["metrics"]["emotion"]["accuracy"] for f in tfidf["folds"]]
    assert tfidf["emotion_accuracy_fold_mean"] == pytest.approx(sum(accuracies) / 2)


def test_row_protocol_spreads_videos_over_folds(small_data: Path, tmp_path: Path) -> None:
    result = run_cv(small_data, tmp_path / "rows.json", "--protocol", "row", "--only-folds", "0")
    tfidf = result["families"]["tfidf"]
    (fold,) = tfidf["folds"]
    # a random half of the rows: every batch sits in training and in the held-out fold
    assert len(fold["held_out_batches"]) == 4
    assert 0.3 < fold["test_rows"] / (fold["train_rows"] + fold["test_rows"]) < 0.7
    assert tfidf["emotion_accuracy_per_batch"] == {}

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
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality_cv_report import metrics  # noqa: E402


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
    folds = result["runs"]["tfidf"]["seeds"]["0"]
    assert sorted(folds) == ["0", "1"]
    assert sum(f["test_rows"] for f in folds.values()) == len(dataset)
    per_batch: dict[str, float] = {}
    for k, fold in folds.items():
        assert fold["train_rows"] + fold["test_rows"] == len(dataset)
        assert fold["held_out_batches"] == held[int(k)]
        per_batch.update(fold["emotion_accuracy_per_batch"])
        # the stored confusion matrices give the fold's metrics (the report pools them)
        for head, values in fold["metrics"].items():
            assert metrics(fold["confusion"][head]) == pytest.approx(values)
    assert sorted(per_batch) == sorted(dataset.frame["batch"].unique())


def test_row_protocol_spreads_videos_over_folds(small_data: Path, tmp_path: Path) -> None:
    result = run_cv(small_data, tmp_path / "rows.json", "--protocol", "row", "--only-folds", "0")
    (fold,) = result["runs"]["tfidf"]["seeds"]["0"].values()
    # a random half of the rows: every batch sits in training and in the held-out fold
    assert len(fold["held_out_batches"]) == 4
    assert 0.3 < fold["test_rows"] / (fold["train_rows"] + fold["test_rows"]) < 0.7

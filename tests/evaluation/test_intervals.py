"""Per-class intervals: wide on a handful of rows, narrow on many, and around the score."""

from __future__ import annotations

import numpy as np
import pytest

from emotion_clf.evaluation import HeadEvaluation
from emotion_clf.evaluation.intervals import f1_bootstrap, wilson
from tests.evaluation.builders import BASE, evaluation


def test_wilson_is_honest_at_zero_and_narrows_with_rows() -> None:
    low, high = wilson(0, 6)  # fear: 0 of 6 right is not "recall 0.000, certain"
    assert low == 0.0 and high == pytest.approx(0.390, abs=1e-3)
    assert wilson(3, 6) == pytest.approx((0.188, 0.812), abs=1e-3)
    few, many = wilson(30, 60), wilson(300, 600)
    assert many[1] - many[0] < few[1] - few[0]
    assert wilson(0, 0) == (0.0, 1.0)


def test_f1_bootstrap_surrounds_each_class_score() -> None:
    head = evaluation(BASE, seed=11)["emotion"]
    intervals = f1_bootstrap(head, resamples=300)
    scores = head.per_class()
    assert set(intervals) == set(scores)
    for label, (low, high) in intervals.items():
        assert low <= scores[label]["f1"] <= high
        assert 0.0 <= low < high <= 1.0


def test_a_rare_class_gets_a_wider_f1_interval() -> None:
    # both classes about 2/3 right; the misses go to a third class
    true = np.array([0] * 600 + [1] * 6)
    predicted = np.where(np.arange(606) % 3 == 0, 2, true)
    head = HeadEvaluation(labels=("common", "rare", "other"), y_true=true, y_pred=predicted)
    intervals = f1_bootstrap(head, resamples=500)
    width = {label: high - low for label, (low, high) in intervals.items()}
    assert width["rare"] > 3 * width["common"]


def test_a_feedback_set_with_one_label_is_scored_without_library_warnings() -> None:
    import warnings

    head = HeadEvaluation(labels=("a", "b"), y_true=np.array([1, 1]), y_pred=np.array([1, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # perf-report printed sklearn's warnings here
        scored = head.to_dict()
    assert scored["confusion_matrix"] == {"labels": ["b"], "matrix": [[2]]}
    assert scored["accuracy"] == 1.0

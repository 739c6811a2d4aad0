"""Paired statistics of two evaluations on the same rows."""

from __future__ import annotations

import numpy as np
import pytest

from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError
from emotion_clf.evaluation import (
    Evaluation,
    HeadEvaluation,
    bootstrap_macro_f1_diff,
    compare_evaluations,
    mcnemar_exact,
)
from tests.evaluation.builders import BASE, N, evaluation


def test_mcnemar_exact_matches_a_known_value() -> None:
    # 10 discordant pairs split 9 / 1: two-sided exact p = 22/1024
    candidate = np.array([True] * 9 + [False] * 1 + [True] * 5)
    baseline = np.array([False] * 9 + [True] * 1 + [True] * 5)
    test = mcnemar_exact(candidate, baseline)
    assert (test.candidate_only, test.baseline_only) == (9, 1)
    assert abs(test.p_value - 22 / 1024) < 1e-12


def test_bootstrap_interval_brackets_the_observed_difference() -> None:
    baseline = evaluation(BASE, seed=1)
    candidate = evaluation({"emotion": 0.65, "sub_emotion": 0.45, "intensity": 0.70}, seed=81)
    observed = candidate["emotion"].macro_f1 - baseline["emotion"].macro_f1
    low, high = bootstrap_macro_f1_diff(candidate["emotion"], baseline["emotion"], samples=500)
    assert low < observed < high
    assert 0.0 < high - low < 0.2


def test_comparison_refuses_unpaired_rows() -> None:
    a = evaluation(BASE, seed=1)
    heads = {
        h: HeadEvaluation(labels=a[h].labels, y_true=a[h].y_true[::-1].copy(), y_pred=a[h].y_pred)
        for h in HEADS
    }
    with pytest.raises(DataError, match="same rows"):
        compare_evaluations(a, Evaluation(heads=heads, rows=N))

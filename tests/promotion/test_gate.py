"""The gate on hand-built evaluations: each outcome and its reasons."""

from __future__ import annotations

import numpy as np

from emotion_clf.data.schema import HEADS, SCHEMA
from emotion_clf.evaluation import Evaluation, HeadEvaluation
from emotion_clf.promotion.compare import (
    bootstrap_macro_f1_diff,
    compare_evaluations,
    mcnemar_exact,
)
from emotion_clf.promotion.gate import GatePolicy, decide

POLICY = GatePolicy(bootstrap_samples=500)
N = 600
RNG = np.random.default_rng(7)
TRUTH = {head: RNG.integers(0, len(SCHEMA.labels(head)), size=N) for head in HEADS}


def with_accuracy(
    head: str, accuracy: float, *, seed: int, spare: set[int] | None = None
) -> np.ndarray:
    """Predictions equal to the truth on a share of rows, wrong elsewhere (never a spared class)."""
    rng = np.random.default_rng(seed)
    truth = TRUTH[head]
    classes = len(SCHEMA.labels(head))
    predicted = truth.copy()
    wrong = rng.random(N) > accuracy
    predicted[wrong] = (truth[wrong] + 1 + rng.integers(0, classes - 1, size=wrong.sum())) % classes
    if spare:  # keep spared classes exactly right
        keep = np.isin(truth, list(spare))
        predicted[keep] = truth[keep]
    return predicted


def evaluation(
    accuracies: dict[str, float], *, seed: int, spare: dict[str, set[int]] | None = None
) -> Evaluation:
    heads = {
        head: HeadEvaluation(
            labels=SCHEMA.labels(head),
            y_true=TRUTH[head],
            y_pred=with_accuracy(
                head, accuracies[head], seed=seed + i, spare=(spare or {}).get(head)
            ),
        )
        for i, head in enumerate(HEADS)
    }
    return Evaluation(heads=heads, rows=N)


BASE = {"emotion": 0.55, "sub_emotion": 0.45, "intensity": 0.70}


def test_a_clearly_better_candidate_is_promoted() -> None:
    baseline = evaluation(BASE, seed=1)
    candidate = evaluation({"emotion": 0.80, "sub_emotion": 0.60, "intensity": 0.80}, seed=11)
    decision = decide(candidate, baseline, POLICY)
    assert decision.promote, decision.reasons
    assert decision.decision == "promote"
    assert [c.name for c in decision.checks] == [
        "significant gain",
        "no significant accuracy loss",
        "no per-class regression",
        "other heads hold",
    ]
    assert decision.comparison is not None and decision.comparison["emotion"].macro_f1_ci[0] > 0


def test_no_significant_gain_is_held() -> None:
    baseline = evaluation(BASE, seed=1)
    candidate = evaluation(BASE, seed=21)  # same skill, different mistakes
    decision = decide(candidate, baseline, POLICY)
    assert not decision.promote
    failed = [c.name for c in decision.checks if not c.passed]
    assert "significant gain" in failed
    assert any("95% CI" in reason for reason in decision.failures)


def test_a_per_class_regression_is_held_even_with_a_better_average() -> None:
    fear = SCHEMA.emotions.index("fear")
    baseline = evaluation(BASE, seed=1, spare={"emotion": {fear}})  # perfect on fear
    candidate_preds = evaluation({"emotion": 0.85, "sub_emotion": 0.60, "intensity": 0.80}, seed=31)
    emotion = candidate_preds["emotion"]
    broken = emotion.y_pred.copy()
    broken[TRUTH["emotion"] == fear] = SCHEMA.emotions.index("neutral")  # loses every fear row
    heads = dict(candidate_preds.heads)
    heads["emotion"] = HeadEvaluation(labels=emotion.labels, y_true=emotion.y_true, y_pred=broken)
    candidate = Evaluation(heads=heads, rows=N)
    decision = decide(candidate, baseline, POLICY)
    assert not decision.promote
    regression = next(c for c in decision.checks if c.name == "no per-class regression")
    assert not regression.passed and "emotion/fear" in regression.detail


def test_a_significantly_worse_accuracy_is_held() -> None:
    baseline = evaluation({"emotion": 0.80, "sub_emotion": 0.6, "intensity": 0.8}, seed=1)
    candidate = evaluation({"emotion": 0.60, "sub_emotion": 0.6, "intensity": 0.8}, seed=41)
    decision = decide(candidate, baseline, POLICY)
    names = {c.name: c.passed for c in decision.checks}
    assert not names["no significant accuracy loss"] and not names["significant gain"]


def test_another_head_dropping_is_held() -> None:
    baseline = evaluation(BASE, seed=1)
    candidate = evaluation({"emotion": 0.80, "sub_emotion": 0.45, "intensity": 0.40}, seed=51)
    decision = decide(candidate, baseline, POLICY)
    other = next(c for c in decision.checks if c.name == "other heads hold")
    assert not decision.promote and not other.passed and "intensity" in other.detail


def test_first_model_passes_on_the_absolute_minimums_alone() -> None:
    good = decide(
        evaluation({"emotion": 0.7, "sub_emotion": 0.5, "intensity": 0.7}, seed=3), None, POLICY
    )
    assert good.promote and good.comparison is None
    assert all("no baseline yet" in c.detail for c in good.checks)
    poor = decide(
        evaluation({"emotion": 0.2, "sub_emotion": 0.1, "intensity": 0.3}, seed=3), None, POLICY
    )
    assert not poor.promote and any("minimum" in f for f in poor.failures)


def test_the_policy_decides() -> None:
    baseline = evaluation(BASE, seed=1)
    better = evaluation({**BASE, "emotion": 0.70}, seed=61)
    # only the emotion head changes; the other heads keep the baseline's predictions
    candidate = Evaluation(heads={**baseline.heads, "emotion": better["emotion"]}, rows=N)
    assert decide(candidate, baseline, POLICY).promote
    strict = GatePolicy(min_macro_f1_gain=0.2, bootstrap_samples=500)
    assert not decide(candidate, baseline, strict).promote


def test_decisions_are_deterministic() -> None:
    baseline, candidate = evaluation(BASE, seed=1), evaluation(BASE, seed=71)
    assert (
        decide(candidate, baseline, POLICY).to_dict()
        == decide(candidate, baseline, POLICY).to_dict()
    )


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
    import pytest

    from emotion_clf.errors import DataError

    a = evaluation(BASE, seed=1)
    heads = {
        h: HeadEvaluation(labels=a[h].labels, y_true=a[h].y_true[::-1].copy(), y_pred=a[h].y_pred)
        for h in HEADS
    }
    with pytest.raises(DataError, match="same rows"):
        compare_evaluations(a, Evaluation(heads=heads, rows=N))

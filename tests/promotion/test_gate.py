"""The gate on hand-built evaluations: each outcome and its reasons."""

from __future__ import annotations

from dataclasses import replace

from emotion_clf.config import GateSettings
from emotion_clf.data.schema import SCHEMA
from emotion_clf.evaluation import Evaluation, HeadEvaluation
from emotion_clf.promotion.gate import GatePolicy, decide
from tests.evaluation.builders import BASE, TRUTH, N, evaluation

POLICY = GatePolicy.from_section(GateSettings(bootstrap_samples=500))


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
    strict = replace(POLICY, min_macro_f1_gain=0.2)
    assert not decide(candidate, baseline, strict).promote


def test_decisions_are_deterministic() -> None:
    baseline, candidate = evaluation(BASE, seed=1), evaluation(BASE, seed=71)
    assert (
        decide(candidate, baseline, POLICY).to_dict()
        == decide(candidate, baseline, POLICY).to_dict()
    )

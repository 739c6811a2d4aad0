"""The notebook-facing tables and figures, on real results from the small slice."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from emotion_clf.config import get_settings
from emotion_clf.data.schema import HEADS
from emotion_clf.evaluation import delta_ci_figure, side_by_side_f1_figure
from emotion_clf.promotion import ComparisonReport, compare_models
from emotion_clf.reports import views, workflow
from emotion_clf.training import TrainResult, train_model


@pytest.fixture(scope="module")
def report(
    small_data: Path, tfidf_bundle: Path, tmp_path_factory: pytest.TempPathFactory
) -> ComparisonReport:
    # a weaker candidate: trained on two of the four batches
    weak = tmp_path_factory.mktemp("weak")
    for name in sorted(p.name for p in small_data.glob("*.csv"))[:2]:
        (weak / name).write_text((small_data / name).read_text())
    candidate = train_model("tfidf", data=weak, out=weak / "bundle", seed=0).bundle
    return compare_models(
        settings=get_settings(),
        candidate=str(candidate),
        baseline=str(tfidf_bundle),
        data=small_data,
    )


def test_comparison_table_shows_deltas_intervals_and_mcnemar(report: ComparisonReport) -> None:
    frame = views.comparison_frame(report)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(HEADS)
    c = report.decision.comparison
    assert c is not None
    low, high = c["emotion"].macro_f1_ci
    assert frame.loc["macro_f1 delta, 95% CI", "emotion"] == f"[{low:+.3f}, {high:+.3f}]"
    assert frame.loc["McNemar exact p", "emotion"] == f"{c['emotion'].mcnemar.p_value:.3g}"
    assert frame.loc["macro_f1", "emotion"].endswith(f"({c['emotion'].deltas['macro_f1']:+.3f})")


def test_disagreements_say_who_was_right(report: ComparisonReport) -> None:
    frame = views.disagreements_frame(report, "emotion", 500)
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == len(report.disagreements("emotion", 500)) > 0
    for row in frame.itertuples():
        assert row.baseline != row.candidate
        expected = {row.candidate: "candidate", row.baseline: "baseline"}.get(row.true)
        assert row.right == (expected or "both wrong")


def test_gate_and_class_tables_follow_the_decision(report: ComparisonReport) -> None:
    decision = views.decision_frame(report.decision)
    assert list(decision.index) == [c.name for c in report.decision.checks]
    deltas = views.class_deltas_frame(report, "emotion")
    assert isinstance(deltas, pd.DataFrame)
    assert list(deltas["delta"]) == sorted(deltas["delta"])
    numbers = workflow.comparison_key_numbers(report)
    assert numbers["decision"] == report.decision.decision
    assert numbers["disagreements.emotion"] == len(report.disagreements("emotion", 10_000))


def test_figures_draw_the_comparison(report: ComparisonReport) -> None:
    import matplotlib.pyplot as plt

    interval = delta_ci_figure(report.decision.comparison)
    bars = side_by_side_f1_figure(report.candidate_eval, report.baseline_eval, "intensity")
    assert interval is not None and bars is not None
    assert len(interval.axes[0].get_yticklabels()) == len(HEADS)
    plt.close("all")


def test_training_tables(weak_result: TrainResult) -> None:
    result = weak_result
    metrics = views.metrics_frame(result.evaluations)
    assert metrics.loc[("test", "emotion"), "accuracy"] == round(
        result.evaluations["test"]["emotion"].accuracy, 3
    )
    per_class = views.per_class_frame(result.evaluations["test"], "intensity")
    assert list(per_class["n"]) == sorted(per_class["n"], reverse=True)
    assert per_class["n"].sum() == result.evaluations["test"].rows
    for _, row in per_class.iterrows():  # each score with its interval around it
        low, high = map(float, row["recall 95% CI"].split("-"))
        assert low - 0.005 <= row["recall"] <= high + 0.005


def test_top_confusions_table(weak_result: TrainResult) -> None:
    test = weak_result.evaluations["test"]
    frame = views.top_confusions_frame(test, "sub_emotion", limit=5)
    assert list(frame.columns) == ["true", "predicted", "count", "share of true"]
    assert list(frame["count"]) == sorted(frame["count"], reverse=True) and len(frame) <= 5
    assert (frame["true"] != frame["predicted"]).all()

"""The drift report's own plots and its words, on hand-made samples of known shape."""

from __future__ import annotations

import numpy as np
import pytest

from emotion_clf.data.profile import ReferenceProfile
from emotion_clf.data.schema import HEADS, SCHEMA
from emotion_clf.monitoring.drift import CurrentData, DriftReport, Signal
from emotion_clf.monitoring.drift_runs import TEST_SPLIT, DriftRun
from emotion_clf.reports import monitoring_views
from emotion_clf.reports.drift_figures import distributions_figure, label_shares_figure

RNG = np.random.default_rng(0)


def labels(head: str, rows: int, skew: int) -> list[str]:
    names = SCHEMA.labels(head)
    return [names[min(len(names) - 1, int(i))] for i in RNG.poisson(skew, rows)]


def drift_run(current: str = TEST_SPLIT, drifted: bool = True) -> DriftRun:
    ref_rows, cur_rows = 400, 1000  # different sizes: counts would mislead, shares do not
    texts = tuple("x" * int(n) for n in RNG.integers(5, 80, ref_rows))
    reference = ReferenceProfile(
        texts=texts,
        batches={"b1": ref_rows},
        labels={h: tuple(labels(h, ref_rows, 1)) for h in HEADS},
        confidences={h: tuple(RNG.uniform(0.5, 1.0, ref_rows)) for h in HEADS},
        rows=ref_rows,
    )
    sample = CurrentData(
        description=current,
        lengths=[int(n) for n in RNG.integers(20, 200, cur_rows)],
        labels={h: labels(h, cur_rows, 3) for h in HEADS},
        confidences={h: list(RNG.uniform(0.2, 0.9, cur_rows)) for h in HEADS},
    )
    report = DriftReport(
        reference="v1's reference profile",
        current=current,
        reference_rows=ref_rows,
        current_rows=cur_rows,
        signals=[Signal("length", "KS", 0.0 if drifted else 0.5, 0.003, drifted, "")],
    )
    return DriftRun(report, {}, [], reference=reference, current=sample)


def test_label_shares_are_percentages_of_each_sample() -> None:
    run = drift_run()
    assert run.reference is not None and run.current is not None
    fig = label_shares_figure(run)
    assert fig is not None
    axes = {ax.get_title(): ax for ax in fig.axes}
    assert set(axes) == {f"predicted {h}" for h in HEADS}
    ax = axes["predicted emotion"]
    reference, current = ax.containers
    shown = [t.get_text() for t in ax.get_yticklabels()]
    for bars, values in (
        (reference, run.reference.labels["emotion"]),
        (current, run.current.labels["emotion"]),
    ):
        widths = [bar.get_width() for bar in bars]
        assert sum(widths) == pytest.approx(100)  # % of rows, not 400 against 1000 counts
        assert widths == pytest.approx(
            [100 * list(values).count(label) / len(values) for label in shown]
        )
    assert ax.get_xlabel() == "% of rows"
    assert "400 rows" in reference.get_label() and "1000 rows" in current.get_label()


def test_lengths_and_confidences_are_histograms_in_percent() -> None:
    fig = distributions_figure(drift_run())
    assert fig is not None
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["text length", *(f"{h} confidence" for h in HEADS)]
    for ax in fig.axes:
        assert len(ax.patches) == 2  # reference and current, one outline each
        for patch in ax.patches:
            # a step histogram's outline: its heights (the y of the vertices) sum to 100%
            heights = patch.get_path().vertices[1:-1:2, 1]
            assert heights.sum() == pytest.approx(100, abs=1e-6)
    assert label_shares_figure(DriftRun(drift_run().report, {}, [])) is None


def test_drift_on_the_test_split_says_it_is_expected_and_why() -> None:
    verdict = monitoring_views.drift_verdict(drift_run()).data
    assert "Drift is expected here" in verdict
    assert "never saw in training" in verdict
    elsewhere = monitoring_views.drift_verdict(drift_run(current="a log dump")).data
    assert "expected" not in elsewhere
    calm = monitoring_views.drift_verdict(drift_run(drifted=False)).data
    assert "expected" not in calm

"""perf-report's page and the performance notebook: n and intervals on every class, plots,
the site's style, and one table per version however many names it goes by."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from emotion_clf.config import get_settings
from emotion_clf.data.feedback import triage, write_feedback
from emotion_clf.monitoring.performance import PerformanceReport, run_performance_report
from emotion_clf.promotion import promote
from emotion_clf.reports.performance_page import feedback_per_class_frame, performance_page
from tests.cli.helpers import run_cli
from tests.evaluation.builders import BASE, evaluation


def report(*refs: str) -> PerformanceReport:
    return PerformanceReport(
        at="2026-01-05T10:00:00.000000+00:00",
        rows=600,
        models={ref: evaluation(BASE, seed=i) for i, ref in enumerate(refs)},
        labels={ref: f"v{i + 1} ({ref})" for i, ref in enumerate(refs)},
        files=1,
        quarantined=2,
    )


def test_each_class_carries_its_rows_and_intervals() -> None:
    frame = feedback_per_class_frame(report("baseline", "dynamic"), "emotion")
    per_class = evaluation(BASE, seed=0)["emotion"].per_class()
    assert list(frame[("", "n")]) == sorted(
        (s["support"] for s in per_class.values()), reverse=True
    )
    for label, row in frame.iterrows():
        low, high = map(float, row[("baseline: v1 (baseline)", "f1 95% CI")].split("-"))
        assert low <= round(per_class[str(label)]["f1"], 3) + 1e-3 and high >= low
        assert row[("baseline: v1 (baseline)", "recall 95% CI")]
    assert {top for top, _ in frame.columns} == {
        "",
        "baseline: v1 (baseline)",
        "dynamic: v2 (dynamic)",
    }


def test_the_page_is_in_the_sites_style_with_plots() -> None:
    earlier = [r.to_dict() for r in (report("baseline"), report("baseline"))]
    earlier[0]["at"] = "2026-01-01T10:00:00.000000+00:00"
    html = performance_page(report("baseline"), earlier)
    assert "href='../index.html'" in html  # back to the site
    assert ".card" in html and "system-ui" in html  # the index's stylesheet
    assert html.count("<img") == 4  # per-class F1 of the three heads, and the trend
    assert "<th>n</th>" in html and "f1 95% CI" in html
    assert "Trend" in html
    plt.close("all")


def test_one_version_under_two_names_is_scored_and_shown_once(home: Path) -> None:
    settings = get_settings()
    promote(settings=settings, version="2", force=True, reason="test", refresh=False)
    items = [
        {"text": t, "emotion": e, "sub_emotion": s, "intensity": "mild"}
        for t, e, s in [("I love it", "happiness", "love"), ("Go away", "anger", "annoyance")]
    ]
    write_feedback(triage(items, max_chars=2000).rows, folder=settings.feedback_dir)
    run = run_performance_report(
        settings=settings, models=["baseline", "dynamic"], render=performance_page
    )
    assert list(run.report.models) == ["baseline"]
    assert run.report.labels["baseline"] == "v2 (baseline = dynamic)"
    assert "dynamic is v2, the same version as baseline: scored once" in run.report.notes
    html = run.html_path.read_text()
    assert html.count("baseline: v2 (baseline = dynamic)") >= 2 and "dynamic: v2" not in html

    cli = run_cli("perf-report", home=home, env={"COLUMNS": "200"})
    assert cli.returncode == 0, cli.stderr
    assert "Warning" not in cli.stderr and "warn(" not in cli.stderr  # no sklearn noise
    assert "scored once" in cli.stderr
    assert "v2 (baseline = dynamic)" in cli.stdout and "dynamic = v2" not in cli.stdout

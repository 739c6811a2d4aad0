"""Every notebook executed through papermill on a small slice, in a fresh workspace.

The cycle: 01-train registers v1, 03-promote makes it the first baseline, a second version is
registered in-process, 02-compare-baseline compares it with v1, it is force-promoted in-process
and 04-rollback moves the baseline back. Each report's key numbers are checked against what
the registry, the bundle manifest and an in-process comparison say.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from emotion_clf.config import Settings, get_settings
from emotion_clf.data.feedback import triage, write_feedback, write_quarantine
from emotion_clf.models.bundle import read_manifest
from emotion_clf.monitoring import drift_history
from emotion_clf.promotion import compare_models, promote, promote_or_hold
from emotion_clf.registry import open_registry
from emotion_clf.reports import ReportRecord, publish_site, read_index, run_notebook
from emotion_clf.training import TrainResult
from tests.reports.helpers import NOTEBOOKS, kernel_pythonpath

pytestmark = pytest.mark.notebook


@dataclass
class Cycle:
    home: Path
    settings: Settings
    reports: Path
    small_data: Path
    records: dict[str, ReportRecord]
    comparison_v2_v1: dict[str, float | str]


@pytest.fixture(scope="module")
def cycle(
    small_data: Path, other_result: TrainResult, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cycle]:
    home = tmp_path_factory.mktemp("notebook-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EMOTION_CLF_HOME", str(home))
        mp.setenv("EMOTION_CLF_REFRESH_ENDPOINTS", "")
        mp.setenv("PYTHONPATH", kernel_pythonpath())
        get_settings.cache_clear()
        settings = get_settings()
        reports = settings.reports_dir

        def run(name: str, **parameters: object) -> ReportRecord:
            return run_notebook(name, parameters, notebooks_dir=NOTEBOOKS, reports_dir=reports)

        records = {"train": run("01-train", family="tfidf", data=str(small_data), seed="0")}
        records["promote"] = run("promote", data=str(small_data))
        # a second candidate (tfidf, seed 1), registered without a notebook to keep it short
        open_registry(settings).register(other_result)
        records["compare"] = run("compare", data=str(small_data), disagreements=5)
        expected = compare_models(settings=settings, data=small_data)
        comparison = expected.decision.comparison
        assert comparison is not None
        promote(settings=settings, force=True, reason="test the rollback notebook")
        records["rollback"] = run("rollback", reason="back to v1")
        items = [
            {"text": t, "emotion": e, "sub_emotion": s, "intensity": "mild"}
            for t, e, s in [
                ("I love this", "happiness", "love"),
                ("Go away", "anger", "annoyance"),
                ("Hm", "anger", "rage"),
            ]
        ]
        triaged = triage(items, max_chars=2000)
        write_feedback(triaged.rows, folder=settings.feedback_dir)
        write_quarantine(triaged.quarantined, folder=settings.feedback_dir, name="q.jsonl")
        records["perf"] = run("performance-report")
        records["drift"] = run("drift-report", current=str(small_data))
        yield Cycle(
            home=home,
            settings=settings,
            reports=reports,
            small_data=small_data,
            records=records,
            comparison_v2_v1={
                "decision": expected.decision.decision,
                "delta": comparison["emotion"].deltas["macro_f1"],
                "low": comparison["emotion"].macro_f1_ci[0],
                "high": comparison["emotion"].macro_f1_ci[1],
                "p": comparison["emotion"].mcnemar.p_value,
            },
        )
    get_settings.cache_clear()


def _html(cycle: Cycle, record: ReportRecord) -> str:
    return (cycle.reports / record.html).read_text(encoding="utf-8")


def test_train_report_holds_the_registered_metrics(cycle: Cycle) -> None:
    record = cycle.records["train"]
    numbers = record.key_numbers
    v1 = open_registry(cycle.settings).version("1")
    (bundle,) = sorted((cycle.home / "models").glob("tfidf-*"))
    manifest = read_manifest(bundle)
    assert numbers["version"] == 1 and numbers["family"] == "tfidf"
    for head in ("emotion", "sub_emotion", "intensity"):
        key = f"test.{head}.accuracy"
        assert numbers[key] == manifest.metrics["test"][head]["accuracy"]
        assert numbers[key] == pytest.approx(v1.metrics[key], abs=1e-6)
    assert record.parameters == {
        "family": "tfidf",
        "data": str(cycle.small_data),
        "seed": 0,
        "epochs": 0,
        "lr": 0.0,
        "batch_size": 0,
        "max_steps": 0,
        "goemotions": "",
        "teacher": "",
        "distill_temperature": 0.0,
        "distill_weight": 0.0,
    }
    page = _html(cycle, record)
    assert "Train a model" in page
    assert f"{numbers['test.emotion.accuracy']:.3f}" in page
    assert page.count("data:image/png;base64") >= 3  # per-class F1 x2, confusion matrices
    assert "train_model(" not in page  # code is hidden, outputs kept


def test_promote_report_records_the_first_baseline(cycle: Cycle) -> None:
    numbers = cycle.records["promote"].key_numbers
    assert numbers["outcome"] == "promoted"
    assert numbers["candidate"] == 1 and numbers["baseline"] == 1
    assert numbers["from_version"] is None and numbers["forced"] is False
    entries = open_registry(cycle.settings).audit.entries()
    first = entries[-1]
    assert (first.action, first.to_version, first.reason) == ("promote", "1", "gate passed")
    assert "Promoted" in _html(cycle, cycle.records["promote"])


def test_compare_report_holds_the_gate_numbers(cycle: Cycle) -> None:
    numbers = cycle.records["compare"].key_numbers
    expected = cycle.comparison_v2_v1
    assert numbers["candidate"] == "v2 (dynamic)" and numbers["baseline"] == "v1 (baseline)"
    assert numbers["decision"] == expected["decision"]
    assert numbers["delta.emotion.macro_f1"] == pytest.approx(expected["delta"])
    assert numbers["delta.emotion.macro_f1.ci95_low"] == pytest.approx(expected["low"])
    assert numbers["delta.emotion.macro_f1.ci95_high"] == pytest.approx(expected["high"])
    assert numbers["mcnemar.p"] == pytest.approx(expected["p"])
    page = _html(cycle, cycle.records["compare"])
    assert f"Gate decision: <strong>{str(expected['decision']).upper()}</strong>" in page
    assert "McNemar exact p" in page and "macro_f1 delta, 95% CI" in page


def test_rollback_report_and_registry_agree(cycle: Cycle) -> None:
    numbers = cycle.records["rollback"].key_numbers
    assert (numbers["from_version"], numbers["to_version"]) == (2, 1)
    assert open_registry(cycle.settings).designations()["baseline"] == "1"


def test_index_lists_every_report_newest_first(cycle: Cycle) -> None:
    records = read_index(cycle.reports)
    assert records is not None
    assert [r.name for r in records] == [
        "05-drift-report",
        "06-performance-report",
        "04-rollback",
        "02-compare-baseline",
        "03-promote",
        "01-train",
    ]
    train = next(r for r in records if r.name == "01-train")
    assert train.key_numbers == cycle.records["train"].key_numbers
    assert list(train.key_numbers)[:2] == ["version", "family"]  # the notebook's order
    page = (cycle.reports / "index.html").read_text(encoding="utf-8")
    for record in records:
        assert f"href='{record.html}'" in page
        assert (cycle.reports / record.html).is_file()
    assert f"{train.key_numbers['test.emotion.accuracy']:.3f}" in page
    assert "<code>family</code> = <code>tfidf</code>" in page
    assert page.index("Roll back the baseline") < page.index("Train a model")


def test_publish_rebuilds_the_site_from_the_executed_notebooks(cycle: Cycle) -> None:
    before = read_index(cycle.reports)
    (cycle.reports / "index.json").unlink()
    (cycle.reports / cycle.records["train"].html).unlink()
    index, records = publish_site(reports_dir=cycle.reports)
    assert index == cycle.reports / "index.html"
    assert records == before
    assert (cycle.reports / cycle.records["train"].html).is_file()
    executed = nbformat.read(cycle.reports / cycle.records["train"].notebook, as_version=4)
    assert executed.metadata.papermill.parameters["family"] == "tfidf"


def test_a_held_gate_is_an_outcome_not_an_error(cycle: Cycle) -> None:
    # after the rollback: baseline v1, dynamic v2; the gate decides as the compare report said
    outcome = promote_or_hold(settings=cycle.settings, data=str(cycle.small_data))
    expected = "held" if cycle.comparison_v2_v1["decision"] == "hold" else "promoted"
    assert (outcome.status, outcome.candidate) == (expected, "2")
    if expected == "held":
        assert outcome.result is None and outcome.held_reasons
        assert open_registry(cycle.settings).designations()["baseline"] == "1"


def test_performance_report_scores_the_feedback(cycle: Cycle) -> None:
    numbers = cycle.records["perf"].key_numbers
    assert numbers["rows"] == 2 and numbers["quarantined"] == 1
    assert {"baseline.emotion.accuracy", "dynamic.emotion.macro_f1"} <= set(numbers)


def test_drift_report_records_the_saved_verdict(cycle: Cycle) -> None:
    numbers = cycle.records["drift"].key_numbers
    [saved] = drift_history(cycle.settings.monitoring_dir / "drift")
    assert numbers["drift"] == saved["drift"] and numbers["score"] == saved["score"]
    assert numbers["current_rows"] == saved["current_rows"] == 480
    html = (cycle.reports / cycle.records["drift"].html).read_text()
    assert "iframe" in html and "Drift in column" in html  # Evidently's report, embedded

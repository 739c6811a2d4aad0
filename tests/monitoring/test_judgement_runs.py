"""A drift check and a performance report, each logged as an MLflow run (a real embedded
store) linked to the registered versions it judged (issue 27)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emotion_clf.config import get_settings
from emotion_clf.monitoring.drift_runs import run_drift_check
from emotion_clf.monitoring.performance import run_performance_report
from emotion_clf.registry import open_registry
from tests.cli.helpers import run_cli
from tests.conftest import slice_rows, write_csv


def test_a_drift_check_is_a_run_linked_to_the_model_it_checked(home: Path, tmp_path: Path) -> None:
    current = write_csv(tmp_path / "current.csv", slice_rows("train_data-0009", 150))
    run = run_drift_check(settings=get_settings(), model="baseline", current=[str(current)])
    registry = open_registry(get_settings(), read_only=True)
    logged = registry.client.get_run(run.summary["registry_run"])
    assert logged.data.tags["kind"] == "drift"
    assert logged.data.tags["model_version"] == "1"  # the baseline of the home fixture
    assert logged.data.tags["model_name"] == registry.model_name
    assert logged.data.metrics["drift"] == float(run.report.drifted)
    assert logged.data.metrics["current_rows"] == 150
    signal = run.report.signals[0]
    assert logged.data.metrics[f"{signal.name}_score"] == pytest.approx(signal.score)
    artifacts = [a.path for a in registry.client.list_artifacts(logged.info.run_id, "drift")]
    assert f"drift/{Path(run.summary['html']).name}" in artifacts


def test_a_performance_report_is_a_run_linked_to_both_versions(home: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "data" / "raw" / "train_data-0009.csv"
    imported = run_cli("feedback", "import", str(sample), "--limit", "80", home=home)
    assert imported.returncode == 0, imported.stderr
    run = run_performance_report(settings=get_settings(), models=["baseline", "dynamic"])
    assert run.registry_run is not None
    registry = open_registry(get_settings(), read_only=True)
    logged = registry.client.get_run(run.registry_run)
    tags = logged.data.tags
    assert tags["kind"] == "performance" and tags["model_versions"] == "1,2"
    assert (tags["baseline_version"], tags["dynamic_version"]) == ("1", "2")
    assert logged.data.metrics["rows"] == run.report.rows
    assert logged.data.metrics["dynamic_emotion_macro_f1"] == pytest.approx(
        run.report.models["dynamic"]["emotion"].macro_f1
    )

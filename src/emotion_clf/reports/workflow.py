"""What turns a notebook's parameters into package calls, and results into key numbers.

Notebooks hold no logic of their own (no ``def``, no ``class``); the few conversions they
need live here, where they are typed and tested. Domain rules do not: they are in
:mod:`emotion_clf.promotion` and :mod:`emotion_clf.training`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emotion_clf.config import Settings
from emotion_clf.data.loader import csv_files
from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError
from emotion_clf.monitoring.drift_runs import DriftRun
from emotion_clf.monitoring.performance import PerformanceRun
from emotion_clf.promotion.compare import ComparisonReport
from emotion_clf.promotion.lifecycle import LifecycleResult, PromotionOutcome
from emotion_clf.registry.base import ModelRegistry, VersionInfo
from emotion_clf.reports.kernel import report_page
from emotion_clf.training import TrainResult


def training_data(data: str, *, settings: Settings) -> Path:
    """The rows to train on: ``data`` if given, else the bundled batches.

    The report shows metrics on held-out batches, so the data must hold at least three batch
    files (train / validation / test); smaller data is refused here, before training.
    """
    path = Path(data).expanduser() if data else settings.raw_data_dir
    files = csv_files(path)
    if len(files) < 3:
        raise DataError(
            f"01-train needs at least 3 batch files to report held-out metrics; {path} has "
            f"{len(files)}. Train on smaller data with `emotion-clf train` instead",
            file=path,
        )
    return path


def optional(value: str) -> str | None:
    """A notebook's ``""`` parameter as None ("use the default")."""
    return value.strip() or None


def _metric(result: TrainResult, split: str, head: str, name: str) -> float | None:
    evaluation = result.evaluations.get(split)
    return evaluation[head].summary()[name] if evaluation is not None else None


def link_training_report(registry: ModelRegistry, version: VersionInfo) -> str | None:
    """Name this run's report page in ``version``'s model card (notebook 01, run as a
    report); the page, or None in JupyterLab, where no report is published."""
    page = report_page()
    if page is None or not registry.link_report(version.version, page):
        return None
    return page


def train_key_numbers(result: TrainResult, version: VersionInfo) -> dict[str, Any]:
    """The numbers a training report is known by: version, family, test metrics, time."""
    numbers: dict[str, Any] = {
        "version": int(version.version),
        "family": version.family,
        "rows": len(result.dataset),
        "seconds": round(result.seconds, 1),
    }
    for head in HEADS:
        numbers[f"test.{head}.accuracy"] = _metric(result, "test", head, "accuracy")
        numbers[f"test.{head}.macro_f1"] = _metric(result, "test", head, "macro_f1")
    return numbers


def comparison_key_numbers(report: ComparisonReport) -> dict[str, Any]:
    """Decision, the two models, and the primary head's deltas with their evidence."""
    decision = report.decision
    head = decision.policy.primary_head
    numbers: dict[str, Any] = {
        "decision": decision.decision,
        "candidate": report.candidate.label,
        "baseline": report.baseline.label if report.baseline else None,
        "rows": report.candidate_eval.rows,
        f"candidate.{head}.macro_f1": report.candidate_eval[head].macro_f1,
        f"candidate.{head}.accuracy": report.candidate_eval[head].accuracy,
        f"disagreements.{head}": len(report.disagreements(head, report.candidate_eval.rows)),
    }
    comparison = decision.comparison
    if comparison is not None:
        primary = comparison[head]
        low, high = primary.macro_f1_ci
        numbers.update(
            {
                f"baseline.{head}.macro_f1": primary.baseline["macro_f1"],
                f"delta.{head}.macro_f1": primary.deltas["macro_f1"],
                f"delta.{head}.macro_f1.ci95_low": low,
                f"delta.{head}.macro_f1.ci95_high": high,
                f"delta.{head}.accuracy": primary.deltas["accuracy"],
                "mcnemar.p": primary.mcnemar.p_value,
            }
        )
    return numbers


def promotion_key_numbers(outcome: PromotionOutcome, *, baseline: str | None) -> dict[str, Any]:
    """Outcome, the baseline after it, and what changed."""
    result = outcome.result
    return {
        "outcome": outcome.status,
        "candidate": int(outcome.candidate),
        "baseline": int(baseline) if baseline else None,
        "from_version": int(result.from_version) if result and result.from_version else None,
        "to_version": int(result.to_version) if result else None,
        "forced": bool(result and result.forced),
        "servers_refreshed": sum(r.ok for r in result.refresh) if result else 0,
        "servers_failed": sum(not r.ok for r in result.refresh) if result else 0,
    }


def rollback_key_numbers(result: LifecycleResult) -> dict[str, Any]:
    return {
        "from_version": int(result.from_version) if result.from_version else None,
        "to_version": int(result.to_version),
        "servers_refreshed": sum(r.ok for r in result.refresh),
        "servers_failed": sum(not r.ok for r in result.refresh),
    }


def drift_key_numbers(run: DriftRun) -> dict[str, Any]:
    """The verdict, its score, the rows compared and the signals that flagged."""
    report = run.report
    return {
        "drift": report.drifted,
        "score": round(report.score, 4),
        "current_rows": report.current_rows,
        "reference_rows": report.reference_rows,
        "signals_flagged": ", ".join(s.name for s in report.signals if s.drifted) or "none",
        "model": run.summary.get("model"),
    }


def performance_key_numbers(run: PerformanceRun) -> dict[str, Any]:
    """Rows scored, quarantined, and each model's emotion accuracy and macro-F1."""
    report = run.report
    numbers: dict[str, Any] = {"rows": report.rows, "quarantined": report.quarantined}
    scored = dict(report.models)
    if report.live is not None:
        scored["live"] = report.live
    for ref, evaluation in scored.items():
        numbers[f"{ref}.emotion.accuracy"] = evaluation["emotion"].accuracy
        numbers[f"{ref}.emotion.macro_f1"] = evaluation["emotion"].macro_f1
    return numbers


def sources(text: str) -> list[str]:
    """A notebook's comma-separated sources parameter as a list (empty: none)."""
    return [part.strip() for part in text.split(",") if part.strip()]

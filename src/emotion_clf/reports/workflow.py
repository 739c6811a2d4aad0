"""The steps the notebooks take that are more than one package call.

Notebooks hold no logic of their own (no ``def``, no ``class``): whatever turns their
parameters into calls, and results into key numbers, lives here where it is typed and
tested.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emotion_clf.config import Settings
from emotion_clf.data.loader import csv_files
from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError, GateHeldError
from emotion_clf.promotion.lifecycle import ComparisonReport, LifecycleResult, promote
from emotion_clf.registry.store import Registry, VersionInfo
from emotion_clf.training import TrainResult

logger = logging.getLogger(__name__)


def family_params(
    *, epochs: int = 0, lr: float = 0.0, batch_size: int = 0, max_steps: int = 0
) -> dict[str, Any]:
    """Training parameters for a family; 0 means "the family's default" and is left out."""
    given = {"epochs": epochs, "lr": lr, "batch_size": batch_size, "max_steps": max_steps}
    return {k: v for k, v in given.items() if v}


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


def bundle_dir(family: str, *, settings: Settings) -> Path:
    """Where a new bundle goes: ``<home>/models/<family>-<UTC time>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return settings.models_dir / f"{family}-{stamp}"


def _metric(result: TrainResult, split: str, head: str, name: str) -> float | None:
    evaluation = result.evaluations.get(split)
    return evaluation[head].summary()[name] if evaluation is not None else None


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


@dataclass(frozen=True)
class PromotionOutcome:
    """What a promotion run did: promoted, held by the gate, or nothing to do.

    A held gate is an outcome, not an error: the report says why, and the run succeeds.
    """

    status: str  # promoted | held | unchanged
    candidate: str
    result: LifecycleResult | None
    held_reasons: tuple[str, ...] = ()
    message: str = ""

    @property
    def summary(self) -> str:
        return self.message or (self.result.message if self.result else self.status)


def promote_or_hold(
    *,
    settings: Settings,
    version: str | None = None,
    force: bool = False,
    reason: str | None = None,
    data: str | None = None,
) -> PromotionOutcome:
    """Run :func:`~emotion_clf.promotion.lifecycle.promote`; a held gate becomes an outcome."""
    candidate = version or Registry.from_settings(settings).resolve("dynamic").version
    try:
        result = promote(
            settings=settings, version=candidate, force=force, reason=reason, data=data
        )
    except GateHeldError as exc:
        logger.info("gate held: %s", exc)
        return PromotionOutcome(
            "held", candidate, None, held_reasons=exc.reasons, message=str(exc).splitlines()[0]
        )
    return PromotionOutcome("promoted" if result.changed else "unchanged", candidate, result)


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

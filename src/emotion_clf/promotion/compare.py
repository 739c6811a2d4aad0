"""The comparison step of the lifecycle: candidate and baseline evaluated on the same rows,
and the gate's decision on them.

The statistics are :mod:`emotion_clf.evaluation.paired`; the decision is
:func:`emotion_clf.promotion.gate.decide`; this module resolves the two models, picks the
rows and keeps everything together for the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emotion_clf.config import Settings
from emotion_clf.data.loader import Dataset, load_dataset
from emotion_clf.data.split import split_by_batch
from emotion_clf.errors import ModelNotFoundError
from emotion_clf.evaluation.metrics import Evaluation
from emotion_clf.models.scoring import evaluate
from emotion_clf.promotion.gate import GateDecision, GatePolicy, decide
from emotion_clf.registry.fetch import ResolvedModel
from emotion_clf.registry.judgements import record_judgement
from emotion_clf.registry.resolve import resolve_model


def comparison_data(data: Path | str | None, *, settings: Settings) -> tuple[Dataset, str]:
    """The rows a comparison runs on: a given file or folder, else the bundled test split."""
    if data is not None:
        return load_dataset(data), str(data)
    return split_by_batch(
        load_dataset(settings.raw_data_dir)
    ).test, "the test split of the bundled data"


@dataclass
class ComparisonReport:
    candidate: ResolvedModel
    baseline: ResolvedModel | None
    candidate_eval: Evaluation
    baseline_eval: Evaluation | None
    decision: GateDecision
    data: str
    registry_run: str | None = None  # the run that records it, linked to both versions

    def disagreements(self, head: str = "emotion", limit: int = 20) -> list[dict[str, Any]]:
        """Rows where the two models predict differently, with who was right."""
        if self.baseline_eval is None:
            return []
        cand, base = self.candidate_eval[head], self.baseline_eval[head]
        rows = [i for i in range(self.candidate_eval.rows) if cand.y_pred[i] != base.y_pred[i]]
        return [
            {
                "text": self.candidate_eval.texts[i],
                "true": cand.labels[cand.y_true[i]],
                "candidate": cand.labels[cand.y_pred[i]],
                "baseline": base.labels[base.y_pred[i]],
            }
            for i in rows[:limit]
        ]

    def flat_metrics(self) -> dict[str, float]:
        """What a registry run records: each model's metrics per head, the gate's decision
        (1: promote) and the rows."""
        out: dict[str, float] = {"promote": float(self.decision.promote)}
        out["rows"] = float(self.candidate_eval.rows)
        for role, evaluation in (
            ("candidate", self.candidate_eval),
            ("baseline", self.baseline_eval),
        ):
            if evaluation is not None:
                out.update({f"{role}_{k}": v for k, v in evaluation.flat_metrics().items()})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "rows": self.candidate_eval.rows,
            "candidate": self.candidate.label,
            "baseline": self.baseline.label if self.baseline else None,
            **self.decision.to_dict(),
        }


def compare_resolved(
    candidate: ResolvedModel,
    baseline: ResolvedModel | None,
    *,
    settings: Settings,
    data: Path | str | None = None,
) -> ComparisonReport:
    """Evaluate two resolved models on the same rows and run the gate."""
    dataset, description = comparison_data(data, settings=settings)
    candidate_eval = evaluate(candidate.load(), dataset)
    baseline_eval = evaluate(baseline.load(), dataset) if baseline is not None else None
    decision = decide(candidate_eval, baseline_eval, GatePolicy.from_section(settings.gate))
    return ComparisonReport(
        candidate, baseline, candidate_eval, baseline_eval, decision, description
    )


def compare_models(
    *,
    settings: Settings,
    candidate: str = "dynamic",
    baseline: str = "baseline",
    data: Path | str | None = None,
) -> ComparisonReport:
    """Resolve candidate and baseline (paths, designations or versions), compare, gate;
    the result is logged to the registry as a run linked to the versions compared."""
    cand = resolve_model(candidate, settings=settings)
    try:
        base: ResolvedModel | None = resolve_model(baseline, settings=settings)
    except ModelNotFoundError:
        if baseline != "baseline":
            raise
        base = None  # no baseline yet: the gate uses the absolute minimums
    report = compare_resolved(cand, base, settings=settings, data=data)
    report.registry_run = record_judgement(
        "compare",
        {"candidate": cand, "baseline": base},
        settings=settings,
        metrics=report.flat_metrics(),
        params={
            "decision": report.decision.decision,
            "data": report.data,
            "candidate": cand.label,
            "baseline": base.label if base else "none",
        },
    )
    return report

"""Comparing two evaluations on the same rows: metric deltas, McNemar's exact test on
per-row correctness, a paired bootstrap confidence interval of the macro-F1 difference, and
per-class F1 changes. Pure functions of the two evaluations (the bootstrap is seeded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError
from emotion_clf.evaluation.metrics import Evaluation, HeadEvaluation


@dataclass(frozen=True)
class McNemar:
    """Exact McNemar test: ``b`` rows only the candidate gets right, ``c`` only the baseline."""

    candidate_only: int
    baseline_only: int
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate_only_correct": self.candidate_only,
            "baseline_only_correct": self.baseline_only,
            "p_value": self.p_value,
        }


@dataclass(frozen=True)
class ClassDelta:
    label: str
    support: int
    baseline_f1: float
    candidate_f1: float

    @property
    def delta(self) -> float:
        return self.candidate_f1 - self.baseline_f1

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "support": self.support,
            "baseline_f1": self.baseline_f1,
            "candidate_f1": self.candidate_f1,
            "delta": self.delta,
        }


@dataclass(frozen=True)
class HeadComparison:
    head: str
    candidate: dict[str, float]
    baseline: dict[str, float]
    macro_f1_ci: tuple[float, float]
    mcnemar: McNemar
    classes: tuple[ClassDelta, ...]

    @property
    def deltas(self) -> dict[str, float]:
        return {k: self.candidate[k] - self.baseline[k] for k in self.candidate}

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "baseline": self.baseline,
            "delta": self.deltas,
            "macro_f1_delta_ci95": list(self.macro_f1_ci),
            "mcnemar": self.mcnemar.to_dict(),
            "per_class": [c.to_dict() for c in self.classes],
        }


@dataclass(frozen=True)
class Comparison:
    rows: int
    heads: dict[str, HeadComparison]
    bootstrap_samples: int

    def __getitem__(self, head: str) -> HeadComparison:
        return self.heads[head]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "bootstrap_samples": self.bootstrap_samples,
            **{head: self.heads[head].to_dict() for head in HEADS},
        }


def mcnemar_exact(candidate_correct: np.ndarray, baseline_correct: np.ndarray) -> McNemar:
    b = int(np.sum(candidate_correct & ~baseline_correct))
    c = int(np.sum(~candidate_correct & baseline_correct))
    from scipy.stats import binomtest  # about half a second to import

    p = 1.0 if b + c == 0 else float(binomtest(min(b, c), b + c, 0.5).pvalue)
    return McNemar(candidate_only=b, baseline_only=c, p_value=p)


def _macro_f1_from_counts(tp: np.ndarray, predicted: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Macro-F1 per bootstrap row over the classes that occur (truth or prediction) in it."""
    denominator = predicted + true
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp, dtype=float), where=denominator > 0)
    present = denominator > 0
    return (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def bootstrap_macro_f1_diff(
    candidate: HeadEvaluation,
    baseline: HeadEvaluation,
    *,
    samples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Paired bootstrap CI of macro-F1(candidate) - macro-F1(baseline) over resampled rows.

    Each bootstrap sample draws row counts from a multinomial; per-class TP / predicted /
    true counts are then matrix products, so 1,000 samples of a few thousand rows take
    milliseconds.
    """
    n = len(candidate.y_true)
    classes = len(candidate.labels)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=samples).astype(np.float64)
    eye = np.eye(classes)
    true_onehot = eye[candidate.y_true]

    def macro(evaluation: HeadEvaluation) -> np.ndarray:
        predicted_onehot = eye[evaluation.y_pred]
        tp = weights @ (true_onehot * predicted_onehot)
        return _macro_f1_from_counts(tp, weights @ predicted_onehot, weights @ true_onehot)

    diffs = macro(candidate) - macro(baseline)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return float(low), float(high)


def _class_deltas(candidate: HeadEvaluation, baseline: HeadEvaluation) -> tuple[ClassDelta, ...]:
    cand, base = candidate.per_class(), baseline.per_class()
    out = []
    for label in candidate.labels:
        if label not in cand and label not in base:
            continue
        support = (cand.get(label) or base[label])["support"]
        out.append(
            ClassDelta(
                label=label,
                support=int(support),
                baseline_f1=base.get(label, {}).get("f1", 0.0),
                candidate_f1=cand.get(label, {}).get("f1", 0.0),
            )
        )
    return tuple(out)


def compare_evaluations(
    candidate: Evaluation, baseline: Evaluation, *, samples: int = 1000, seed: int = 0
) -> Comparison:
    """Compare two evaluations of the same rows, head by head."""
    if candidate.rows != baseline.rows or any(
        not np.array_equal(candidate[h].y_true, baseline[h].y_true) for h in HEADS
    ):
        raise DataError("the two evaluations are not on the same rows; compare needs paired data")
    heads = {}
    for head in HEADS:
        cand, base = candidate[head], baseline[head]
        heads[head] = HeadComparison(
            head=head,
            candidate=cand.summary(),
            baseline=base.summary(),
            macro_f1_ci=bootstrap_macro_f1_diff(cand, base, samples=samples, seed=seed),
            mcnemar=mcnemar_exact(cand.correct, base.correct),
            classes=_class_deltas(cand, base),
        )
    return Comparison(rows=candidate.rows, heads=heads, bootstrap_samples=samples)

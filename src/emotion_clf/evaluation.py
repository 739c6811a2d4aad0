"""Evaluating a predictor on labelled rows: per head accuracy, macro/weighted F1, per-class
precision/recall/F1 and the confusion matrix.

:func:`evaluate` computes an :class:`Evaluation` (which keeps the per-row labels, so two
evaluations on the same rows can be compared pairwise); rendering it as a table or JSON is the
caller's business.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from emotion_clf.data.loader import Dataset
from emotion_clf.data.schema import HEADS, LabelSchema
from emotion_clf.errors import DataError
from emotion_clf.models.base import Predictor

EVAL_BATCH_SIZE = 256


@dataclass(frozen=True)
class HeadEvaluation:
    """Metrics of one head, computed from aligned true and predicted label indices."""

    labels: tuple[str, ...]
    y_true: np.ndarray
    y_pred: np.ndarray

    @property
    def _present(self) -> list[int]:
        # labels that occur in the truth or the predictions, as scikit-learn's default
        return sorted(set(self.y_true.tolist()) | set(self.y_pred.tolist()))

    @property
    def correct(self) -> np.ndarray:
        return self.y_true == self.y_pred

    @property
    def accuracy(self) -> float:
        return float(accuracy_score(self.y_true, self.y_pred))

    @property
    def macro_f1(self) -> float:
        return float(
            f1_score(
                self.y_true, self.y_pred, labels=self._present, average="macro", zero_division=0
            )
        )

    @property
    def weighted_f1(self) -> float:
        return float(
            f1_score(
                self.y_true, self.y_pred, labels=self._present, average="weighted", zero_division=0
            )
        )

    def per_class(self) -> dict[str, dict[str, float]]:
        indices = list(range(len(self.labels)))
        precision, recall, f1, support = precision_recall_fscore_support(
            self.y_true, self.y_pred, labels=indices, zero_division=0
        )
        predicted = np.bincount(self.y_pred, minlength=len(self.labels))
        return {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(self.labels)
            if support[i] > 0 or predicted[i] > 0
        }

    def confusion(self) -> dict[str, Any]:
        present = self._present
        matrix = confusion_matrix(self.y_true, self.y_pred, labels=present)
        return {"labels": [self.labels[i] for i in present], "matrix": matrix.tolist()}

    def summary(self) -> dict[str, float]:
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "weighted_f1": self.weighted_f1,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "per_class": self.per_class(),
            "confusion_matrix": self.confusion(),
        }


@dataclass(frozen=True)
class Evaluation:
    """A predictor's results on a set of rows, per head."""

    heads: Mapping[str, HeadEvaluation]
    rows: int
    texts: tuple[str, ...] = ()
    confidences: Mapping[str, np.ndarray] | None = None

    def __getitem__(self, head: str) -> HeadEvaluation:
        return self.heads[head]

    def summary(self) -> dict[str, dict[str, float]]:
        return {head: self.heads[head].summary() for head in HEADS}

    def flat_metrics(self) -> dict[str, float]:
        """``{"emotion_accuracy": .., "emotion_macro_f1": .., ...}`` for registries and logs."""
        return {f"{h}_{k}": v for h, metrics in self.summary().items() for k, v in metrics.items()}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {head: self.heads[head].to_dict() for head in HEADS}
        out["rows"] = self.rows
        return out


def label_indices(values: Sequence[str], labels: Sequence[str], *, head: str) -> np.ndarray:
    lookup = {name: i for i, name in enumerate(labels)}
    try:
        return np.fromiter((lookup[v] for v in values), dtype=np.int64, count=len(values))
    except KeyError as exc:
        raise DataError(
            f"unknown {head} label {exc.args[0]!r}", field=head, allowed=labels
        ) from None


def evaluate(
    predictor: Predictor,
    dataset: Dataset,
    *,
    batch_size: int = EVAL_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """Predict every row of ``dataset`` and score each head against its labels."""
    if len(dataset) == 0:
        raise DataError("no labelled rows to evaluate")
    texts = dataset.texts
    predicted: dict[str, list[np.ndarray]] = {head: [] for head in HEADS}
    confidences: dict[str, list[np.ndarray]] = {head: [] for head in HEADS}
    for start in range(0, len(texts), batch_size):
        batch = predictor.predict_batch(texts[start : start + batch_size])
        for head in HEADS:
            predicted[head].append(np.asarray(batch.indices[head]))
            confidences[head].append(batch.confidences(head))
        if progress:
            progress(min(batch_size, len(texts) - start))
    return evaluation_from_predictions(
        schema=predictor.schema,
        dataset=dataset,
        predicted={h: np.concatenate(v) for h, v in predicted.items()},
        confidences={h: np.concatenate(v) for h, v in confidences.items()},
    )


def evaluation_from_predictions(
    *,
    schema: LabelSchema,
    dataset: Dataset,
    predicted: Mapping[str, np.ndarray],
    confidences: Mapping[str, np.ndarray] | None = None,
) -> Evaluation:
    heads = {}
    for head in HEADS:
        labels = schema.labels(head)
        y_true = label_indices(dataset.frame[head].tolist(), labels, head=head)
        heads[head] = HeadEvaluation(
            labels=labels, y_true=y_true, y_pred=np.asarray(predicted[head])
        )
    return Evaluation(
        heads=heads, rows=len(dataset), texts=tuple(dataset.texts), confidences=confidences
    )

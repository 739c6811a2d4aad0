"""Scoring predicted labels against true ones: per head accuracy, macro/weighted F1,
per-class precision/recall/F1 and the confusion matrix.

An :class:`Evaluation` keeps the per-row labels, so two evaluations on the same rows can be
compared pairwise (:mod:`.paired`); rendering it as a table or JSON is the caller's business.
Running a predictor over a dataset is :func:`emotion_clf.models.evaluate`, which ends here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from emotion_clf.data.schema import HEADS, LabelSchema
from emotion_clf.errors import DataError

if TYPE_CHECKING:
    from emotion_clf.data.loader import Dataset

# scikit-learn's metrics are imported where they are used: importing them costs about a second
# and a half, which every command line call would pay


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
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(self.y_true, self.y_pred))

    @property
    def macro_f1(self) -> float:
        from sklearn.metrics import f1_score

        return float(
            f1_score(
                self.y_true, self.y_pred, labels=self._present, average="macro", zero_division=0
            )
        )

    @property
    def weighted_f1(self) -> float:
        from sklearn.metrics import f1_score

        return float(
            f1_score(
                self.y_true, self.y_pred, labels=self._present, average="weighted", zero_division=0
            )
        )

    def per_class(self) -> dict[str, dict[str, float]]:
        from sklearn.metrics import precision_recall_fscore_support

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
        """Rows true, columns predicted, over the labels present. Counted directly: sklearn's
        ``confusion_matrix`` warns when a small feedback set holds a single label."""
        present = self._present
        position = {label: i for i, label in enumerate(present)}
        size = len(present)
        cells = [
            position[t] * size + position[p]
            for t, p in zip(self.y_true.tolist(), self.y_pred.tolist(), strict=True)
        ]
        matrix = np.bincount(np.asarray(cells, dtype=np.int64), minlength=size * size)
        return {
            "labels": [self.labels[i] for i in present],
            "matrix": matrix.reshape(size, size).tolist(),
        }

    def top_confusions(self, limit: int = 15) -> list[dict[str, Any]]:
        """The most frequent mistakes: (true, predicted) pairs that differ, most rows first,
        each with the share of the true class's rows it takes (what a 30-class matrix shows
        only to someone who reads every cell)."""
        classes = len(self.labels)
        counts = np.bincount(self.y_true * classes + self.y_pred, minlength=classes * classes)
        matrix = counts.reshape(classes, classes)
        np.fill_diagonal(matrix, 0)
        support = np.bincount(self.y_true, minlength=classes)
        pairs = sorted(zip(*np.nonzero(matrix), strict=True), key=lambda p: (-matrix[p], p))
        return [
            {
                "true": self.labels[t],
                "predicted": self.labels[p],
                "count": int(matrix[t, p]),
                "share of true": float(matrix[t, p] / support[t]),
            }
            for t, p in pairs[:limit]
        ]

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

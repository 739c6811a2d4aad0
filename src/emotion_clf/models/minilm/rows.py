"""What one fine-tuning trains on: token ids, gold targets, row weights, a teacher's soft labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from emotion_clf.data.loader import Dataset
from emotion_clf.data.schema import HEADS, LabelSchema
from emotion_clf.evaluation.metrics import label_indices
from emotion_clf.models.minilm.encoder import tokenize
from emotion_clf.models.minilm.tokenizer import Tokenizer


@dataclass(frozen=True)
class TrainingRows:
    """What one fine-tuning trains on: token ids, one target column per trained head, and
    which rows each epoch visits.

    ``targets`` holds label indices, ``-1`` where a row has no label for that head (a
    GoEmotions row has no intensity); the heads absent from ``targets`` are not trained.
    ``row_weights`` weighs each row's loss (per-source loss weights); ``None`` means the plain
    mean over the batch. ``epoch_rows`` lists, per epoch, the rows that epoch visits; ``None``
    means every row in every epoch. ``soft_targets``: a teacher's tempered distribution per
    head and row (distillation), and ``soft_rows`` which rows have one (``None``: all).
    """

    ids: list[list[int]]
    targets: Mapping[str, np.ndarray]
    row_weights: np.ndarray | None = None
    epoch_rows: Sequence[np.ndarray] | None = None
    soft_targets: Mapping[str, np.ndarray] | None = None
    soft_rows: np.ndarray | None = None

    def epoch_plan(self, epochs: int) -> list[np.ndarray]:
        if self.epoch_rows is None:
            return [np.arange(len(self.ids))] * epochs
        if len(self.epoch_rows) != epochs:
            raise ValueError(f"{len(self.epoch_rows)} epoch row sets for {epochs} epochs")
        return list(self.epoch_rows)

    @property
    def masked(self) -> bool:
        """Whether the loss needs the weighted, masked form (some row weight, label or
        teacher output absent)."""
        return (
            self.row_weights is not None
            or any((t < 0).any() for t in self.targets.values())
            or (self.soft_rows is not None and not bool(self.soft_rows.all()))
        )


def with_soft_targets(rows: TrainingRows, soft: Mapping[str, np.ndarray]) -> TrainingRows:
    """``rows`` with a teacher's distributions for its first ``len(soft[head])`` rows; the
    rows after them (none, when the teacher read every text) keep their gold labels only."""
    n_rows = len(rows.ids)
    n_soft = {len(v) for v in soft.values()}
    if len(n_soft) != 1 or next(iter(n_soft)) > n_rows:
        raise ValueError(f"teacher outputs for {sorted(n_soft)} rows, training rows {n_rows}")
    covered = n_soft.pop()
    padded = {}
    for head, values in soft.items():
        full = np.full((n_rows, values.shape[1]), 1.0 / values.shape[1], dtype=np.float32)
        full[:covered] = values
        padded[head] = full
    present = np.zeros(n_rows, dtype=bool)
    present[:covered] = True
    return replace(rows, soft_targets=padded, soft_rows=None if covered == n_rows else present)


def dataset_rows(
    tokenizer: Tokenizer, train: Dataset, *, schema: LabelSchema, max_length: int
) -> TrainingRows:
    """Transcript rows: every head has a label."""
    return TrainingRows(
        ids=tokenize(tokenizer, train.texts, max_length=max_length),
        targets=head_targets(train, schema=schema),
    )


def head_targets(data: Dataset, *, schema: LabelSchema) -> dict[str, np.ndarray]:
    """Label indices per head of transcript rows (training targets, validation loss)."""
    return {h: label_indices(data.frame[h].tolist(), schema.labels(h), head=h) for h in HEADS}

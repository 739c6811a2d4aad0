"""Running a predictor over labelled rows and scoring every head."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from emotion_clf.data.loader import Dataset
from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError
from emotion_clf.evaluation.metrics import Evaluation, evaluation_from_predictions
from emotion_clf.models.base import Predictor

EVAL_BATCH_SIZE = 256


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

"""Hand-built evaluations: predictions with a chosen accuracy per head, on fixed truth."""

from __future__ import annotations

import numpy as np

from emotion_clf.data.schema import HEADS, SCHEMA
from emotion_clf.evaluation import Evaluation, HeadEvaluation

N = 600
RNG = np.random.default_rng(7)
TRUTH = {head: RNG.integers(0, len(SCHEMA.labels(head)), size=N) for head in HEADS}


def with_accuracy(
    head: str, accuracy: float, *, seed: int, spare: set[int] | None = None
) -> np.ndarray:
    """Predictions equal to the truth on a share of rows, wrong elsewhere (never a spared class)."""
    rng = np.random.default_rng(seed)
    truth = TRUTH[head]
    classes = len(SCHEMA.labels(head))
    predicted = truth.copy()
    wrong = rng.random(N) > accuracy
    predicted[wrong] = (truth[wrong] + 1 + rng.integers(0, classes - 1, size=wrong.sum())) % classes
    if spare:  # keep spared classes exactly right
        keep = np.isin(truth, list(spare))
        predicted[keep] = truth[keep]
    return predicted


def evaluation(
    accuracies: dict[str, float], *, seed: int, spare: dict[str, set[int]] | None = None
) -> Evaluation:
    heads = {
        head: HeadEvaluation(
            labels=SCHEMA.labels(head),
            y_true=TRUTH[head],
            y_pred=with_accuracy(
                head, accuracies[head], seed=seed + i, spare=(spare or {}).get(head)
            ),
        )
        for i, head in enumerate(HEADS)
    }
    return Evaluation(heads=heads, rows=N)


BASE = {"emotion": 0.55, "sub_emotion": 0.45, "intensity": 0.70}

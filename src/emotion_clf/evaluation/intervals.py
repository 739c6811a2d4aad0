"""How sure a per-class score is: 95% intervals that grow as a class's rows get few.

A class with 6 rows and an F1 of 0.000 is weak evidence; with 600 it is a finding. Recall is
a proportion of the class's rows, so it gets Wilson's score interval (right at 0 and 1, where
the normal approximation says 0 +- 0); F1 is not a proportion, so it gets a percentile
bootstrap over the rows, all classes resampled together as the rows fall.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from emotion_clf.evaluation.metrics import HeadEvaluation

Z95 = 1.959964


def wilson(successes: int, n: int, *, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval of ``successes / n`` (``(0, 1)`` when ``n`` is 0)."""
    if n == 0:
        return 0.0, 1.0
    share = successes / n
    centre = share + z * z / (2 * n)
    spread = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def f1_bootstrap(
    head: HeadEvaluation, *, resamples: int = 1000, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """Per class, the 2.5 and 97.5 percentiles of its F1 over ``resamples`` bootstrap
    resamples of the rows (classes with no true and no predicted row are left out)."""
    classes = len(head.labels)
    rows = len(head.y_true)
    if rows == 0:
        return {}
    rng = np.random.default_rng(seed)
    offsets = (np.arange(resamples) * classes)[:, None]
    chunk = max(1, 2_000_000 // rows)  # bounded memory on large splits
    parts = []
    for start in range(0, resamples, chunk):
        count = min(chunk, resamples - start)
        picks = rng.integers(0, rows, size=(count, rows))
        true, predicted = head.y_true[picks], head.y_pred[picks]
        shift = offsets[:count]
        size = count * classes
        support = np.bincount((true + shift).ravel(), minlength=size).reshape(count, classes)
        guessed = np.bincount((predicted + shift).ravel(), minlength=size).reshape(count, classes)
        right = np.bincount((true + shift)[true == predicted], minlength=size)
        right = right.reshape(count, classes)
        both = support + guessed
        parts.append(np.divide(2 * right, both, out=np.zeros(both.shape), where=both > 0))
    f1 = np.vstack(parts)
    low, high = np.percentile(f1, [2.5, 97.5], axis=0)
    present = set(head.y_true.tolist()) | set(head.y_pred.tolist())
    return {head.labels[i]: (float(low[i]), float(high[i])) for i in sorted(present)}

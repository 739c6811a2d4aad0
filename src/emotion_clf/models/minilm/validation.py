"""What the epochs are judged by: per-head metrics of the validation rows from fp32 logits."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from emotion_clf.data.loader import Dataset
from emotion_clf.data.schema import HEADS, LabelSchema
from emotion_clf.evaluation.metrics import evaluation_from_predictions
from emotion_clf.models.base import DECODINGS, HeadProbabilities, decode, softmax


def probabilities_from_logits(logits: Mapping[str, np.ndarray]) -> HeadProbabilities:
    return HeadProbabilities(**{head: softmax(logits[head]) for head in HEADS})


def validation_metrics(
    logits: Mapping[str, np.ndarray], validation: Dataset, *, schema: LabelSchema, decoding: str
) -> dict[str, float]:
    """Per-head accuracy and macro-F1 for ``decoding``, and the selection score of both
    decodings (``score`` is the chosen one's)."""
    from emotion_clf.models.minilm.training import selection_score

    raw = probabilities_from_logits(logits)
    out: dict[str, float] = {}
    for name in DECODINGS:
        batch = decode(raw, schema, name)
        evaluation = evaluation_from_predictions(
            schema=schema, dataset=validation, predicted=batch.indices
        )
        flat = evaluation.flat_metrics()
        out[f"score_{name}"] = selection_score(flat)
        if name == decoding:
            out.update({k: v for k, v in flat.items() if not k.endswith("weighted_f1")})
    out["score"] = out[f"score_{decoding}"]
    return out

"""Running a predictor over labelled rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emotion_clf.data.loader import load_dataset
from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError
from emotion_clf.models import evaluate, load_bundle


def test_evaluate_batches_and_agrees_with_one_big_prediction(
    tfidf_bundle: Path, small_data: Path
) -> None:
    predictor = load_bundle(tfidf_bundle)
    dataset = load_dataset(small_data)
    seen: list[int] = []
    evaluation = evaluate(predictor, dataset, batch_size=97, progress=seen.append)
    assert sum(seen) == len(dataset) == evaluation.rows
    assert seen[:-1] == [97] * (len(seen) - 1)  # the last batch is the remainder
    whole = predictor.predict_batch(dataset.texts)
    for head in HEADS:
        assert np.array_equal(evaluation[head].y_pred, whole.indices[head])
        assert evaluation.confidences is not None
        assert np.allclose(evaluation.confidences[head], whole.confidences(head))


def test_evaluate_refuses_an_empty_dataset(tfidf_bundle: Path, small_data: Path) -> None:
    empty = load_dataset(small_data).subset([False] * len(load_dataset(small_data)))
    with pytest.raises(DataError, match="no labelled rows"):
        evaluate(load_bundle(tfidf_bundle), empty)

"""Scoring predicted labels against true ones, head by head."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emotion_clf.data.loader import Dataset
from emotion_clf.data.schema import HEADS, SCHEMA
from emotion_clf.errors import DataError
from emotion_clf.evaluation import HeadEvaluation, evaluation_from_predictions, label_indices

LABELS = ("a", "b", "c", "d")


def head(true: list[int], pred: list[int]) -> HeadEvaluation:
    return HeadEvaluation(labels=LABELS, y_true=np.array(true), y_pred=np.array(pred))


def test_accuracy_and_f1_by_hand() -> None:
    # a: 2 right of 3; b: 1 right, 1 false positive; c never occurs; d predicted once, wrongly
    h = head([0, 0, 0, 1], [0, 0, 1, 1])
    assert h.accuracy == pytest.approx(0.75)
    # f1(a) = 2*2/(2+3) = 0.8; f1(b) = 2*1/(2+1) = 2/3; c and d are absent everywhere
    assert h.macro_f1 == pytest.approx((0.8 + 2 / 3) / 2)
    assert h.weighted_f1 == pytest.approx((3 * 0.8 + 1 * 2 / 3) / 4)
    assert h.correct.tolist() == [True, True, False, True]


def test_macro_f1_counts_a_class_that_is_only_predicted() -> None:
    h = head([0, 0], [0, 3])  # d is predicted but never true: its F1 is 0 and it counts
    assert h.macro_f1 == pytest.approx((2 / 3 + 0.0) / 2)


def test_per_class_lists_only_classes_seen_in_truth_or_predictions() -> None:
    per_class = head([0, 0, 0, 1], [0, 0, 1, 3]).per_class()
    assert set(per_class) == {"a", "b", "d"}
    assert per_class["a"] == {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}
    assert per_class["d"]["support"] == 0 and per_class["d"]["precision"] == 0.0


def test_confusion_matrix_rows_are_true_labels_in_schema_order() -> None:
    confusion = head([0, 0, 1, 3], [0, 1, 1, 0]).confusion()
    assert confusion["labels"] == ["a", "b", "d"]
    assert confusion["matrix"] == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


def test_label_indices_name_the_unknown_label_and_the_allowed_ones() -> None:
    assert label_indices(["b", "a"], LABELS, head="emotion").tolist() == [1, 0]
    with pytest.raises(DataError, match="unknown emotion label 'e'") as caught:
        label_indices(["a", "e"], LABELS, head="emotion")
    assert caught.value.allowed == LABELS and caught.value.field == "emotion"


def test_an_evaluation_from_predictions_scores_every_head_of_the_rows() -> None:
    rows = [("happiness", "joy", "strong"), ("sadness", "grief", "mild"), ("fear", "fear", "mild")]
    frame = pd.DataFrame(
        [
            {"text": f"t{i}", "emotion": e, "sub_emotion": s, "intensity": n}
            for i, (e, s, n) in enumerate(rows)
        ]
    )
    dataset = Dataset(frame=frame)
    predicted = {
        h: np.array([SCHEMA.labels(h).index(r[k]) for r in rows]) for k, h in enumerate(HEADS)
    }
    predicted["emotion"] = predicted["emotion"].copy()
    predicted["emotion"][2] = SCHEMA.emotions.index("neutral")  # one mistake, on emotion only
    evaluation = evaluation_from_predictions(schema=SCHEMA, dataset=dataset, predicted=predicted)
    assert evaluation.rows == 3 and evaluation.texts == ("t0", "t1", "t2")
    assert evaluation["emotion"].accuracy == pytest.approx(2 / 3)
    assert evaluation["sub_emotion"].accuracy == 1.0
    flat = evaluation.flat_metrics()
    assert set(flat) == {f"{h}_{m}" for h in HEADS for m in ("accuracy", "macro_f1", "weighted_f1")}
    document = evaluation.to_dict()
    assert document["rows"] == 3
    assert set(document["emotion"]) == {
        "accuracy",
        "macro_f1",
        "weighted_f1",
        "per_class",
        "confusion_matrix",
    }

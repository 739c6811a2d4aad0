"""The one-line JSON record the minilm experiment scripts print after each epoch."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping


def emotion(metrics: Mapping[str, float]) -> tuple[float, float]:
    return round(metrics["emotion_accuracy"], 4), round(metrics["emotion_macro_f1"], 4)


def print_epoch(
    tag: str,
    epoch: int,
    started: float,
    val: Mapping[str, float],
    test: Mapping[str, float],
    **extra: object,
) -> None:
    """``val`` / ``test``: ``emotion_clf.models.minilm.validation_metrics`` of each split."""
    record = {
        "epoch": epoch,
        "sec": round(time.time() - started),
        "val_score": round(val["score"], 4),
        "val_emo": emotion(val),
        "test_emo": emotion(test),
        "test_sub": round(test["sub_emotion_accuracy"], 4),
        "test_int": round(test["intensity_accuracy"], 4),
        **extra,
    }
    print(tag, json.dumps(record), flush=True)

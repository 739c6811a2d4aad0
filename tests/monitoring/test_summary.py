"""The summary of predictions over timed segments."""

from __future__ import annotations

import pytest

from emotion_clf.data.schema import SCHEMA
from emotion_clf.data.transcript import Segment
from emotion_clf.models.base import HeadPrediction, Prediction
from emotion_clf.monitoring import summarise_segments


def _prediction(emotion: str, sub: str, intensity: str, confidence: float) -> Prediction:
    return Prediction(
        emotion=HeadPrediction(emotion, confidence, {}),
        sub_emotion=HeadPrediction(sub, confidence, {}),
        intensity=HeadPrediction(intensity, confidence, {}),
    )


def test_summary_counts_shares_and_durations() -> None:
    segments = [
        Segment(1, 0.0, 1.0, "a"),
        Segment(2, 1.0, 2.0, "b"),
        Segment(3, 2.0, 10.0, "c"),
    ]
    predictions = [
        _prediction("happiness", "joy", "mild", 0.5),
        _prediction("happiness", "joy", "strong", 0.7),
        _prediction("sadness", "grief", "strong", 0.9),
    ]
    summary = summarise_segments(segments, predictions, SCHEMA)
    assert summary["segments"] == 3
    assert summary["duration_s"] == 10.0
    assert summary["dominant_emotion"] == "happiness"  # most segments
    assert summary["dominant_by_duration"] == "sadness"  # most time
    assert summary["emotions"]["happiness"] == {
        "segments": 2,
        "share": 0.6667,
        "duration_s": 2.0,
        "duration_share": 0.2,
    }
    assert summary["emotions"]["fear"]["segments"] == 0
    assert summary["sub_emotions"] == {"joy": 2, "grief": 1}
    assert summary["intensities"] == {"mild": 1, "moderate": 0, "strong": 2}
    assert summary["mean_confidence"]["emotion"] == pytest.approx(0.7)

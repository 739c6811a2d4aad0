"""Summaries of predictions over timed segments (a transcript, a media file, a batch)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emotion_clf.data.schema import HEADS, LabelSchema
from emotion_clf.data.transcript import Segment
from emotion_clf.models.base import Prediction


def summarise_segments(
    segments: Sequence[Segment], predictions: Sequence[Prediction], schema: LabelSchema
) -> dict[str, Any]:
    """Emotion shares by segment count and by duration, sub-emotion and intensity counts."""
    n = len(segments)
    total = sum(s.end - s.start for s in segments)
    counts = dict.fromkeys(schema.emotions, 0)
    durations = dict.fromkeys(schema.emotions, 0.0)
    subs: dict[str, int] = {}
    intensities = dict.fromkeys(schema.intensities, 0)
    confidence = dict.fromkeys(HEADS, 0.0)
    for segment, prediction in zip(segments, predictions, strict=True):
        emotion = prediction.emotion.label
        counts[emotion] += 1
        durations[emotion] += segment.end - segment.start
        subs[prediction.sub_emotion.label] = subs.get(prediction.sub_emotion.label, 0) + 1
        intensities[prediction.intensity.label] += 1
        for head in HEADS:
            confidence[head] += getattr(prediction, head).confidence
    order = list(schema.emotions)
    return {
        "segments": n,
        "duration_s": round(total, 3),
        "dominant_emotion": max(order, key=lambda e: (counts[e], durations[e])),
        "dominant_by_duration": max(order, key=lambda e: (durations[e], counts[e])),
        "emotions": {
            e: {
                "segments": counts[e],
                "share": round(counts[e] / n, 4) if n else 0.0,
                "duration_s": round(durations[e], 3),
                "duration_share": round(durations[e] / total, 4) if total > 0 else 0.0,
            }
            for e in order
        },
        "sub_emotions": dict(sorted(subs.items(), key=lambda kv: (-kv[1], kv[0]))),
        "intensities": intensities,
        "mean_confidence": {h: round(confidence[h] / n, 4) if n else 0.0 for h in HEADS},
    }

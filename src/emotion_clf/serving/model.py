"""The served model record, a refresh's outcome, and the checks a model passes before serving.

Checksums and the registry's digest are verified when the bundle is loaded
(:func:`emotion_clf.models.bundle.load_bundle`); here come the label schema, a smoke
prediction and the warm-up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from emotion_clf.data.schema import HEADS, LabelSchema
from emotion_clf.errors import BundleError
from emotion_clf.models.base import Predictor

OFFLINE_REASON = "served from cache because the registry is unreachable"
SMOKE_TEXTS: tuple[str, ...] = (
    "I am so happy today, this is wonderful!",
    "This is terrible and I hate it.",
    "Wait, what? I did not expect that at all.",
    "I'm scared of what might happen next.",
    "ok",
)


@dataclass(frozen=True)
class LoadedModel:
    """A verified, warmed-up model and where it came from. Never mutated: swapped whole."""

    predictor: Predictor
    version: str | None
    designation: str | None
    digest: str
    family: str
    runtime: str
    created_at: str
    data_fingerprint: str
    schema_fingerprint: str
    metrics: Mapping[str, Any]
    path: Path
    loaded_at: datetime
    load_seconds: float
    offline: bool = False

    @property
    def label(self) -> str:
        return f"v{self.version}" if self.version else "an unversioned bundle"

    def describe(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "designation": self.designation,
            "family": self.family,
            "runtime": self.runtime,
            "bundle_digest": self.digest,
            "created_at": self.created_at,
            "data_fingerprint": self.data_fingerprint,
            "schema_fingerprint": self.schema_fingerprint,
            "metrics": dict(self.metrics),
            "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
            "load_seconds": round(self.load_seconds, 3),
            "offline": self.offline,
            "offline_reason": OFFLINE_REASON if self.offline else None,
        }


@dataclass(frozen=True)
class RefreshOutcome:
    trigger: str
    previous_version: str | None
    current_version: str | None
    swapped: bool
    duration_s: float
    message: str
    coalesced: bool = False
    offline: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous_version": self.previous_version,
            "current_version": self.current_version,
            "swapped": self.swapped,
            "duration_s": round(self.duration_s, 4),
            "message": self.message,
            "coalesced": self.coalesced,
            "offline": self.offline,
        }


def check_schema(predictor: Predictor, *, expected: LabelSchema) -> None:
    if predictor.schema != expected:
        raise BundleError(
            f"label schema {predictor.schema.fingerprint()} differs from the served one "
            f"({expected.fingerprint()})"
        )


def smoke_check(predictor: Predictor, texts: Sequence[str] = SMOKE_TEXTS) -> None:
    """One prediction on fixed texts: right shapes, finite probabilities summing to one.

    The raw head outputs are checked too: decoding turns a NaN row into a uniform one, which
    would otherwise pass as a (useless) prediction.
    """
    raw = predictor.predict_proba(list(texts))
    for head in HEADS:
        if not np.isfinite(np.asarray(getattr(raw, head), dtype=np.float64)).all():
            raise BundleError(f"smoke prediction: raw {head} probabilities are not finite")
    batch = predictor.predict_batch(list(texts))
    if len(batch) != len(texts):
        raise BundleError(f"smoke prediction returned {len(batch)} rows for {len(texts)} texts")
    for head in HEADS:
        probs = np.asarray(getattr(batch.probabilities, head))
        width = len(predictor.schema.labels(head))
        if probs.shape != (len(texts), width):
            raise BundleError(f"smoke prediction: {head} has shape {probs.shape}")
        if not np.isfinite(probs).all():
            raise BundleError(f"smoke prediction: {head} probabilities are not finite")
        if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
            raise BundleError(f"smoke prediction: {head} probabilities do not sum to 1")


def warm_up(predictor: Predictor, sizes: Sequence[int]) -> None:
    """Run the batch sizes the server will use once, so the first requests are not slow."""
    for size in sorted(set(sizes)):
        predictor.predict_batch([SMOKE_TEXTS[i % len(SMOKE_TEXTS)] for i in range(size)])

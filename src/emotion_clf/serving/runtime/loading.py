"""Loading a model for serving: the served record, a refresh's outcome, and
:func:`load_verified`, the one function that loads, verifies and warms a bundle up.

Checksums and the registry's digest are verified when the bundle is loaded
(:func:`emotion_clf.models.load_bundle`); then come the label schema, a smoke prediction and
the warm-up. Only a model that passed all of them is ever swapped in.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from emotion_clf.contracts import RefreshAnswer
from emotion_clf.data.schema import HEADS, LabelSchema
from emotion_clf.errors import BundleError
from emotion_clf.models.base import Predictor
from emotion_clf.models.bundle import read_manifest
from emotion_clf.registry.fetch import ResolvedModel

OFFLINE_REASON = "served from cache because the registry is unreachable"


def offline_text(reason: str | None) -> str:
    """What ``/ready`` and ``/model`` say of a model served from the cache."""
    return f"served from cache because {reason}" if reason else OFFLINE_REASON


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
    offline_reason: str | None = None  # why the registry's copy is not served (public text)

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
            "offline_reason": offline_text(self.offline_reason) if self.offline else None,
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

    def answer(self) -> RefreshAnswer:
        """What ``POST /refresh-model`` answers (and the promotion fan-out reads)."""
        return RefreshAnswer(
            previous_version=self.previous_version,
            current_version=self.current_version,
            swapped=self.swapped,
            duration_s=round(self.duration_s, 4),
            message=self.message,
            coalesced=self.coalesced,
            offline=self.offline,
        )


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


def load_verified(
    resolved: ResolvedModel,
    *,
    expected_schema: LabelSchema,
    warmup_sizes: Sequence[int],
    started: float | None = None,
) -> LoadedModel:
    """Load a fetched bundle, verify it (checksums and the registry's digest, the label
    schema, a smoke prediction), warm it up, and describe it. Blocking: run it in a thread.
    Raises :class:`BundleError` (or the registry's errors) when anything fails.

    ``started`` (a :func:`time.perf_counter` value) counts the fetch into ``load_seconds``.
    """
    started = time.perf_counter() if started is None else started
    manifest = read_manifest(resolved.path)
    predictor = resolved.load()  # verifies every checksum and the registry's digest
    check_schema(predictor, expected=expected_schema)
    smoke_check(predictor)
    warm_up(predictor, warmup_sizes)
    return LoadedModel(
        predictor=predictor,
        version=resolved.version,
        designation=resolved.designation,
        digest=resolved.digest or "",
        family=manifest.family,
        runtime=manifest.runtime,
        created_at=manifest.created_at,
        data_fingerprint=manifest.data_fingerprint,
        schema_fingerprint=manifest.schema.fingerprint(),
        metrics=manifest.metrics,
        path=resolved.path,
        loaded_at=datetime.now(UTC),
        load_seconds=time.perf_counter() - started,
        offline=resolved.offline,
        offline_reason=resolved.offline_reason,
    )


def release_freed_memory(*, replaced: bool = True) -> None:
    """After a model load: hand a replaced model's memory back, and keep what is loaded out of
    later garbage collections.

    Dropping a model frees its tensors, but glibc keeps the freed pages in its heap, and each
    new model lands in fresh ones: a server that swaps minilm bundles grew swap after swap before
    it levelled off (``python -m benchmarks.swap_memory``). Collecting the dropped
    model's cycles and asking glibc to trim its heap keeps it flat (the trim is a no-op where
    libc is not glibc). ``gc.freeze()`` then moves every object alive now (MLflow, torch, the
    model) out of the collector's reach: full collections that walked them stopped the event
    loop long enough to set the server's p99 (``research/README.md``).
    """
    if not replaced:  # the first model: nothing was dropped, so nothing to collect or trim
        gc.freeze()
        return
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return
    trim(0)

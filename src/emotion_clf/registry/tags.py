"""What every backend records with a version: the bundle's identity and its metrics, as tags.

One mapping for all backends, so ``VersionInfo.digest``, ``.family`` and ``.metrics`` read the
same keys whichever store wrote them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from emotion_clf.models.bundle import bundle_digest, verify_bundle
from emotion_clf.registry.base import METRIC_PREFIX

if TYPE_CHECKING:
    from emotion_clf.training import TrainResult


def bundle_tags(bundle: Path, metrics: Mapping[str, float]) -> dict[str, str]:
    """Digest, family, runtime, data fingerprint, label schema and ``metric.*`` tags."""
    manifest = verify_bundle(bundle)
    return {
        "digest": bundle_digest(bundle),
        "family": manifest.family,
        "runtime": manifest.runtime,
        "data_fingerprint": manifest.data_fingerprint,
        "schema": manifest.schema.fingerprint(),
        **{f"{METRIC_PREFIX}{k}": f"{v:.6f}" for k, v in metrics.items()},
    }


def result_metrics(result: TrainResult) -> dict[str, float]:
    """``{"<split>.<head>.<name>": value}`` of a training result."""
    return {
        f"{split}.{head}.{name}": value
        for split, heads in result.metrics.items()
        for head, values in heads.items()
        for name, value in values.items()
    }


def manifest_metrics(bundle: Path) -> dict[str, float]:
    """The same keys, from the metrics a bundle's manifest holds."""
    manifest = verify_bundle(bundle)
    return {
        f"{split}.{head}.{name}": float(value)
        for split, heads in manifest.metrics.items()
        if isinstance(heads, Mapping)
        for head, values in heads.items()
        if isinstance(values, Mapping)
        for name, value in values.items()
    }

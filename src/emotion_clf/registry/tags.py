"""What every backend records with a version: the bundle's identity and its metrics, as tags,
and its description, a short model card.

One mapping for all backends, so ``VersionInfo.digest``, ``.family`` and ``.metrics`` read the
same keys whichever store wrote them. Of the 18 metrics (2 splits x 3 heads x 3), only the
:data:`HEADLINE_METRICS` get a tag of their own: 18 tags flooded the registry's page. All of
them stay readable from one JSON tag (:data:`~emotion_clf.registry.base.METRICS_TAG`), from
the training run's metrics and from the bundle's manifest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from emotion_clf.models.bundle import Manifest, bundle_digest, verify_bundle
from emotion_clf.registry.base import METRIC_PREFIX, METRICS_TAG

if TYPE_CHECKING:
    from emotion_clf.training import TrainResult


# the test split's headline numbers, one per head (emotion twice: accuracy and macro-F1)
HEADLINE_METRICS = (
    "test.emotion.accuracy",
    "test.emotion.macro_f1",
    "test.sub_emotion.macro_f1",
    "test.intensity.macro_f1",
)


def bundle_tags(bundle: Path, metrics: Mapping[str, float]) -> dict[str, str]:
    """Digest, family, runtime, data fingerprint and label schema; the headline metrics'
    ``metric.*`` tags (at most four) and every metric in one JSON tag."""
    manifest = verify_bundle(bundle)
    return {
        "digest": bundle_digest(bundle),
        "family": manifest.family,
        "runtime": manifest.runtime,
        "data_fingerprint": manifest.data_fingerprint,
        "schema": manifest.schema.fingerprint(),
        **{f"{METRIC_PREFIX}{k}": f"{metrics[k]:.6f}" for k in HEADLINE_METRICS if k in metrics},
        METRICS_TAG: json.dumps(
            {k: round(float(v), 6) for k, v in sorted(metrics.items())}, separators=(",", ":")
        ),
    }


def model_card(
    manifest: Manifest, metrics: Mapping[str, float], *, report: str | None = None
) -> str:
    """A version's description (Markdown): what it is, what it was trained on, how it did
    on the test split, and where the training's report is."""
    rows = manifest.extra.get("train_rows")
    split = manifest.extra.get("split") or {}
    lines = [
        f"**{manifest.family}** emotion classifier (runtime `{manifest.runtime}`): emotion (7), "
        "sub-emotion (30) and intensity (3) per sentence.",
        "",
        f"- data: fingerprint `{manifest.data_fingerprint[:16]}`"
        + (f", {rows:,} training rows" if isinstance(rows, int) else "")
        + (
            f"; test batches {', '.join(map(str, split['test']))}"
            if isinstance(split, Mapping) and split.get("test")
            else ""
        ),
    ]
    test = [
        f"{head.replace('_', '-')} accuracy {metrics[f'test.{head}.accuracy']:.3f}, "
        f"macro-F1 {metrics[f'test.{head}.macro_f1']:.3f}"
        for head in ("emotion", "sub_emotion", "intensity")
        if f"test.{head}.accuracy" in metrics and f"test.{head}.macro_f1" in metrics
    ]
    lines.append("- test split: " + ("; ".join(test) if test else "no test split was held out"))
    distillation = manifest.extra.get("distillation")
    if isinstance(distillation, Mapping):
        lines.append(
            f"- distilled from {distillation.get('teacher_family')} {distillation.get('teacher')} "
            f"(temperature {distillation.get('temperature')}, weight {distillation.get('weight')})"
        )
    if report:
        lines.append(f"- training report: {report}")
    return "\n".join(lines)


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


REPORT_PAGE_LINE = "- published report: "


def with_report_page(card: str, page: str) -> str:
    """``card`` with its published-report line set to ``page`` (one such line, the last)."""
    kept = [line for line in card.splitlines() if not line.startswith(REPORT_PAGE_LINE)]
    return "\n".join([*kept, f"{REPORT_PAGE_LINE}{page}"])

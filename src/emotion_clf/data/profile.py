"""A reference profile: what a model's inputs and outputs looked like, to detect drift against.

Built from rows the model never trained on but that span its training batches (see
:func:`emotion_clf.training.train_model`, which holds such a slice out of every training
batch): a capped sample of their texts and lengths, and the model's predictions on them,
labels and confidences per head. Saved as JSON inside the model's bundle, so it travels with
the version through the registry; ``emotion-clf drift profile`` builds one by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from emotion_clf.data.schema import HEADS, LabelSchema
from emotion_clf.errors import DataError

PROFILE_FORMAT = 1
PROFILE_FILE = "reference.json"
MAX_TEXTS = 2000  # the text-domain classifier learns from this many reference texts


@dataclass(frozen=True)
class ReferenceProfile:
    """Texts (a sample), their lengths, and the predictions on them, per head."""

    texts: tuple[str, ...]
    batches: Mapping[str, int]  # rows of each batch in the sample
    labels: Mapping[str, tuple[str, ...]]  # head -> predicted label per sampled row
    confidences: Mapping[str, tuple[float, ...]]  # head -> confidence per sampled row
    rows: int  # rows the sample was drawn from
    description: str = ""
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def lengths(self) -> list[int]:
        return [len(t) for t in self.texts]

    def label_counts(self, head: str) -> dict[str, int]:
        values, counts = np.unique(np.asarray(self.labels[head]), return_counts=True)
        return {str(v): int(c) for v, c in zip(values, counts, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PROFILE_FORMAT,
            "created_at": self.created_at,
            "description": self.description,
            "rows": self.rows,
            "sample": len(self.texts),
            "batches": dict(self.batches),
            "texts": list(self.texts),
            "labels": {h: list(v) for h, v in self.labels.items()},
            "confidences": {h: list(v) for h, v in self.confidences.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, *, where: str) -> ReferenceProfile:
        try:
            data = json.loads(text)
            if data.get("format") != PROFILE_FORMAT:
                raise DataError(
                    f"reference profile format {data.get('format')!r} is not {PROFILE_FORMAT}",
                    file=where,
                )
            texts = tuple(str(t) for t in data["texts"])
            labels = {h: tuple(str(v) for v in data["labels"][h]) for h in HEADS}
            confidences = {h: tuple(float(v) for v in data["confidences"][h]) for h in HEADS}
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"not a reference profile: {exc}", file=where) from exc
        if any(len(v) != len(texts) for v in (*labels.values(), *confidences.values())):
            raise DataError("a reference profile's columns differ in length", file=where)
        return cls(
            texts=texts,
            batches=dict(data.get("batches") or {}),
            labels=labels,
            confidences=confidences,
            rows=int(data.get("rows", len(texts))),
            description=str(data.get("description", "")),
            created_at=str(data.get("created_at", "")),
        )


def build_profile(
    *,
    texts: Sequence[str],
    batches: Sequence[str],
    labels: Mapping[str, Sequence[str]],
    confidences: Mapping[str, Sequence[float]],
    schema: LabelSchema,
    description: str,
    max_texts: int = MAX_TEXTS,
    seed: int = 0,
) -> ReferenceProfile:
    """A profile of ``max_texts`` rows at most, sampled evenly across ``batches``.

    Every argument is aligned row by row: the texts, the batch each came from, and the
    model's predicted label and confidence per head.
    """
    n = len(texts)
    if n == 0:
        raise DataError("a reference profile needs rows")
    for head in HEADS:
        unknown = set(labels[head]) - set(schema.labels(head))
        if unknown or len(labels[head]) != n or len(confidences[head]) != n:
            raise DataError(f"predictions for {head} do not fit the rows or the schema")
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.permutation(n)[:max_texts])  # a uniform sample keeps batch shares
    picked_batches = [batches[i] for i in chosen]
    return ReferenceProfile(
        texts=tuple(texts[i] for i in chosen),
        batches={b: picked_batches.count(b) for b in sorted(set(picked_batches))},
        labels={h: tuple(labels[h][i] for i in chosen) for h in HEADS},
        confidences={h: tuple(round(float(confidences[h][i]), 5) for i in chosen) for h in HEADS},
        rows=n,
        description=description,
    )


def load_profile(bundle: Path) -> ReferenceProfile | None:
    """The reference profile a bundle ships, or None (bundles made before profiles)."""
    path = Path(bundle) / PROFILE_FILE
    if not path.is_file():
        return None
    return ReferenceProfile.from_json(path.read_text(encoding="utf-8"), where=str(path))

"""A deterministic train / validation / test split grouped by batch file.

Each batch is one show or video series, so no batch may appear in two splits: the test split
then measures how a model does on videos it has never seen. Batches are ordered by a seeded
hash of their name (independent of file order or of which other files are present), then the
test split takes batches in that order until it holds ``test_fraction`` of the rows, the
validation split likewise, and the rest is training data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from emotion_clf.data.loader import Dataset
from emotion_clf.errors import DataError

SPLIT_SEED = 20250101
SPLIT_NAMES = ("train", "validation", "test")


@dataclass(frozen=True)
class Split:
    train: Dataset
    validation: Dataset
    test: Dataset
    assignment: Mapping[str, str]  # batch -> split name

    def part(self, name: str) -> Dataset:
        if name not in SPLIT_NAMES:
            raise DataError(f"unknown split {name!r}", field="split", allowed=SPLIT_NAMES)
        return {"train": self.train, "validation": self.validation, "test": self.test}[name]

    def batches(self, name: str) -> list[str]:
        return sorted(b for b, s in self.assignment.items() if s == name)


def _rank(batch: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{batch}".encode()).hexdigest()


def assign_batches(
    batch_rows: Mapping[str, int],
    *,
    seed: int = SPLIT_SEED,
    test_fraction: float = 0.15,
    validation_fraction: float = 0.12,
) -> dict[str, str]:
    """Map each batch to a split; a pure function of the batch names, sizes and seed."""
    if len(batch_rows) < 3:
        raise DataError(
            f"a split grouped by batch needs at least 3 batch files; got {len(batch_rows)}"
        )
    total = sum(batch_rows.values())
    order = sorted(batch_rows, key=lambda b: _rank(b, seed))
    assignment: dict[str, str] = {}
    filled = {"test": 0, "validation": 0}
    targets = {"test": test_fraction * total, "validation": validation_fraction * total}
    remaining = list(order)
    # Batches are taken in hash order, skipping any that would overshoot the target by more
    # than a fifth, so one large batch cannot swell a held-out split. Each split gets at
    # least one batch: the test split leaves one for validation and one for training.
    for name, keep in (("test", 2), ("validation", 1)):
        for batch in list(remaining):
            if filled[name] >= 0.9 * targets[name] or len(remaining) <= keep:
                break
            if filled[name] + batch_rows[batch] <= 1.2 * targets[name]:
                remaining.remove(batch)
                assignment[batch] = name
                filled[name] += batch_rows[batch]
        if filled[name] == 0:
            batch = remaining.pop(0)
            assignment[batch] = name
            filled[name] += batch_rows[batch]
    for batch in remaining:
        assignment[batch] = "train"
    return assignment


def split_by_batch(dataset: Dataset, *, seed: int = SPLIT_SEED) -> Split:
    """Split a dataset into train / validation / test with no batch in two splits."""
    sizes = dataset.frame.groupby("batch").size().to_dict()
    assignment = assign_batches({str(k): int(v) for k, v in sizes.items()}, seed=seed)
    which = dataset.frame["batch"].map(assignment)
    return Split(
        train=dataset.subset(which == "train"),
        validation=dataset.subset(which == "validation"),
        test=dataset.subset(which == "test"),
        assignment=assignment,
    )


REFERENCE_FRACTION = 0.08


def reference_slice(
    dataset: Dataset, *, fraction: float = REFERENCE_FRACTION, seed: int = SPLIT_SEED
) -> tuple[Dataset, Dataset]:
    """``(rest, slice)``: ``fraction`` of the rows of every batch, held out as a reference.

    The slice spans the same batches as the rest, and a model fitted on the rest has never
    seen it, so its predictions there are neither overconfident nor from other shows: what
    drift checks compare live traffic with. A pure function of the rows and the seed.
    """
    if not 0 <= fraction < 1:
        raise DataError(f"the reference fraction must be in [0, 1), got {fraction}")
    frame = dataset.frame
    keys = [
        hashlib.sha256(f"{seed}:{batch}:{line}".encode()).digest()[:8]
        for batch, line in zip(frame["batch"], frame["line"], strict=True)
    ]
    draws = [int.from_bytes(key, "big") / 2**64 for key in keys]
    held = [d < fraction for d in draws]
    return dataset.subset([not h for h in held]), dataset.subset(held)

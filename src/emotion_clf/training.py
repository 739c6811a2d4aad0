"""Training a family on labelled data and writing the result as a bundle.

The data is split by batch (:mod:`emotion_clf.data.split`): the family fits on the training
batches, may use the validation batches to pick its best epoch, and the manifest records the
metrics on both held-out splits. Data with fewer than three batches cannot be split by batch;
then the whole of it trains the model and the manifest says there is no held-out metric.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotion_clf.data.loader import Dataset, load_dataset
from emotion_clf.data.split import Split, split_by_batch
from emotion_clf.errors import DataError
from emotion_clf.evaluation import Evaluation, evaluate
from emotion_clf.models.base import Predictor, ProgressCallback
from emotion_clf.models.bundle import family_class, save_bundle

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    predictor: Predictor
    bundle: Path
    dataset: Dataset
    split: Split | None
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def metrics(self) -> dict[str, dict[str, dict[str, float]]]:
        return {name: ev.summary() for name, ev in self.evaluations.items()}


def build_predictor(
    family: str, *, seed: int, params: Mapping[str, Any] | None = None
) -> Predictor:
    cls = family_class(family)
    try:
        return cls(seed=seed, **dict(params or {}))  # type: ignore[call-arg]
    except (TypeError, ValueError) as exc:
        raise DataError(f"bad parameters for family {family!r}: {exc}", field="params") from exc


def train_model(
    family: str,
    *,
    data: Path | str | Sequence[Path | str],
    out: Path | str,
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
) -> TrainResult:
    """Train ``family`` on ``data`` (file, folder or list) and save the bundle at ``out``."""
    started = time.perf_counter()
    dataset = load_dataset(data)
    if len(dataset) == 0:
        raise DataError("no labelled rows to train on", file=str(data))
    predictor = build_predictor(family, seed=seed, params=params)
    split: Split | None
    try:
        split = split_by_batch(dataset)
        train_part, validation = split.train, split.validation
    except DataError as exc:
        logger.warning("%s; training on all %d rows with no held-out split", exc, len(dataset))
        split, train_part, validation = None, dataset, None

    predictor.fit(train_part, validation, progress=progress)

    evaluations: dict[str, Evaluation] = {}
    if split is not None:
        evaluations = {
            "validation": evaluate(predictor, split.validation),
            "test": evaluate(predictor, split.test),
        }
    extra: dict[str, Any] = {
        "seed": seed,
        "train_rows": len(train_part),
        "train_fingerprint": train_part.fingerprint(),
        "split": (
            {name: split.batches(name) for name in ("train", "validation", "test")}
            if split
            else None
        ),
        "history": predictor.training_history(),
    }
    metrics = {name: ev.summary() for name, ev in evaluations.items()}
    bundle = save_bundle(
        predictor, out, data_fingerprint=dataset.fingerprint(), metrics=metrics, extra=extra
    )
    return TrainResult(
        predictor=predictor,
        bundle=bundle,
        dataset=dataset,
        split=split,
        evaluations=evaluations,
        seconds=time.perf_counter() - started,
    )

"""Training a family on labelled data and writing the result as a bundle.

The data is split by batch (:mod:`emotion_clf.data.split`): the family fits on the training
batches, may use the validation batches to pick its best epoch, and the manifest records the
metrics on both held-out splits. A small slice of every training batch (8%) is held out of
fitting as the *reference*: the bundle ships a profile of those rows and of the model's
predictions on them (:mod:`emotion_clf.data.profile`), which drift checks compare live data
with. Data with fewer than three batches cannot be split by batch; then the whole of it trains
the model and the manifest says there is no held-out metric and no reference.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emotion_clf.config import Settings
from emotion_clf.data.loader import Dataset, load_dataset
from emotion_clf.data.profile import PROFILE_FILE, ReferenceProfile, build_profile
from emotion_clf.data.schema import HEADS
from emotion_clf.data.split import REFERENCE_FRACTION, Split, reference_slice, split_by_batch
from emotion_clf.errors import DataError
from emotion_clf.evaluation.metrics import Evaluation
from emotion_clf.models.base import Predictor, ProgressCallback, TeacherSource, TrainingSources
from emotion_clf.models.bundle import FAMILIES, family_class, save_bundle
from emotion_clf.models.scoring import evaluate

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    predictor: Predictor
    bundle: Path
    dataset: Dataset
    split: Split | None
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    seconds: float = 0.0
    profile: ReferenceProfile | None = None

    @property
    def metrics(self) -> dict[str, dict[str, dict[str, float]]]:
        return {name: ev.summary() for name, ev in self.evaluations.items()}


#: the training options the command line and notebook 01 offer, and the families they fit
TRAINING_OPTIONS: Mapping[str, tuple[str, ...]] = {
    "epochs": ("minilm", "teacher"),
    "lr": ("minilm", "teacher"),
    "batch_size": ("minilm", "teacher"),
    "max_steps": ("minilm", "teacher"),
    "goemotions": ("minilm", "teacher"),
    "device": ("minilm", "teacher"),
    "distill_temperature": ("minilm",),
    "distill_weight": ("minilm",),
}
#: the families that can train on a teacher's soft labels (``--teacher``)
DISTILLING_FAMILIES: tuple[str, ...] = ("minilm",)


def family_params(family: str, **options: float | int | str | None) -> dict[str, Any]:
    """The training options given for ``family``: ``None`` or ``0`` means "the family's
    default" and is left out; an option the family does not take is refused."""
    if family not in FAMILIES:
        raise DataError(f"unknown family {family!r}", field="family", allowed=list(FAMILIES))
    unknown = sorted(set(options) - set(TRAINING_OPTIONS))
    if unknown:
        raise DataError(f"unknown training option(s) {unknown}", allowed=list(TRAINING_OPTIONS))
    given = {k: v for k, v in options.items() if v}
    foreign = [k for k in given if family not in TRAINING_OPTIONS[k]]
    if foreign:
        names = ", ".join(f"--{k.replace('_', '-')}" for k in foreign)
        families = sorted({f for k in foreign for f in TRAINING_OPTIONS[k]})
        raise DataError(
            f"{names} only apply to --family {' or '.join(families)}",
            field="family",
            allowed=families,
        )
    return given


def check_teacher(family: str, teacher: object | None, params: Mapping[str, Any]) -> None:
    """Refuse a teacher for a family that cannot distil, and distillation settings without a
    teacher (they would be recorded and do nothing)."""
    if teacher and family not in DISTILLING_FAMILIES:
        raise DataError(
            f"--teacher only applies to --family {' or '.join(DISTILLING_FAMILIES)}",
            field="teacher",
            allowed=list(DISTILLING_FAMILIES),
        )
    stray = [k for k in ("distill_temperature", "distill_weight") if k in params]
    if stray and not teacher:
        names = ", ".join(f"--{k.replace('_', '-')}" for k in stray)
        raise DataError(f"{names} need(s) --teacher, the model to distil from", field="teacher")


def training_sources(
    settings: Settings, *, teacher: TeacherSource | None = None
) -> TrainingSources:
    """The sources besides the transcripts that the settings name: the GoEmotions folder, the
    workspace cache of training stages (``<home>/.cache/transfer``) and the verified backbones
    (``<home>/.cache/backbones``); ``teacher``, a model to distil from
    (:func:`emotion_clf.registry.teacher_source`)."""
    return TrainingSources(
        goemotions=settings.goemotions_data_dir,
        cache_dir=settings.transfer_cache_dir,
        backbones_dir=settings.backbones_dir,
        teacher=teacher,
    )


def default_bundle_dir(family: str, *, models_dir: Path) -> Path:
    """Where a new bundle goes: ``<models_dir>/<family>-<UTC time>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return models_dir / f"{family}-{stamp}"


def build_predictor(
    family: str, *, seed: int, params: Mapping[str, Any] | None = None
) -> Predictor:
    """An unfitted predictor of ``family`` whose parameters have been checked."""
    predictor = family_class(family)(seed=seed, **dict(params or {}))
    try:
        predictor.validate_params()
        predictor.check_training_environment()
    except (TypeError, ValueError) as exc:
        raise DataError(f"bad parameters for family {family!r}: {exc}", field="params") from exc
    return predictor


def train_model(
    family: str,
    *,
    data: Path | str | Sequence[Path | str],
    out: Path | str,
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    reference_fraction: float = REFERENCE_FRACTION,
    sources: TrainingSources | None = None,
) -> TrainResult:
    """Train ``family`` on ``data`` (file, folder or list) and save the bundle at ``out``.

    ``reference_fraction`` of every training batch is held out of fitting for the reference
    profile the bundle ships (0: none). ``sources``: what the family may use besides ``data``
    (the GoEmotions folder, the cache of training stages); a family whose parameters need a
    source that is not given refuses.
    """
    started = time.perf_counter()
    dataset = load_dataset(data)
    if len(dataset) == 0:
        raise DataError("no labelled rows to train on", file=str(data))
    predictor = build_predictor(family, seed=seed, params=params)
    check_teacher(family, sources.teacher if sources else None, params or {})
    split: Split | None
    reference: Dataset | None = None
    try:
        split = split_by_batch(dataset)
        train_part, reference = reference_slice(split.train, fraction=reference_fraction, seed=seed)
        validation = split.validation
    except DataError as exc:
        logger.warning("%s; training on all %d rows with no held-out split", exc, len(dataset))
        split, train_part, validation = None, dataset, None

    predictor.fit(train_part, validation, progress=progress, sources=sources)

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
    distillation = getattr(predictor, "distillation_", None)
    if distillation:
        extra["distillation"] = distillation
    metrics = {name: ev.summary() for name, ev in evaluations.items()}
    profile = None
    if reference is not None and len(reference) > 0:
        profile = profile_of(
            predictor, reference, description="held-out slice of the training batches"
        )
        extra["reference"] = {
            "file": PROFILE_FILE,
            "rows": len(reference),
            "fraction": reference_fraction,
        }
    bundle = save_bundle(
        predictor,
        out,
        data_fingerprint=dataset.fingerprint(),
        metrics=metrics,
        extra=extra,
        files={PROFILE_FILE: profile.to_json().encode("utf-8")} if profile else None,
    )
    return TrainResult(
        predictor=predictor,
        bundle=bundle,
        dataset=dataset,
        split=split,
        evaluations=evaluations,
        seconds=time.perf_counter() - started,
        profile=profile,
    )


def profile_of(predictor: Predictor, rows: Dataset, *, description: str) -> ReferenceProfile:
    """The reference profile of ``rows``: their texts and the predictor's answers on them."""
    batch = predictor.predict_batch(rows.texts)
    return build_profile(
        texts=rows.texts,
        batches=rows.frame["batch"].astype(str).tolist(),
        labels={h: batch.labels(h) for h in HEADS},
        confidences={h: batch.confidences(h).tolist() for h in HEADS},
        schema=predictor.schema,
        description=description,
    )

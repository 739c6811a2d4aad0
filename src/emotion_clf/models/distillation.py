"""A teacher's soft labels for the rows a student trains on, cached per teacher version.

Distillation trains a small model (the minilm that serves) on a larger model's distributions
as well as the gold labels: where the teacher spreads its belief (a line it reads as half
anger, half disgust) the student learns that too, which one gold label cannot say.

The teacher's outputs on the training rows are the costly part (a base-size encoder reads every
row), and they depend only on the teacher version and the text. So they are kept per teacher
(its bundle digest) and per text (the text's sha256) in one ``.npz`` file of plain arrays,
read with ``allow_pickle=False``: a student retrained on the same rows, or on those rows and a
few new ones, asks the teacher only for the rows it has not seen. A file that cannot be read
or was written for other labels is set aside and computed again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emotion_clf.data.schema import HEADS, LabelSchema
from emotion_clf.errors import DataError
from emotion_clf.models.base import ProgressCallback, TeacherSource

logger = logging.getLogger(__name__)

CACHE_FORMAT = 2  # 1 kept raw digests
CHUNK_ROWS = 512  # rows per teacher call: bounded memory, progress between calls


def temper(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """The distribution at ``temperature``: ``softmax(log p / T)`` per row, which for a
    softmax output is ``softmax(logits / T)``; above 1 it spreads the mass, showing what the
    teacher holds second most likely."""
    logp = np.log(np.clip(probabilities.astype(np.float64), 1e-12, None)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    return (out / out.sum(axis=1, keepdims=True)).astype(np.float32)


def text_keys(texts: Sequence[str]) -> np.ndarray:
    """sha256 of each text in hex, as 64-byte strings: a plain numpy dtype (no pickle), and
    hex because numpy drops the trailing zero bytes of a raw digest."""
    return np.array(
        [hashlib.sha256(t.encode("utf-8")).hexdigest().encode("ascii") for t in texts],
        dtype="S64",
    )


def check_labels(teacher: TeacherSource, schema: LabelSchema) -> None:
    theirs = teacher.predictor.schema
    wrong = [h for h in HEADS if list(theirs.labels(h)) != list(schema.labels(h))]
    if wrong:
        raise DataError(
            f"teacher {teacher.label} predicts other {', '.join(wrong)} labels than the "
            "student trains on: a teacher must share the student's label schema",
            field="teacher",
        )


def cache_path(teacher: TeacherSource) -> Path | None:
    if teacher.cache_dir is None:
        return None
    return teacher.cache_dir / f"{teacher.key}.npz"


def read_cache(path: Path | None, schema: LabelSchema) -> dict[str, np.ndarray] | None:
    """The cached arrays (``keys`` and one per head), or None where there is no usable file."""
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        if int(arrays["format"]) != CACHE_FORMAT:
            raise ValueError(f"format {int(arrays['format'])}")
        for head in HEADS:
            if arrays[f"labels_{head}"].tolist() != list(schema.labels(head)):
                raise ValueError(f"other {head} labels")
            if arrays[head].shape != (len(arrays["keys"]), len(schema.labels(head))):
                raise ValueError(f"{head} outputs of shape {arrays[head].shape}")
    except (OSError, KeyError, ValueError, TypeError) as exc:
        logger.warning("teacher outputs in %s are unusable (%s); computing them again", path, exc)
        return None
    return arrays


def write_cache(
    path: Path, keys: np.ndarray, outputs: Mapping[str, np.ndarray], schema: Any
) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
    labels = {f"labels_{h}": np.array(list(schema.labels(h)), dtype=str) for h in HEADS}
    np.savez(temp, format=np.array(CACHE_FORMAT), keys=keys, **outputs, **labels)
    os.replace(temp, path)


def teacher_outputs(
    teacher: TeacherSource,
    texts: Sequence[str],
    *,
    schema: LabelSchema,
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The teacher's probabilities per head for ``texts`` (rows aligned), and a record of how
    they were had (rows, how many came from the cache, seconds)."""
    check_labels(teacher, schema)
    started = time.perf_counter()
    keys = text_keys(texts)
    path = cache_path(teacher)
    cached = read_cache(path, schema)
    known: dict[bytes, int] = {}
    if cached is not None:
        known = {key: row for row, key in enumerate(cached["keys"].tolist())}
    missing_keys: dict[bytes, str] = {}
    for key, text in zip(keys.tolist(), texts, strict=True):
        if key not in known:
            missing_keys.setdefault(key, text)
    new_keys = np.array(list(missing_keys), dtype="S64")
    new = {h: np.empty((len(new_keys), len(schema.labels(h))), np.float32) for h in HEADS}
    todo = list(missing_keys.values())
    for start in range(0, len(todo), CHUNK_ROWS):
        if progress:
            progress(f"teacher {teacher.label}: {start}/{len(todo)} rows", start / len(todo))
        part = teacher.predictor.predict_proba(todo[start : start + CHUNK_ROWS])
        for head in HEADS:
            new[head][start : start + CHUNK_ROWS] = getattr(part, head)
    if cached is None:
        all_keys, table = new_keys, new
    else:
        all_keys = np.concatenate([cached["keys"], new_keys])
        table = {h: np.concatenate([cached[h].astype(np.float32), new[h]]) for h in HEADS}
    if path is not None and len(new_keys):
        write_cache(path, all_keys, table, schema)
    index = {key: row for row, key in enumerate(all_keys.tolist())}
    rows = np.fromiter((index[k] for k in keys.tolist()), dtype=np.int64, count=len(keys))
    record = {
        "rows": len(texts),
        "from_cache": len(texts) - sum(1 for k in keys.tolist() if k in missing_keys),
        "teacher_rows_computed": len(new_keys),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if progress:
        progress(f"teacher {teacher.label}: done", 1.0)
    return {h: table[h][rows] for h in HEADS}, record


def soft_targets(
    teacher: TeacherSource,
    texts: Sequence[str],
    *,
    schema: LabelSchema,
    params: Mapping[str, Any],
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The tempered teacher distributions for ``texts`` and the student's record of its
    teacher: who it was, the temperature and weight, and the outputs' record."""
    outputs, how = teacher_outputs(teacher, texts, schema=schema, progress=progress)
    temperature = float(params["distill_temperature"])
    record = {
        "teacher": teacher.label,
        "teacher_family": teacher.predictor.family,
        "teacher_digest": teacher.key,
        "temperature": temperature,
        "weight": float(params["distill_weight"]),
        **how,
    }
    logger.info("distilling from %s: %s", teacher.label, record)
    return {h: temper(outputs[h], temperature) for h in HEADS}, record

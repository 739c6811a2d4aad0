"""GoEmotions for the minilm family: the transfer stage, its cache, and joint training rows.

Two ways to use GoEmotions' single-label rows (:mod:`emotion_clf.data.goemotions`):

* ``transfer`` (the stage here): before the transcripts, the encoder and the emotion and
  sub-emotion heads train on GoEmotions for ``goemotions_epochs`` epoch(s); the transcript
  training then starts from those weights (its intensity head starts fresh, as in the plain
  recipe). The stage sees no transcript, so it is the same for every training with the same
  seed and parameters: it is cached as a versioned artifact under the workspace cache
  (``<home>/.cache/transfer/``), keyed by the GoEmotions rows' fingerprint, the code that
  trains it, the pretrained encoder's weights, the library versions and the parameters it
  uses. A later training with the same key loads it instead of training it again.
* ``joint`` (:func:`joint_rows`): GoEmotions rows are mixed into the transcript epochs, each
  epoch a different share of them, every GoEmotions row's loss weighed by
  ``goemotions_weight`` and its intensity left out of the loss. Nothing can be cached: every
  training pays for it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from emotion_clf.data.goemotions import GoEmotions
from emotion_clf.data.schema import LabelSchema
from emotion_clf.evaluation.metrics import label_indices
from emotion_clf.models.base import ProgressCallback
from emotion_clf.models.minilm import encoder as encoder_module
from emotion_clf.models.minilm import loss as loss_module
from emotion_clf.models.minilm import rows as rows_module
from emotion_clf.models.minilm import tokenizer as tokenizer_module
from emotion_clf.models.minilm import training as training_module
from emotion_clf.models.minilm.device import training_device
from emotion_clf.models.minilm.encoder import MultiTaskMiniLM, load_pretrained_encoder, tokenize
from emotion_clf.models.minilm.rows import TrainingRows
from emotion_clf.models.minilm.tokenizer import Tokenizer
from emotion_clf.models.minilm.training import fine_tune

logger = logging.getLogger(__name__)

#: bump when the cached artifact's layout or meaning changes: old entries stop matching
TRANSFER_FORMAT = 1
TRANSFER_HEADS: tuple[str, str] = ("emotion", "sub_emotion")
WEIGHTS_FILE = "weights.safetensors"
META_FILE = "transfer.json"
# the parameters the stage reads; any change gives another cache key
STAGE_PARAMS: tuple[str, ...] = (
    "lr",
    "head_lr",
    "batch_size",
    "warmup_ratio",
    "weight_decay",
    "dropout",
    "freeze_word_embeddings",
    "label_smoothing",
    "max_length",
    "seed",
    "goemotions_epochs",
    "goemotions_max_steps",
    "device",  # a GPU's arithmetic differs from the CPU's: another result
)


@dataclass(frozen=True)
class TransferState:
    """The transferred weights (encoder and the emotion / sub-emotion heads) and their story."""

    tensors: Mapping[str, torch.Tensor]
    key: str
    info: Mapping[str, Any] = field(default_factory=dict)


def goemotions_targets(rows: GoEmotions, *, schema: LabelSchema) -> dict[str, np.ndarray]:
    """Label indices of the emotion and sub-emotion heads for GoEmotions rows."""
    return {
        h: label_indices(rows.frame[h].tolist(), schema.labels(h), head=h) for h in TRANSFER_HEADS
    }


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_fingerprint() -> str:
    """sha256 of the source files that train the stage (an edit to any gives a new key)."""
    digest = hashlib.sha256()
    for module in (encoder_module, tokenizer_module, training_module, loss_module, rows_module):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def stage_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters the stage uses, with the per-head ones for its two heads only."""
    out: dict[str, Any] = {name: params[name] for name in STAGE_PARAMS}
    for name in ("class_weight_power", "loss_weights"):
        out[name] = {h: params[name][h] for h in TRANSFER_HEADS}
    return out


def transfer_inputs(
    rows: GoEmotions, *, schema: LabelSchema, params: Mapping[str, Any], encoder_folder: Path
) -> dict[str, Any]:
    """Everything the stage's result depends on: the cache key is their sha256."""
    return {
        "format": TRANSFER_FORMAT,
        "source": "goemotions",
        "data_fingerprint": rows.fingerprint(),
        "rows": len(rows),
        "schema": schema.fingerprint(),
        "code": code_fingerprint(),
        "encoder_weights": _sha256_file(encoder_folder / "model.safetensors"),
        "torch": torch.__version__,
        "transformers": importlib.metadata.version("transformers"),
        "tokenizers": importlib.metadata.version("tokenizers"),
        "params": stage_params(params),
    }


def transfer_key(inputs: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode("utf-8")).hexdigest()


def entry_folder(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"minilm-goemotions-{key[:16]}"


def train_transfer(
    rows: GoEmotions,
    *,
    tokenizer: Tokenizer,
    encoder_folder: Path,
    schema: LabelSchema,
    params: Mapping[str, Any],
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, torch.Tensor], list[dict[str, float]]]:
    """Train the stage: the pretrained encoder with fresh emotion and sub-emotion heads on
    GoEmotions rows. Returns the encoder's and those two heads' tensors, and the history."""
    torch.manual_seed(int(params["seed"]))
    sizes = {h: len(schema.labels(h)) for h in ("emotion", "sub_emotion", "intensity")}
    module = MultiTaskMiniLM(
        load_pretrained_encoder(encoder_folder), sizes, dropout=float(params["dropout"])
    ).to(training_device(str(params.get("device", "cpu"))))
    stage = {
        **params,
        "epochs": int(params["goemotions_epochs"]),
        "max_steps": params["goemotions_max_steps"],
    }
    training_rows = TrainingRows(
        ids=tokenize(tokenizer, rows.texts, max_length=int(params["max_length"])),
        targets=goemotions_targets(rows, schema=schema),
    )
    outcome = fine_tune(
        module,
        tokenizer,
        training_rows,
        params=stage,
        scorer=None,
        validation_texts=None,
        progress=progress,
    )
    tensors = {
        name: tensor.detach().cpu().contiguous().clone()
        for name, tensor in module.state_dict().items()
        if not name.startswith("heads.intensity.")
    }
    return tensors, outcome.history


def _read_entry(folder: Path, key: str) -> TransferState | None:
    """The cached stage in ``folder`` if it is whole and matches ``key``; None if absent.

    A damaged entry (unreadable, other key, weights not matching their recorded sha256) is
    reported and treated as absent: the caller trains the stage again and replaces it.
    """
    meta_path, weights = folder / META_FILE, folder / WEIGHTS_FILE
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("key") != key:
            raise ValueError(f"it holds key {str(meta.get('key'))[:16]}, not {key[:16]}")
        if _sha256_file(weights) != meta["weights_sha256"]:
            raise ValueError(f"{WEIGHTS_FILE} does not match its recorded sha256")
        tensors = load_file(str(weights))
    except (OSError, KeyError, ValueError, SafetensorError) as exc:
        logger.warning(
            "transfer cache entry %s is damaged (%s); training the stage again", folder, exc
        )
        return None
    return TransferState(tensors=tensors, key=key, info={**meta["info"], "cached": True})


def _write_entry(
    cache_dir: Path, key: str, tensors: Mapping[str, torch.Tensor], meta: Mapping[str, Any]
) -> Path:
    """Write the entry into a temporary folder, then rename it into place (readers see a
    whole entry or none; of two processes writing the same key, the first rename wins)."""
    final = entry_folder(cache_dir, key)
    cache_dir.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=cache_dir))
    try:
        save_file(dict(tensors), str(temp / WEIGHTS_FILE), metadata={"format": "pt"})
        record = {**meta, "weights_sha256": _sha256_file(temp / WEIGHTS_FILE)}
        (temp / META_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.chmod(temp, 0o755)
        if final.exists():
            shutil.rmtree(final)  # a damaged entry (_read_entry refused it)
        os.rename(temp, final)
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        if (final / META_FILE).is_file():
            logger.info("transfer cache entry %s was written by another process", final)
            return final
        raise exc
    return final


def transfer_state(
    rows: GoEmotions,
    *,
    tokenizer: Tokenizer,
    encoder_folder: Path,
    schema: LabelSchema,
    params: Mapping[str, Any],
    cache_dir: Path | None,
    progress: ProgressCallback | None = None,
) -> TransferState:
    """The transfer stage for these rows and parameters: from the cache when it holds it,
    else trained (and stored when ``cache_dir`` is given)."""
    inputs = transfer_inputs(rows, schema=schema, params=params, encoder_folder=encoder_folder)
    key = transfer_key(inputs)
    if cache_dir is not None:
        cached = _read_entry(entry_folder(cache_dir, key), key)
        if cached is not None:
            logger.info("transfer stage %s loaded from %s", key[:16], cache_dir)
            return cached
    logger.info("training the transfer stage %s on %d GoEmotions rows", key[:16], len(rows))
    started = time.perf_counter()
    tensors, history = train_transfer(
        rows,
        tokenizer=tokenizer,
        encoder_folder=encoder_folder,
        schema=schema,
        params=params,
        progress=progress,
    )
    info = {
        "source": "goemotions",
        "key": key,
        "rows": len(rows),
        "skipped_multi_label": rows.skipped_multi_label,
        "data_fingerprint": inputs["data_fingerprint"],
        "seconds": round(time.perf_counter() - started, 1),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "history": history,
    }
    if cache_dir is not None:
        folder = _write_entry(cache_dir, key, tensors, {"key": key, "inputs": inputs, "info": info})
        logger.info("transfer stage %s cached in %s", key[:16], folder)
    return TransferState(tensors=tensors, key=key, info={**info, "cached": False})


def load_transferred(module: MultiTaskMiniLM, state: TransferState) -> None:
    """Copy the stage's encoder and emotion / sub-emotion head weights into ``module``; its
    intensity head keeps its own initial weights."""
    own = module.state_dict()
    expected = {n for n in own if not n.startswith("heads.intensity.")}
    missing, unexpected = (
        sorted(expected - set(state.tensors)),
        sorted(set(state.tensors) - expected),
    )
    if missing or unexpected:
        raise ValueError(f"transfer state: missing {missing}, unexpected {unexpected}")
    with torch.no_grad():
        for name in sorted(expected):
            if state.tensors[name].shape != own[name].shape:
                raise ValueError(f"transfer state: {name} has another shape")
            own[name].copy_(state.tensors[name])


def joint_rows(
    transcripts: TrainingRows,
    rows: GoEmotions,
    *,
    tokenizer: Tokenizer,
    schema: LabelSchema,
    params: Mapping[str, Any],
) -> TrainingRows:
    """Transcript rows and GoEmotions rows in one training: GoEmotions rows are dealt into
    ``epochs`` shares at random (seeded), epoch k visits every transcript row and share k, so
    over the whole training each GoEmotions row is seen once, as in one transfer epoch.
    GoEmotions rows weigh ``goemotions_weight`` in the loss and have no intensity target."""
    epochs = int(params["epochs"])
    n_t, n_g = len(transcripts.ids), len(rows)
    g_targets = goemotions_targets(rows, schema=schema)
    targets = {
        h: np.concatenate(
            [transcripts.targets[h], g_targets.get(h, np.full(n_g, -1, dtype=np.int64))]
        )
        for h in transcripts.targets
    }
    weights = np.concatenate(
        [np.ones(n_t, np.float32), np.full(n_g, float(params["goemotions_weight"]), np.float32)]
    )
    # its own generator: the training's batch order stays a function of the seed alone
    shuffled = np.random.default_rng([int(params["seed"]), 1]).permutation(n_g) + n_t
    transcript_rows = np.arange(n_t)
    plan = [
        np.concatenate([transcript_rows, np.sort(share)])
        for share in np.array_split(shuffled, epochs)
    ]
    return TrainingRows(
        ids=[
            *transcripts.ids,
            *tokenize(tokenizer, rows.texts, max_length=int(params["max_length"])),
        ],
        targets=targets,
        row_weights=weights,
        epoch_rows=plan,
    )


def goemotions_record(
    mode: str, rows: GoEmotions | None, transfer: TransferState | None
) -> dict[str, Any] | None:
    """What the bundle records of the GoEmotions rows a training used."""
    if rows is None:
        return None
    record: dict[str, Any] = {"mode": mode, **rows.summary()}
    record["data_fingerprint"] = rows.fingerprint()
    record.pop("path")
    if transfer is not None:
        record["transfer"] = {
            k: transfer.info[k] for k in ("key", "cached", "seconds", "created_at", "history")
        }
    return record

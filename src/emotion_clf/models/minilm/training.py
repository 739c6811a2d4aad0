"""Fine-tuning the multi-task MiniLM on CPU: batching, loss, schedule, best epoch.

Choices that keep a full training inside 20 minutes on two cores and hold macro-F1:

* Dynamic padding with length buckets: the shuffled training rows are cut into chunks of
  ``50 * batch_size``, each chunk sorted by token count and cut into batches, and the batch
  order shuffled again. A batch then pads to about its own length instead of 64 tokens.
* The token embedding matrix stays frozen (see :func:`optimizer_for`).
* AdamW, linear warm-up then linear decay, a larger learning rate for the freshly initialised
  heads than for the pretrained encoder, gradient norm clipped at 1, label smoothing.
* Validation after each epoch; the best epoch by :func:`selection_score` is kept. The score
  counts each head's macro-F1 as much as its accuracy, so an epoch that buys accuracy by
  dropping the rare emotions is not chosen.
* Optional class-weighted cross-entropy per head, weight ``(n / count_c) ** power`` scaled
  to mean 1 over the training rows. Measured on the validation split it lowered macro-F1 as
  well as accuracy (the rare emotions gained recall but lost more precision), so the default
  power is 0 for every head; the parameter stays for data where it helps
  (:mod:`~emotion_clf.models.minilm.loss`, with distillation's soft labels).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from emotion_clf.data.schema import HEADS
from emotion_clf.models.base import ProgressCallback
from emotion_clf.models.minilm.batching import sorted_batches
from emotion_clf.models.minilm.encoder import MultiTaskMiniLM, pad, tokenize
from emotion_clf.models.minilm.loss import BatchLoss
from emotion_clf.models.minilm.rows import TrainingRows
from emotion_clf.models.minilm.tokenizer import Tokenizer

logger = logging.getLogger(__name__)

CHUNK_BATCHES = 50
EVAL_BATCH_SIZE = 128
PROGRESS_EVERY = 5

# (logits per head, validation rows) -> metrics; given by the predictor, which owns decoding
Scorer = Callable[[Mapping[str, np.ndarray]], dict[str, float]]


@dataclass
class TrainingOutcome:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    steps: int = 0


def training_batches(
    lengths: Sequence[int], *, batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """One epoch of row indices: shuffled, length-sorted within chunks, batches shuffled."""
    order = rng.permutation(len(lengths))
    lengths_arr = np.asarray(lengths)
    batches: list[np.ndarray] = []
    chunk = batch_size * CHUNK_BATCHES
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths_arr[part], kind="stable")]
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def linear_schedule(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return factor


def optimizer_for(module: MultiTaskMiniLM, params: Mapping[str, Any]) -> torch.optim.Optimizer:
    """AdamW: encoder at ``lr`` (no decay on biases and LayerNorm), heads at ``head_lr``.

    With ``freeze_word_embeddings`` the 30,522 x 384 token embedding matrix (half the
    parameters) stays as pretrained: its dense gradient and Adam update cost about a tenth of
    an epoch here, and training it did not help validation (research/README.md).
    """
    word_embeddings = module.encoder.get_input_embeddings().weight
    word_embeddings.requires_grad_(not params["freeze_word_embeddings"])
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, parameter in module.encoder.named_parameters():
        if not parameter.requires_grad:
            continue
        (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(parameter)
    groups = [
        {"params": decay, "lr": params["lr"], "weight_decay": params["weight_decay"]},
        {"params": no_decay, "lr": params["lr"], "weight_decay": 0.0},
        {"params": list(module.heads.parameters()), "lr": params["head_lr"], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, betas=(0.9, 0.999), eps=1e-8, fused=True)


def logits_fp32(
    module: MultiTaskMiniLM, tokenizer: Tokenizer, texts: Sequence[str], *, max_length: int
) -> dict[str, np.ndarray]:
    """fp32 logits, length-sorted batches (validation during training)."""
    was_training = module.training
    device = next(module.parameters()).device
    module.eval()
    ids = tokenize(tokenizer, texts, max_length=max_length)
    out = {h: np.empty((len(texts), n), np.float32) for h, n in module.head_sizes().items()}
    try:
        with torch.inference_mode():
            for rows in sorted_batches([len(r) for r in ids], batch_size=EVAL_BATCH_SIZE):
                input_ids, mask = pad([ids[i] for i in rows], pad_id=int(tokenizer.pad_token_id))
                logits = module(input_ids.to(device), mask.to(device))
                for head in HEADS:
                    out[head][rows] = logits[head].float().cpu().numpy()
    finally:
        module.train(was_training)
    return out


def selection_score(metrics: Mapping[str, float]) -> float:
    """Mean over the three heads of (accuracy + macro-F1) / 2, from ``metrics`` keys
    ``<head>_accuracy`` and ``<head>_macro_f1``: accuracy alone would reward predicting the
    two big emotions, macro-F1 alone would trade away too much accuracy.
    """
    return float(
        np.mean([(metrics[f"{h}_accuracy"] + metrics[f"{h}_macro_f1"]) / 2 for h in HEADS])
    )


def fine_tune(
    module: MultiTaskMiniLM,
    tokenizer: Tokenizer,
    rows: TrainingRows,
    *,
    params: Mapping[str, Any],
    scorer: Scorer | None,
    validation_texts: Sequence[str] | None,
    validation_targets: Mapping[str, np.ndarray] | None = None,
    progress: ProgressCallback | None = None,
) -> TrainingOutcome:
    """Train ``module`` in place on ``rows`` for ``params["epochs"]`` epochs (at most
    ``params["max_steps"]`` steps); on return it holds the best epoch's weights (the last
    epoch's without a scorer).

    With ``validation_targets`` (label indices per head of ``validation_texts``, ``-1`` where
    absent) each epoch's record also holds ``val_loss``, the training loss on the validation
    rows (:meth:`BatchLoss.held_out`), beside ``train_loss``, the mean over the epoch's
    batches (with dropout, the weights moving)."""
    rng = np.random.default_rng(params["seed"])
    max_length = int(params["max_length"])
    lengths = np.asarray([len(row) for row in rows.ids])
    device = next(module.parameters()).device
    batch_loss = BatchLoss(rows, sizes=module.head_sizes(), params=params, device=device)
    batch_size = int(params["batch_size"])
    plan = rows.epoch_plan(int(params["epochs"]))
    steps_per_epoch = [-(-len(part) // batch_size) for part in plan]
    total = sum(steps_per_epoch)
    if params.get("max_steps"):
        total = min(total, int(params["max_steps"]))
    epochs = int(np.searchsorted(np.cumsum(steps_per_epoch), total) + 1)
    optimizer = optimizer_for(module, params)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, linear_schedule(int(params["warmup_ratio"] * total), total)
    )
    outcome = TrainingOutcome()
    best_score, best_state = -np.inf, None
    started = time.perf_counter()
    step = 0
    logger.info(
        "fine-tuning minilm: %d rows, heads %s, %d epoch(s), %d steps of %d",
        len(rows.ids),
        "/".join(batch_loss.heads),
        epochs,
        total,
        batch_size,
    )
    for epoch in range(1, epochs + 1):
        module.train()
        epoch_started, running, seen = time.perf_counter(), 0.0, 0
        visit = plan[epoch - 1]
        for batch in training_batches(lengths[visit], batch_size=batch_size, rng=rng):
            if step >= total:
                break
            chosen = visit[batch]
            input_ids, mask = pad([rows.ids[i] for i in chosen], pad_id=int(tokenizer.pad_token_id))
            logits = module(input_ids.to(device), mask.to(device))
            loss = batch_loss(logits, torch.from_numpy(chosen).to(device))
            loss.backward()
            nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            running, seen = running + float(loss.item()), seen + 1
            if progress and (step % PROGRESS_EVERY == 0 or step == total):
                progress(f"epoch {epoch}/{epochs} loss {running / seen:.3f}", step / total)
        record: dict[str, float] = {
            "epoch": float(epoch),
            "steps": float(step),
            "train_loss": running / max(1, seen),
            "train_seconds": time.perf_counter() - epoch_started,
        }
        if scorer is not None and validation_texts:
            if progress:
                progress(f"epoch {epoch}/{epochs} validating", step / total)
            logits = logits_fp32(module, tokenizer, validation_texts, max_length=max_length)
            if validation_targets is not None:
                record["val_loss"] = batch_loss.held_out(logits, validation_targets)
            metrics = scorer(logits)
            record.update({f"val_{k}": v for k, v in metrics.items()})
            score = metrics["score"]
            if score > best_score:
                best_score, outcome.best_epoch = score, epoch
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            logger.info(
                "epoch %d: %s",
                epoch,
                ", ".join(f"{k} {v:.4f}" for k, v in record.items() if k != "epoch"),
            )
        else:
            outcome.best_epoch = epoch
        outcome.history.append(record)
    if best_state is not None:
        module.load_state_dict(best_state)
    outcome.steps = step
    logger.info(
        "fine-tuned in %.0fs; kept epoch %d", time.perf_counter() - started, outcome.best_epoch
    )
    if progress:
        progress(f"done, kept epoch {outcome.best_epoch}", 1.0)
    return outcome

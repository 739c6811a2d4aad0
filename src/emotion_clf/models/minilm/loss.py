"""The fine-tuning loss: per head cross-entropy against the gold labels, optionally mixed with
a teacher's soft labels (knowledge distillation).

Distillation follows Hinton et al. (2015): per head, ``(1 - w) * CE(gold) + w * T^2 *
KL(teacher_T || student_T)``, where ``_T`` are the distributions at temperature ``T`` and the
``T^2`` keeps the soft term's gradients on the gold term's scale whatever ``T`` is. Label
smoothing and class weights apply to the gold term only: the teacher's distribution already
says how sure it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from emotion_clf.data.schema import HEADS
from emotion_clf.models.minilm.rows import TrainingRows


def class_weights(labels: np.ndarray, n_classes: int, *, power: float) -> np.ndarray:
    """``(n / count) ** power`` per class, scaled so the mean weight over the rows is 1.

    Classes absent from ``labels`` get weight 0 (no row carries them anyway).
    """
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    weights = np.zeros(n_classes)
    present = counts > 0
    weights[present] = (len(labels) / counts[present]) ** power
    weights *= len(labels) / float((weights * counts).sum())
    return weights


def distillation_per_row(
    logits: torch.Tensor, soft: torch.Tensor, *, temperature: float
) -> torch.Tensor:
    """``T^2 * KL(soft || softmax(logits / T))`` per row; 0 where the student matches."""
    log_student = nn.functional.log_softmax(logits.float() / temperature, dim=-1)
    kl = torch.special.xlogy(soft, soft) - soft * log_student
    return kl.sum(dim=-1) * temperature**2


class BatchLoss:
    """The training loss of a batch: per head cross-entropy (label smoothing, optional class
    weights), mixed with the distillation term where the rows carry a teacher's outputs,
    weighted per head and summed.

    Without row weights or missing labels it is each head's plain batch mean. Otherwise each
    head averages over the rows that have its label, each row counted with its weight (and its
    class weight), so a source with weight 0.5 moves the model half as much per row; the
    distillation term averages over the rows that have a teacher output, by row weight.
    """

    def __init__(
        self,
        rows: TrainingRows,
        *,
        sizes: Mapping[str, int],
        params: Mapping[str, Any],
        device: torch.device | None = None,
    ) -> None:
        device = device or torch.device("cpu")
        self.device = device
        self.heads = [h for h in HEADS if h in rows.targets]
        self.targets = {h: torch.from_numpy(rows.targets[h]).to(device) for h in self.heads}
        self.smoothing = float(params["label_smoothing"])
        self.head_weights = {h: float(params["loss_weights"][h]) for h in self.heads}
        self.class_weights = {
            h: torch.tensor(
                class_weights(
                    rows.targets[h][rows.targets[h] >= 0],
                    sizes[h],
                    power=float(params["class_weight_power"][h]),
                ),
                dtype=torch.float32,
                device=device,
            )
            for h in self.heads
        }
        self.losses = {
            h: nn.CrossEntropyLoss(weight=self.class_weights[h], label_smoothing=self.smoothing)
            for h in self.heads
        }
        self.masked = rows.masked
        self.row_weights = (
            torch.from_numpy(
                rows.row_weights
                if rows.row_weights is not None
                else np.ones(len(rows.ids), dtype=np.float32)
            )
            .float()
            .to(device)
        )
        soft = rows.soft_targets or {}
        self.soft = {
            h: torch.from_numpy(soft[h]).float().to(device) for h in self.heads if h in soft
        }
        self.soft_rows = torch.from_numpy(
            rows.soft_rows if rows.soft_rows is not None else np.ones(len(rows.ids), dtype=bool)
        ).to(device)
        self.soft_weight = float(params.get("distill_weight", 0.0)) if self.soft else 0.0
        self.temperature = float(params.get("distill_temperature", 1.0))

    def _mix(self, gold: torch.Tensor, soft: torch.Tensor | None) -> torch.Tensor:
        if soft is None or not self.soft_weight:
            return gold
        return (1.0 - self.soft_weight) * gold + self.soft_weight * soft

    def _soft_term(
        self, head: str, logits: torch.Tensor, index: torch.Tensor, weights: torch.Tensor | None
    ) -> torch.Tensor | None:
        if head not in self.soft or not self.soft_weight:
            return None
        keep = self.soft_rows[index]
        if not bool(keep.any()):
            return None
        per_row = distillation_per_row(
            logits[keep], self.soft[head][index[keep]], temperature=self.temperature
        )
        if weights is None:
            return per_row.mean()
        weight = weights[keep]
        return (weight * per_row).sum() / weight.sum().clamp(min=1e-12)

    def __call__(self, logits: Mapping[str, torch.Tensor], index: torch.Tensor) -> torch.Tensor:
        total = torch.zeros((), device=self.device)
        if not self.masked:
            for h in self.heads:
                gold = self.losses[h](logits[h], self.targets[h][index])
                soft = self._soft_term(h, logits[h], index, None)
                total = total + self.head_weights[h] * self._mix(gold, soft)
            return total
        weights = self.row_weights[index]
        for h in self.heads:
            target = self.targets[h][index]
            keep = target >= 0
            soft = self._soft_term(h, logits[h], index, weights)
            if not bool(keep.any()):
                if soft is not None:
                    total = total + self.head_weights[h] * self.soft_weight * soft
                continue
            per_row = nn.functional.cross_entropy(
                logits[h][keep],
                target[keep],
                weight=self.class_weights[h],
                label_smoothing=self.smoothing,
                reduction="none",
            )
            weight = weights[keep]
            norm = (weight * self.class_weights[h][target[keep]]).sum().clamp(min=1e-12)
            gold = (weight * per_row).sum() / norm
            total = total + self.head_weights[h] * self._mix(gold, soft)
        return total

    def held_out(
        self, logits: Mapping[str, np.ndarray], targets: Mapping[str, np.ndarray]
    ) -> float:
        """The gold part of the loss on held-out rows (validation), from their fp32 logits.

        Each trained head's cross-entropy keeps the training's class weights and label
        smoothing and averages over the rows that carry its label; the heads are weighted as
        in training. So it is on the training loss's scale (without distillation, the same
        loss), and a validation loss that rises while the training loss falls reads as
        overfitting. Held-out rows have no teacher outputs, so no distillation term.
        """
        total = 0.0
        with torch.no_grad():
            for h in self.heads:
                target = torch.from_numpy(np.asarray(targets[h], dtype=np.int64))
                keep = target >= 0
                if not bool(keep.any()):
                    continue
                loss = nn.functional.cross_entropy(
                    torch.from_numpy(np.asarray(logits[h], dtype=np.float32))[keep],
                    target[keep],
                    weight=self.class_weights[h].cpu(),
                    label_smoothing=self.smoothing,
                )
                total += self.head_weights[h] * float(loss)
        return total

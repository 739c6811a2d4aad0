"""Ablations of the minilm training recipe (issue 3), one variant per run.

An experiment script, not the product: it re-implements the training loop of
``emotion_clf.models.minilm.training.fine_tune`` with the same pieces (tokenizer, model,
length-bucketed batches, schedule, label smoothing 0.1, frozen token embeddings, ``joint``
decoding) and adds the switches below. It prints validation and test metrics after every
epoch (one JSON line each) and keeps nothing::

    python -m research.minilm_variants --tag base
    python -m research.minilm_variants --tag trainval --trainval
    python -m research.minilm_variants --tag rdrop --rdrop 1.0
    python -m research.minilm_variants --tag llrd --llrd 0.8 --lr 1e-4
    python -m research.minilm_variants --tag ema --ema 0.999

What it showed is in ``research/README.md`` (minilm: what else was tried).
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from emotion_clf import load_dataset, split_by_batch
from emotion_clf.data.loader import Dataset
from emotion_clf.data.schema import HEADS, SCHEMA
from emotion_clf.evaluation import label_indices
from emotion_clf.models.minilm import validation_metrics
from emotion_clf.models.minilm.encoder import (
    MultiTaskMiniLM,
    load_pretrained_encoder,
    load_tokenizer,
    pad,
    pretrained_folder,
    tokenize,
)
from emotion_clf.models.minilm.training import linear_schedule, logits_fp32, training_batches
from research.epoch_record import print_epoch

DATA = Path(__file__).resolve().parents[1] / "data" / "raw"


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5, help="encoder peak learning rate")
    ap.add_argument("--trainval", action="store_true", help="train on train + validation")
    ap.add_argument("--ema", type=float, default=0, help="evaluate an EMA of the weights")
    ap.add_argument("--llrd", type=float, default=1.0, help="layer-wise learning-rate decay")
    ap.add_argument("--rdrop", type=float, default=0, help="R-Drop KL weight (two passes)")
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-steps", type=int, help="stop early (smoke runs)")
    ap.add_argument("--tag", default="")
    return ap.parse_args()


def param_groups(module: MultiTaskMiniLM, *, lr: float, llrd: float) -> list[dict[str, Any]]:
    """The product's groups (no decay on biases and LayerNorm, heads at 1e-3), with the
    encoder's learning rate multiplied by ``llrd`` once per layer below the top."""
    encoder = module.encoder
    encoder.get_input_embeddings().weight.requires_grad_(False)
    layers = int(encoder.config.num_hidden_layers)

    def depth(name: str) -> int:
        if name.startswith("embeddings"):
            return 0
        if name.startswith("encoder.layer."):
            return int(name.split(".")[2]) + 1
        return layers + 1

    groups: list[dict[str, Any]] = []
    for name, p in encoder.named_parameters():
        if p.requires_grad:
            decay = 0.0 if name.endswith("bias") or "LayerNorm" in name else 0.01
            scaled = lr * llrd ** (layers + 1 - depth(name))
            groups.append({"params": [p], "lr": scaled, "weight_decay": decay})
    groups.append({"params": list(module.heads.parameters()), "lr": 1e-3, "weight_decay": 0.0})
    return groups


def main() -> None:
    a = parse_args()
    split = split_by_batch(load_dataset(DATA))
    train = split.train
    if a.trainval:
        train = Dataset(frame=pd.concat([split.train.frame, split.validation.frame]))
    folder = pretrained_folder()
    tok = load_tokenizer(folder)
    torch.manual_seed(a.seed)
    sizes = {h: len(SCHEMA.labels(h)) for h in HEADS}
    module = MultiTaskMiniLM(load_pretrained_encoder(folder), sizes, dropout=a.dropout)
    opt = torch.optim.AdamW(param_groups(module, lr=a.lr, llrd=a.llrd), fused=True)
    ids = tokenize(tok, train.texts, max_length=64)
    lengths = [len(r) for r in ids]
    targets = {
        h: torch.from_numpy(label_indices(train.frame[h].tolist(), SCHEMA.labels(h), head=h))
        for h in HEADS
    }
    total = a.epochs * -(-len(ids) // a.batch_size)
    total = min(total, a.max_steps or total)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, linear_schedule(int(0.06 * total), total))
    lossf = nn.CrossEntropyLoss(label_smoothing=a.label_smoothing)
    kl = nn.KLDivLoss(reduction="batchmean", log_target=True)
    rng = np.random.default_rng(a.seed)
    ema = copy.deepcopy(module) if a.ema else None
    started, step = time.time(), 0
    for epoch in range(1, a.epochs + 1):
        module.train()
        for rows in training_batches(lengths, batch_size=a.batch_size, rng=rng):
            if step >= total:
                break
            x, m = pad([ids[i] for i in rows], pad_id=tok.pad_token_id)
            idx = torch.from_numpy(rows)
            if a.rdrop:  # two dropout passes, symmetric KL between them
                lg, n = module(torch.cat([x, x]), torch.cat([m, m])), len(rows)
                loss = torch.zeros(())
                for h in HEADS:
                    l1, l2, t = lg[h][:n], lg[h][n:], targets[h][idx]
                    p1, p2 = l1.log_softmax(-1), l2.log_softmax(-1)
                    loss = loss + (lossf(l1, t) + lossf(l2, t)) / 2
                    loss = loss + a.rdrop * 0.5 * (kl(p1, p2) + kl(p2, p1))
            else:
                lg = module(x, m)
                loss = sum((lossf(lg[h], targets[h][idx]) for h in HEADS), torch.zeros(()))
            loss.backward()
            nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            if ema is not None:
                with torch.no_grad():
                    d = min(a.ema, (1 + step) / (10 + step))
                    for pe, pm in zip(ema.parameters(), module.parameters(), strict=True):
                        pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        scored = ema if ema is not None else module
        metrics = {
            part: validation_metrics(
                logits_fp32(scored, tok, rows.texts, max_length=64),
                rows,
                schema=SCHEMA,
                decoding="joint",
            )
            for part, rows in (("val", split.validation), ("test", split.test))
        }
        print_epoch(a.tag, epoch, started, metrics["val"], metrics["test"])


if __name__ == "__main__":
    main()

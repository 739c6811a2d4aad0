"""Does the previous line of the transcript help? MiniLM with context (issue 3 experiment).

An experiment script, not the product. Each sentence is encoded as
``[CLS] sentence [SEP] context [SEP]`` (context = the previous labelled line of the same
batch, token type 1) and mean-pooled over the sentence's own tokens only, so the context can
inform the sentence vector without diluting it. With ``--context-dropout p`` a row is trained
without its context with probability p (each epoch), so the model still works on a lone
sentence. Otherwise the recipe is the default one (3 epochs, lr 5e-5, label smoothing 0.1,
frozen token embeddings, ``joint`` decoding). After each epoch it prints validation and test
metrics with context, and test metrics without it::

    python -m research.minilm_context --context prev --context-dropout 0.2

What it showed is in ``research/README.md`` (minilm: what else was tried).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from emotion_clf import load_dataset, split_by_batch
from emotion_clf.data.loader import Dataset
from emotion_clf.data.schema import HEADS, SCHEMA
from emotion_clf.evaluation import label_indices
from emotion_clf.models.minilm import DEFAULT_PARAMS, validation_metrics
from emotion_clf.models.minilm.encoder import (
    MultiTaskMiniLM,
    load_pretrained_encoder,
    load_tokenizer,
    pretrained_folder,
)
from emotion_clf.models.minilm.training import linear_schedule, optimizer_for, training_batches
from research.epoch_record import emotion, print_epoch

DATA = Path(__file__).resolve().parents[1] / "data" / "raw"
Encoded = tuple[list[int], int]  # token ids, length of the sentence's own part


def context_of(frame: pd.DataFrame, mode: str) -> list[str]:
    by_batch = frame.groupby("batch")["text"]
    prev = by_batch.shift(1).fillna("").tolist()
    if mode == "prev":
        return prev
    if mode == "prevnext":
        nxt = by_batch.shift(-1).fillna("").tolist()
        return [f"{p} | {n}" if p or n else "" for p, n in zip(prev, nxt, strict=True)]
    return [""] * len(frame)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--context", choices=("none", "prev", "prevnext"), default="prev")
    ap.add_argument("--context-dropout", type=float, default=0.2)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-steps", type=int, help="stop early (smoke runs)")
    a = ap.parse_args()
    split = split_by_batch(load_dataset(DATA))
    folder = pretrained_folder()
    tok = load_tokenizer(folder)
    torch.manual_seed(a.seed)
    sizes = {h: len(SCHEMA.labels(h)) for h in HEADS}
    module = MultiTaskMiniLM(load_pretrained_encoder(folder), sizes, dropout=0.1)

    def encode(texts: Sequence[str], contexts: Sequence[str]) -> list[Encoded]:
        out: list[Encoded] = []
        for text, context in zip(texts, contexts, strict=True):
            own = tok(text, truncation=True, max_length=64)["input_ids"]
            if context:
                extra = tok(context, add_special_tokens=False, truncation=True, max_length=48)
                out.append((own + extra["input_ids"] + [tok.sep_token_id], len(own)))
            else:
                out.append((own, len(own)))
        return out

    def forward(rows: Sequence[Encoded]) -> dict[str, torch.Tensor]:
        width = max(len(ids) for ids, _ in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        mask, types, pool = torch.zeros_like(ids), torch.zeros_like(ids), torch.zeros_like(ids)
        for i, (row, own) in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
            types[i, own : len(row)] = 1
            pool[i, :own] = 1
        hidden = module.encoder(
            input_ids=ids, attention_mask=mask, token_type_ids=types
        ).last_hidden_state
        weights = pool.unsqueeze(-1).to(hidden.dtype)
        vector = module.dropout((hidden * weights).sum(1) / weights.sum(1))
        return {h: module.heads[h](vector) for h in HEADS}

    def logits(encoded: list[Encoded]) -> dict[str, np.ndarray]:
        module.eval()
        order = np.argsort([len(ids) for ids, _ in encoded])
        out = {h: np.zeros((len(encoded), n), np.float32) for h, n in sizes.items()}
        with torch.inference_mode():
            for start in range(0, len(encoded), 128):
                rows = order[start : start + 128]
                result = forward([encoded[i] for i in rows])
                for h in HEADS:
                    out[h][rows] = result[h].numpy()
        module.train()
        return out

    train = split.train.frame
    train_context = context_of(train, a.context)
    targets = {
        h: torch.from_numpy(label_indices(train[h].tolist(), SCHEMA.labels(h), head=h))
        for h in HEADS
    }
    opt = optimizer_for(module, {**DEFAULT_PARAMS, "seed": a.seed})
    total = a.epochs * -(-len(train) // 32)
    total = min(total, a.max_steps or total)
    step = 0
    sched = torch.optim.lr_scheduler.LambdaLR(opt, linear_schedule(int(0.06 * total), total))
    lossf = nn.CrossEntropyLoss(label_smoothing=0.1)
    val = encode(split.validation.texts, context_of(split.validation.frame, a.context))
    test = encode(split.test.texts, context_of(split.test.frame, a.context))
    test_alone = encode(split.test.texts, [""] * len(split.test))
    rng = np.random.default_rng(a.seed)
    started = time.time()
    for epoch in range(1, a.epochs + 1):
        drop = rng.random(len(train)) < a.context_dropout
        contexts = ["" if d else c for c, d in zip(train_context, drop, strict=True)]
        encoded = encode(train["text"].tolist(), contexts)
        for rows in training_batches([len(ids) for ids, _ in encoded], batch_size=32, rng=rng):
            if step >= total:
                break
            step += 1
            result = forward([encoded[i] for i in rows])
            idx = torch.from_numpy(rows)
            loss = sum((lossf(result[h], targets[h][idx]) for h in HEADS), torch.zeros(()))
            loss.backward()
            nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)

        def scores(encoded: list[Encoded], rows: Dataset) -> dict[str, float]:
            return validation_metrics(logits(encoded), rows, schema=SCHEMA, decoding="joint")

        vm, tm, ta = (
            scores(val, split.validation),
            scores(test, split.test),
            scores(test_alone, split.test),
        )
        print_epoch(a.context, epoch, started, vm, tm, test_emo_without_context=emotion(ta))


if __name__ == "__main__":
    main()

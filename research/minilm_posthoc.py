"""Post-hoc changes to a trained minilm bundle, tuned on validation, scored on test (issue 3).

An experiment script, not the product. Without retraining, it tries to lift emotion
accuracy / macro-F1 of a bundle (the default training's, for the numbers in
``research/README.md``):

* decoding weights: ``joint`` with ``a * log p_emotion(parent) + b * log p_sub``;
* one additive bias per emotion, by coordinate ascent on validation accuracy + macro-F1;
* kNN interpolation: the heads' probabilities mixed with the labels of the k nearest training
  sentences (cosine, on the model's own pooled vectors);
* a context stacker: logistic regression on the log-probabilities of the row and of its
  neighbouring lines in the same batch, fitted on validation::

    python -m research.minilm_posthoc --bundle /tmp/minilm-default
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

from emotion_clf import load_dataset, split_by_batch
from emotion_clf.data.loader import Dataset
from emotion_clf.data.schema import HEADS, SCHEMA
from emotion_clf.models.base import HeadProbabilities, decode
from emotion_clf.models.bundle import load_bundle
from emotion_clf.models.minilm import MiniLMModel
from emotion_clf.models.minilm.batching import sorted_batches
from emotion_clf.models.minilm.encoder import mean_pool, pad, tokenize

DATA = Path(__file__).resolve().parents[1] / "data" / "raw"
EMOTIONS = np.array(SCHEMA.labels("emotion"))
PARENT = np.array(SCHEMA.parent_index())


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(1, keepdims=True)
    return x - np.log(np.exp(x).sum(1, keepdims=True))


def scores(rows: Dataset, predicted: Sequence[str]) -> tuple[float, float]:
    truth = rows.frame["emotion"].to_numpy()
    return accuracy_score(truth, predicted), f1_score(truth, predicted, average="macro")


def show(name: str, val: tuple[float, float], test: tuple[float, float]) -> None:
    print(f"| {name} | {val[0]:.4f} / {val[1]:.4f} | {test[0]:.4f} / {test[1]:.4f} |")


def sentence_vectors(model: MiniLMModel, texts: Sequence[str]) -> np.ndarray:
    tok, module = model.tokenizer_, model.module_.eval()
    ids = tokenize(tok, texts, max_length=64)
    out = np.zeros((len(ids), module.encoder.config.hidden_size), np.float32)
    with torch.inference_mode():
        for rows in sorted_batches([len(r) for r in ids], batch_size=128):
            x, m = pad([ids[i] for i in rows], pad_id=int(tok.pad_token_id))
            hidden = module.encoder(input_ids=x, attention_mask=m).last_hidden_state
            out[rows] = mean_pool(hidden, m).numpy()
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", type=Path, required=True)
    a = ap.parse_args()
    split = split_by_batch(load_dataset(DATA))
    model = load_bundle(a.bundle)
    assert isinstance(model, MiniLMModel)
    model = model.with_runtime("torch-fp32")
    parts = {"val": split.validation, "test": split.test}
    logits = {p: model.logits(rows.texts) for p, rows in parts.items()}
    logp = {p: {h: log_softmax(v[h]) for h in HEADS} for p, v in logits.items()}

    def joint(p: str, a_: float = 1.0, b_: float = 1.0, bias: np.ndarray | None = None) -> list:
        q = a_ * logp[p]["emotion"][:, PARENT] + b_ * logp[p]["sub_emotion"]
        if bias is not None:
            q = q + bias[PARENT]
        return EMOTIONS[PARENT[q.argmax(1)]].tolist()

    print("| variant | validation emotion acc / macro-F1 | test emotion acc / macro-F1 |")
    print("|---|---|---|")
    show(
        "joint (the default)", scores(parts["val"], joint("val")), scores(split.test, joint("test"))
    )
    for a_, b_ in ((1, 0.5), (1, 0.75), (0.75, 1), (0.5, 1)):
        show(
            f"joint, weights {a_} / {b_}",
            scores(parts["val"], joint("val", a_, b_)),
            scores(split.test, joint("test", a_, b_)),
        )

    bias = np.zeros(len(EMOTIONS))
    for _ in range(3):
        for c in range(len(EMOTIONS)):
            best = (sum(scores(parts["val"], joint("val", bias=bias))), bias[c])
            for d in np.linspace(-1, 1, 21):
                trial = bias.copy()
                trial[c] = d
                score = sum(scores(parts["val"], joint("val", bias=trial)))
                if score > best[0]:
                    best = (score, d)
            bias[c] = best[1]
    show(
        f"per-emotion bias tuned on validation {np.round(bias, 2).tolist()}",
        scores(parts["val"], joint("val", bias=bias)),
        scores(split.test, joint("test", bias=bias)),
    )

    train_vectors = sentence_vectors(model, split.train.texts)
    onehot = {
        h: np.eye(len(SCHEMA.labels(h)))[
            pd.Categorical(split.train.frame[h], categories=SCHEMA.labels(h)).codes
        ]
        for h in HEADS
    }
    vectors = {p: sentence_vectors(model, rows.texts) for p, rows in parts.items()}
    for k, temperature, mix in ((16, 0.05, 0.2), (64, 0.05, 0.2), (64, 0.05, 0.4), (16, 0.02, 0.2)):
        predicted = {}
        for p in parts:
            sim = vectors[p] @ train_vectors.T
            top = np.argpartition(-sim, k, axis=1)[:, :k]
            w = np.exp(np.take_along_axis(sim, top, 1) / temperature)
            w /= w.sum(1, keepdims=True)
            probs = {
                h: (1 - mix) * np.exp(logp[p][h]) + mix * np.einsum("nk,nkc->nc", w, onehot[h][top])
                for h in HEADS
            }
            predicted[p] = decode(HeadProbabilities(**probs), SCHEMA, "joint").labels("emotion")
        show(
            f"kNN k={k} T={temperature} mix={mix}",
            scores(parts["val"], predicted["val"]),
            scores(split.test, predicted["test"]),
        )

    def stack_features(p: str, offsets: Sequence[int]) -> np.ndarray:
        rows = parts[p].frame
        own = pd.DataFrame(np.hstack([logp[p][h] for h in HEADS]), index=rows.index)
        columns: list[pd.DataFrame | pd.Series] = [own]
        for k in offsets:
            shifted = own.groupby(rows["batch"].to_numpy()).shift(k)
            columns += [shifted.fillna(0.0), shifted.isna().any(axis=1).astype(float)]
        return pd.concat(columns, axis=1).to_numpy()

    warnings.filterwarnings("ignore")  # lbfgs convergence notices
    for offsets in ((), (1,), (1, -1), (1, 2, -1, -2)):
        for strength in (0.01, 0.1):
            fitted = LogisticRegression(C=strength, max_iter=2000).fit(
                stack_features("val", offsets), parts["val"].frame["emotion"]
            )
            predicted = fitted.predict(stack_features("test", offsets))
            show(
                f"stacker fitted on validation, neighbours {list(offsets)}, C={strength}",
                (float("nan"), float("nan")),
                scores(split.test, predicted),
            )


if __name__ == "__main__":
    main()

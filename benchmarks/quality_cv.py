"""How much the test split decides the score: grouped k-fold cross-validation over batches.

The quality targets are measured on one fixed test split (5 of the 32 batches). Batches are
whole videos and differ a lot in difficulty, so this script estimates what the default
training scores on unseen videos in general: the 32 batches are dealt into ``--folds``
groups (sorted names shuffled with ``--seed``, dealt round robin); for each group a model is
trained with the family's default parameters on all other batches (no validation split: every
epoch is trained and the last is kept, which is the epoch the default minilm run keeps anyway)
and evaluated on the held-out group. Reports accuracy / macro-F1 per head for each fold and
pooled over all 32 batches, and emotion accuracy per batch, with the fixed test split's batches
marked::

    python benchmarks/quality_cv.py --families tfidf minilm --folds 4

Writes ``benchmarks/results/quality_cv.json`` and prints tables. minilm takes about 6 minutes a
fold on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
FAMILIES = ("tfidf", "minilm")


def deal_folds(batches: list[str], *, folds: int, seed: int) -> list[list[str]]:
    order = sorted(batches)
    random.Random(seed).shuffle(order)
    return [sorted(order[k::folds]) for k in range(folds)]


def head_metrics(evaluation: Any) -> dict[str, dict[str, float]]:
    return {
        head: {"accuracy": evaluation[head].accuracy, "macro_f1": evaluation[head].macro_f1}
        for head in ("emotion", "sub_emotion", "intensity")
    }


def row_folds(n_rows: int, *, folds: int, seed: int) -> np.ndarray:
    """Fold number per row, at random: the leaky protocol (neighbouring lines of one video
    land in training and test), only to compare with numbers measured that way."""
    return np.random.default_rng(seed).integers(0, folds, size=n_rows)


def run_family(
    family: str,
    dataset: Any,
    masks: list[np.ndarray],
    *,
    whole_batches: bool,
    max_steps: int | None,
) -> dict[str, Any]:
    import pandas as pd

    from emotion_clf.data.loader import Dataset
    from emotion_clf.evaluation import evaluation_from_predictions
    from emotion_clf.models import evaluate
    from emotion_clf.models.bundle import family_class

    params: dict[str, Any] = {"max_steps": max_steps} if max_steps else {}
    folds: list[dict[str, Any]] = []
    predicted: dict[str, list[np.ndarray]] = {
        h: [] for h in ("emotion", "sub_emotion", "intensity")
    }
    held_rows = []
    per_batch: dict[str, float] = {}
    for k, mask in enumerate(masks):
        if not mask.any():
            continue
        held = sorted(dataset.frame.loc[mask, "batch"].unique().tolist())
        train, test = dataset.subset(~mask), dataset.subset(mask)
        started = time.perf_counter()
        model = family_class(family)(**params).fit(train)
        seconds = time.perf_counter() - started
        evaluation = evaluate(model, test)
        folds.append(
            {
                "fold": k,
                "held_out_batches": held,
                "train_rows": len(train),
                "test_rows": len(test),
                "train_seconds": round(seconds, 1),
                "metrics": head_metrics(evaluation),
            }
        )
        correct = evaluation["emotion"].correct
        for batch, rows in test.frame.groupby("batch").indices.items():
            per_batch[str(batch)] = float(correct[rows].mean())
        for head in predicted:
            predicted[head].append(evaluation[head].y_pred)
        held_rows.append(test.frame)
        print(
            f"{family} fold {k}: emotion accuracy {evaluation['emotion'].accuracy:.3f} "
            f"({seconds:.0f}s training)",
            file=sys.stderr,
        )
    pooled_rows = Dataset(frame=pd.concat(held_rows))
    pooled = evaluation_from_predictions(
        schema=model.schema,
        dataset=pooled_rows,
        predicted={h: np.concatenate(v) for h, v in predicted.items()},
    )
    fold_acc = [f["metrics"]["emotion"]["accuracy"] for f in folds]
    return {
        "folds": folds,
        "pooled": head_metrics(pooled),
        # under the row protocol a batch's rows are spread over the folds: no per-batch score
        "emotion_accuracy_per_batch": dict(sorted(per_batch.items())) if whole_batches else {},
        "emotion_accuracy_fold_mean": float(np.mean(fold_acc)),
        "emotion_accuracy_fold_sd": float(np.std(fold_acc, ddof=1)) if len(fold_acc) > 1 else 0.0,
    }


def render(results: dict[str, Any], test_batches: set[str]) -> str:
    lines = [
        "| family | fold | rows | emotion acc / mF1 | sub-emotion acc / mF1 "
        "| intensity acc / mF1 |",
        "|---|---|---|---|---|---|",
    ]

    def cells(m: dict[str, dict[str, float]]) -> str:
        return " | ".join(
            f"{m[h]['accuracy']:.3f} / {m[h]['macro_f1']:.3f}"
            for h in ("emotion", "sub_emotion", "intensity")
        )

    for family, r in results["families"].items():
        for f in r["folds"]:
            lines.append(f"| {family} | {f['fold']} | {f['test_rows']} | {cells(f['metrics'])} |")
        rows = sum(f["test_rows"] for f in r["folds"])
        lines.append(f"| {family} | **pooled** | {rows} | {cells(r['pooled'])} |")
    if not next(iter(results["families"].values()))["emotion_accuracy_per_batch"]:
        return "\n".join(lines)
    lines += ["", "emotion accuracy per held-out batch (* = in the fixed test split):", ""]
    families = list(results["families"])
    lines += ["| batch | " + " | ".join(families) + " |", "|---|" + "---|" * len(families)]
    batches = sorted(next(iter(results["families"].values()))["emotion_accuracy_per_batch"])
    for batch in batches:
        mark = "*" if batch in test_batches else ""
        values = " | ".join(
            f"{results['families'][f]['emotion_accuracy_per_batch'][batch]:.3f}" for f in families
        )
        lines.append(f"| {batch}{mark} | {values} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--protocol",
        choices=("batch", "row"),
        default="batch",
        help="batch: whole videos per fold (the honest one); row: rows at random (leaky)",
    )
    parser.add_argument("--only-folds", type=int, nargs="+", help="run only these folds")
    parser.add_argument("--max-steps", type=int, help="cap minilm training (smoke runs only)")
    parser.add_argument("--data", type=Path, default=HERE.parent / "data" / "raw")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "quality_cv.json")
    args = parser.parse_args()

    from emotion_clf.data.loader import load_dataset
    from emotion_clf.data.split import split_by_batch

    dataset = load_dataset(args.data)
    n_batches = dataset.frame["batch"].nunique()
    if not 2 <= args.folds <= n_batches:
        parser.error(f"--folds must be between 2 and the number of batches ({n_batches})")
    if args.only_folds and not set(args.only_folds) <= set(range(args.folds)):
        parser.error(f"--only-folds takes fold numbers from 0 to {args.folds - 1}")
    split = split_by_batch(dataset)
    test_batches = {b for b, part in split.assignment.items() if part == "test"}
    groups: list[list[str]] = []
    if args.protocol == "batch":
        groups = deal_folds(
            sorted(dataset.frame["batch"].unique().tolist()), folds=args.folds, seed=args.seed
        )
        masks = [dataset.frame["batch"].isin(g).to_numpy() for g in groups]
    else:
        fold_of = row_folds(len(dataset), folds=args.folds, seed=args.seed)
        masks = [fold_of == k for k in range(args.folds)]
    if args.only_folds:
        masks = [m if k in args.only_folds else np.zeros_like(m) for k, m in enumerate(masks)]
    results: dict[str, Any] = {
        "command": " ".join(["python", "benchmarks/quality_cv.py", *sys.argv[1:]]),
        "protocol": args.protocol,
        "held_out_per_fold": groups,
        "fixed_test_split": sorted(test_batches),
        "families": {},
    }
    for family in args.families:
        results["families"][family] = run_family(
            family,
            dataset,
            masks,
            whole_batches=args.protocol == "batch",
            max_steps=args.max_steps if family == "minilm" else None,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results, test_batches))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()

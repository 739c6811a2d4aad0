"""Tables and the judgement of a cross-validation results file (``quality_cv.py`` writes it).

Every number is computed from the confusion matrices the file stores per fold: a fold's
metrics from its own matrix, the pooled metrics (all 32 videos, each row scored by the model
that never saw its video) from the sum of a seed's fold matrices. Macro-F1 averages over the
labels present in the truth or the predictions, as ``emotion_clf.evaluation`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

HEADS = ("emotion", "sub_emotion", "intensity")
FOCUS = ("fear", "disgust", "anger", "sadness")  # the rare emotions the transfer is for
MIN_MACRO_F1 = 0.52  # issue 15: emotion macro-F1, pooled, mean over seeds
MAX_OTHER_DROP = 0.005  # sub-emotion and intensity may not lose more than half a point
MIN_STUDENT_GAIN = 0.015  # issue 30: a distilled student's emotion accuracy over plain minilm
MIN_TEACHER_GAIN = 0.02  # issue 30's cost gate: the teacher's, before any student is trained


def confusion(y_true: Sequence[int], y_pred: Sequence[int], n: int) -> list[list[int]]:
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix.tolist()


def f1_per_class(matrix: np.ndarray) -> np.ndarray:
    tp = np.diag(matrix).astype(float)
    denominator = matrix.sum(axis=0) + matrix.sum(axis=1)
    return np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)


def metrics(matrix: Any, *, over: Sequence[int] | None = None) -> dict[str, float]:
    """Accuracy and macro-F1 of a confusion matrix; macro-F1 over ``over`` (label indices)
    or, by default, the labels present in the truth or the predictions."""
    m = np.asarray(matrix)
    present = over if over is not None else np.flatnonzero(m.sum(axis=0) + m.sum(axis=1))
    return {
        "accuracy": float(np.trace(m) / m.sum()),
        "macro_f1": float(f1_per_class(m)[list(present)].mean()),
    }


def labels(head: str) -> tuple[str, ...]:
    from emotion_clf.data import SCHEMA

    return SCHEMA.labels(head)


def seed_summary(folds: dict[str, Any]) -> dict[str, Any]:
    """One seed's pooled matrices and metrics, and each fold's metrics."""
    pooled = {h: sum(np.asarray(f["confusion"][h]) for f in folds.values()) for h in HEADS}
    out: dict[str, Any] = {
        "pooled": {h: metrics(pooled[h]) for h in HEADS},
        "per_class_f1": dict(
            zip(labels("emotion"), f1_per_class(pooled["emotion"]).tolist(), strict=True)
        ),
        "folds": {k: {h: metrics(f["confusion"][h]) for h in HEADS} for k, f in folds.items()},
        "rows": int(pooled["emotion"].sum()),
        "train_seconds": [f["train_seconds"] for f in folds.values()],
        "goemotions_test": [
            goemotions_metrics(f["goemotions_test"])
            for f in folds.values()
            if "goemotions_test" in f
        ],
        "transfer_seconds": [
            f["transfer_stage"]["seconds"]
            for f in folds.values()
            if "transfer_stage" in f and not f["transfer_stage"]["cached"]
        ],
    }
    return out


def goemotions_metrics(scores: dict[str, Any]) -> dict[str, float]:
    """Emotion accuracy / macro-F1 and sub-emotion accuracy / macro-F1 over GoEmotions' own
    labels (those with rows in its test split; a prediction of one of our two other
    sub-emotions counts as a miss)."""
    sub = np.asarray(scores["sub_emotion"])
    own = np.flatnonzero(sub.sum(axis=1))
    emotion, sub_metrics = metrics(scores["emotion"]), metrics(sub, over=own)
    return {
        "emotion_accuracy": emotion["accuracy"],
        "emotion_macro_f1": emotion["macro_f1"],
        "sub_emotion_accuracy": sub_metrics["accuracy"],
        "sub_emotion_macro_f1": sub_metrics["macro_f1"],
    }


def summarise(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per run label: per seed summaries, and means over the seeds."""
    out: dict[str, dict[str, Any]] = {}
    for label, run in results["runs"].items():
        seeds = {s: seed_summary(f) for s, f in sorted(run["seeds"].items()) if f}
        if not seeds:
            continue
        out[label] = {"seeds": seeds}
    return out


def mean_sd(values: Sequence[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"


def _cells(m: dict[str, dict[str, float]]) -> str:
    return " | ".join(f"{m[h]['accuracy']:.3f} / {m[h]['macro_f1']:.3f}" for h in HEADS)


def judge(summary: dict[str, Any], *, baseline: str, candidate: str) -> list[tuple[str, bool]]:
    """Issue 15's criteria for ``candidate`` against ``baseline``, on the seeds both have."""
    base, cand = summary[baseline]["seeds"], summary[candidate]["seeds"]
    seeds = sorted(set(base) & set(cand))

    def mean(run: dict[str, Any], head: str, metric: str) -> float:
        return float(np.mean([run[s]["pooled"][head][metric] for s in seeds]))

    checks: list[tuple[str, bool]] = []
    mf1 = mean(cand, "emotion", "macro_f1")
    checks.append(
        (
            f"emotion macro-F1 {mf1:.3f} >= {MIN_MACRO_F1} (pooled, mean of "
            f"{len(seeds)} seeds; {baseline} {mean(base, 'emotion', 'macro_f1'):.3f})",
            mf1 >= MIN_MACRO_F1,
        )
    )
    acc_c, acc_b = mean(cand, "emotion", "accuracy"), mean(base, "emotion", "accuracy")
    checks.append((f"emotion accuracy {acc_c:.3f} not lower than {acc_b:.3f}", acc_c >= acc_b))
    for head in ("sub_emotion", "intensity"):
        for metric in ("accuracy", "macro_f1"):
            c, b = mean(cand, head, metric), mean(base, head, metric)
            checks.append(
                (
                    f"{head} {metric} {c:.3f} vs {b:.3f}: change {100 * (c - b):+.2f} "
                    f"points (at most -{100 * MAX_OTHER_DROP:.1f})",
                    c - b >= -MAX_OTHER_DROP,
                )
            )
    per_seed = [
        cand[s]["pooled"]["emotion"]["macro_f1"] - base[s]["pooled"]["emotion"]["macro_f1"]
        for s in seeds
    ]
    checks.append(
        (
            f"emotion macro-F1 gain in every seed ({', '.join(f'{d:+.3f}' for d in per_seed)})",
            all(d > 0 for d in per_seed),
        )
    )
    pairs = [
        cand[s]["folds"][k]["emotion"]["macro_f1"] - base[s]["folds"][k]["emotion"]["macro_f1"]
        for s in seeds
        for k in sorted(set(cand[s]["folds"]) & set(base[s]["folds"]))
    ]
    wins = sum(d > 0 for d in pairs)
    checks.append(
        (
            f"emotion macro-F1 gain in {wins} of {len(pairs)} (seed, fold) pairs "
            f"(mean {np.mean(pairs):+.3f}, min {min(pairs):+.3f})",
            wins == len(pairs),
        )
    )
    return checks


def paired(results: dict[str, Any], *, baseline: str, candidate: str) -> dict[str, Any] | None:
    """Both runs pooled over the (seed, fold) pairs they share, so a run of one fold compares
    with the same fold of a complete one; None where they share none."""
    base, cand = results["runs"][baseline]["seeds"], results["runs"][candidate]["seeds"]
    pairs = [
        (s, k) for s in sorted(set(base) & set(cand)) for k in sorted(set(base[s]) & set(cand[s]))
    ]
    if not pairs:
        return None

    def pooled(run: dict[str, Any]) -> dict[str, dict[str, float]]:
        return {
            h: metrics(sum(np.asarray(run[s][k]["confusion"][h]) for s, k in pairs)) for h in HEADS
        }

    return {"pairs": pairs, "baseline": pooled(base), "candidate": pooled(cand)}


def same_folds(results: dict[str, Any], baseline: str, candidate: str) -> bool:
    """Whether both runs hold the same folds for every seed they share."""
    base, cand = results["runs"][baseline]["seeds"], results["runs"][candidate]["seeds"]
    return all(set(base[s]) == set(cand[s]) for s in set(base) & set(cand))


def _pair_cell(m: dict[str, float]) -> str:
    return f"{m['accuracy']:.3f} / {m['macro_f1']:.3f}"


def distillation_verdict(pair: dict[str, Any], *, bar: float) -> tuple[str, bool]:
    """Issue 30's bar: emotion accuracy at least ``bar`` above plain minilm's (1.5 points for a
    student, 2 for the teacher's cost gate), emotion macro-F1 not lower."""
    b, c = pair["baseline"]["emotion"], pair["candidate"]["emotion"]
    gain, f1_gain = c["accuracy"] - b["accuracy"], c["macro_f1"] - b["macro_f1"]
    text = (
        f"emotion accuracy {c['accuracy']:.3f} vs {b['accuracy']:.3f} ({100 * gain:+.1f} points, "
        f"bar +{100 * bar:.1f}), macro-F1 {c['macro_f1']:.3f} vs "
        f"{b['macro_f1']:.3f} ({100 * f1_gain:+.1f}), on {len(pair['pairs'])} (seed, fold) pairs"
    )
    return text, gain >= bar - 1e-12 and f1_gain >= 0


def render(results: dict[str, Any], *, baseline: str = "plain") -> str:
    summary = summarise(results)
    lines = [
        "| run | seed | fold | rows | emotion acc / mF1 | sub-emotion acc / mF1 "
        "| intensity acc / mF1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, s in summary.items():
        for seed, r in s["seeds"].items():
            folds = results["runs"][label]["seeds"][seed]
            for k, m in sorted(r["folds"].items()):
                lines.append(f"| {label} | {seed} | {k} | {folds[k]['test_rows']} | {_cells(m)} |")
            lines.append(f"| {label} | {seed} | **pooled** | {r['rows']} | {_cells(r['pooled'])} |")
    lines += [
        "",
        "Pooled over all held-out rows, mean ± sd over seeds:",
        "",
        "| run | seeds | emotion acc | emotion mF1 | sub-emotion acc | sub-emotion mF1 "
        "| intensity acc | intensity mF1 | train s / fold |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, s in summary.items():
        seeds = s["seeds"].values()
        cells = [
            mean_sd([r["pooled"][h][m] for r in seeds])
            for h in HEADS
            for m in ("accuracy", "macro_f1")
        ]
        seconds = [t for r in seeds for t in r["train_seconds"]]
        lines.append(f"| {label} | {len(seeds)} | {' | '.join(cells)} | {np.mean(seconds):.0f} |")
    lines += [
        "",
        "Emotion F1 per class, pooled, mean over seeds:",
        "",
        "| run | " + " | ".join(FOCUS) + " | other classes |",
        "|---|" + "---|" * (len(FOCUS) + 1),
    ]
    for label, s in summary.items():
        f1 = {
            c: np.mean([r["per_class_f1"][c] for r in s["seeds"].values()])
            for c in labels("emotion")
        }
        rest = ", ".join(f"{c} {v:.3f}" for c, v in f1.items() if c not in FOCUS)
        lines.append(f"| {label} | " + " | ".join(f"{f1[c]:.3f}" for c in FOCUS) + f" | {rest} |")
    go = {
        label: [g for r in s["seeds"].values() for g in r["goemotions_test"]]
        for label, s in summary.items()
    }
    if any(go.values()):
        keys = (
            "sub_emotion_macro_f1",
            "sub_emotion_accuracy",
            "emotion_accuracy",
            "emotion_macro_f1",
        )
        lines += [
            "",
            "GoEmotions test split (single-label rows, our mapping), mean ± sd over "
            "every fold model:",
            "",
            "| run | models | sub-emotion mF1 (its 28 labels) | sub-emotion acc "
            "| emotion acc | emotion mF1 |",
            "|---|---|---|---|---|---|",
        ]
        for label, scores in go.items():
            if scores:
                cells = " | ".join(mean_sd([g[k] for g in scores]) for k in keys)
                lines.append(f"| {label} | {len(scores)} | {cells} |")
    stages = {
        label: [t for r in s["seeds"].values() for t in r["transfer_seconds"]]
        for label, s in summary.items()
    }
    for label, seconds in stages.items():
        if seconds:
            lines.append(
                f"\n{label}: transfer stage trained {len(seconds)} time(s), "
                f"{np.mean(seconds):.0f} s each on average (cached for the other folds)"
            )
    if baseline in summary:
        for label in summary:
            pair = (
                None if label == baseline else paired(results, baseline=baseline, candidate=label)
            )
            if pair is None:
                continue
            heads = " | ".join(
                f"{_pair_cell(pair['candidate'][h])} (was {_pair_cell(pair['baseline'][h])})"
                for h in HEADS
            )
            teacher = results["runs"][label].get("family") == "teacher"
            text, ok = distillation_verdict(
                pair, bar=MIN_TEACHER_GAIN if teacher else MIN_STUDENT_GAIN
            )
            lines += [
                "",
                f"{label} against {baseline} on the (seed, fold) pairs both have "
                f"(emotion, sub-emotion, intensity acc / mF1): {heads}",
                f"- [{'x' if ok else ' '}] issue 30's "
                + ("cost gate" if teacher else "bar for a student")
                + f": {text}",
            ]
        for label in summary:
            if label == baseline or summary[label].get("seeds") is None:
                continue
            if not set(summary[label]["seeds"]) & set(summary[baseline]["seeds"]):
                continue
            if not same_folds(results, baseline, label):
                continue  # pooled over other folds: only the paired comparison above holds
            lines += ["", f"{label} against {baseline} (issue 15's criteria):", ""]
            lines += [
                f"- [{'x' if ok else ' '}] {text}"
                for text, ok in judge(summary, baseline=baseline, candidate=label)
            ]
    return "\n".join(lines)

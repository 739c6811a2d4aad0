"""Figures of evaluations and of a paired comparison, for the notebooks and the training runs
the registry logs. Each takes results already computed and draws them; pyplot is imported
only when a figure is drawn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from emotion_clf.data.schema import HEADS
from emotion_clf.evaluation.metrics import Evaluation
from emotion_clf.evaluation.paired import Comparison

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# the learning curves' names for the history's loss keys (models/minilm/training.py)
LOSS_NAMES = {"train_loss": "training loss", "val_loss": "validation loss"}


def _pyplot() -> Any:
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


MANY = 12  # classes beyond which a head gets a figure of its own size (sub-emotion: 30)


def _confusion_axes(ax: Any, evaluation: Evaluation, head: str) -> None:
    """One head's matrix on ``ax``: colour the share of the true row, text the count.

    Counts are written in every non-zero cell (a 30-class matrix has mostly empty cells, and
    a zero written 900 times hides the few confusions that matter)."""
    confusion = evaluation[head].confusion()
    labels = confusion["labels"]
    matrix = np.asarray(confusion["matrix"], dtype=float)
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    many = len(labels) > MANY
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=9)
    ax.set_yticks(range(len(labels)), labels, fontsize=9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{head} (accuracy {evaluation[head].accuracy:.3f}, {int(matrix.sum())} rows)")
    for i in range(len(labels)):
        for j in range(len(labels)):
            if many and matrix[i, j] == 0:
                continue
            ax.text(
                j,
                i,
                int(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=7 if many else 9,
                color="white" if share[i, j] > 0.5 else "black",
            )


def confusion_figure(
    evaluation: Evaluation, *, title: str = "", heads: Sequence[str] = HEADS
) -> Figure:
    """Row-normalised confusion matrices of ``heads``, with the counts in the cells.

    Heads with few classes (emotion, intensity) sit side by side in one row; a head with many
    (sub-emotion, 30) gets a row of its own, 12 inches square, so that its labels and counts
    stay readable in a report instead of shrinking to a strip beside the others."""
    plt = _pyplot()
    small = [h for h in heads if len(evaluation[h].confusion()["labels"]) <= MANY]
    large = [h for h in heads if h not in small]
    heights = [6.0] * bool(small) + [12.0] * len(large)
    # constrained layout keeps the title clear of the panels' own titles (tight_layout does not)
    fig = plt.figure(
        figsize=(max(12.0, 6.5 * len(small)), sum(heights) + 0.6 * bool(title)),
        layout="constrained",
    )
    grid = fig.add_gridspec(len(heights), max(1, len(small)), height_ratios=heights)
    for column, head in enumerate(small):
        _confusion_axes(fig.add_subplot(grid[0, column]), evaluation, head)
    for row, head in enumerate(large, start=bool(small)):
        _confusion_axes(fig.add_subplot(grid[row, :]), evaluation, head)
    if title:
        fig.suptitle(title)
    return fig


def _per_class_order(per_class: Mapping[str, Mapping[str, Mapping[str, float]]]) -> list[str]:
    """Classes with rows in any evaluation, best F1 of the first evaluation first."""
    first = next(iter(per_class.values()))
    labels = {label for pc in per_class.values() for label in pc if pc[label]["support"] > 0}
    return sorted(labels, key=lambda label: (-first.get(label, {}).get("f1", -1.0), label))


def per_class_f1_figure(
    reports: Mapping[str, Evaluation], *, head: str = "emotion", title: str = ""
) -> Figure:
    """Per-class F1 of several evaluations (for example candidate vs baseline), as horizontal
    bars sorted by the first evaluation's F1, best at the top.

    Each row is labelled with its class and its number of true rows (``n``; one number per
    evaluation when they differ), because an F1 of 0.000 on 6 rows and on 600 are different
    news. The height grows with the classes so that 30 sub-emotions stay readable."""
    plt = _pyplot()
    names: Sequence[str] = list(reports)
    per_class = {name: ev[head].per_class() for name, ev in reports.items()}
    labels = _per_class_order(per_class)
    supports = [
        [int(per_class[name].get(label, {}).get("support", 0)) for name in names]
        for label in labels
    ]
    ticks = [
        f"{label}  n={'/'.join(map(str, n)) if len(set(n)) > 1 else n[0]}"
        for label, n in zip(labels, supports, strict=True)
    ]
    per_row = 0.22 + 0.14 * len(names)
    fig, ax = plt.subplots(figsize=(9, max(2.8, 1.4 + per_row * len(labels))))
    height = 0.8 / max(1, len(names))
    rows = np.arange(len(labels))
    for k, name in enumerate(names):
        values = [per_class[name].get(label, {}).get("f1", 0.0) for label in labels]
        ax.barh(rows + k * height, values, height, label=name)
    ax.set_yticks(rows + height * (len(names) - 1) / 2, ticks, fontsize=10)
    ax.invert_yaxis()  # best at the top
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    order = f"sorted by {names[0]} F1" if len(names) > 1 else "sorted by F1"
    ax.set_title(title or f"{head}: per-class F1 ({order})")
    fig.tight_layout()
    return fig


def metric_label(key: str) -> str:
    """A history key in words: ``val_sub_emotion_macro_f1`` -> ``sub-emotion macro-F1``,
    ``val_score_joint`` -> ``selection score (joint)``."""
    name = key.removeprefix("val_")
    if name == "score":
        return "selection score"
    if name.startswith("score_"):
        return f"selection score ({name.removeprefix('score_').replace('_', ' ')})"
    for head in ("sub_emotion", "emotion", "intensity"):
        if name.startswith(head + "_"):
            metric = name.removeprefix(head + "_")
            metric = {"macro_f1": "macro-F1", "weighted_f1": "weighted-F1"}.get(metric, metric)
            return f"{head.replace('_', '-')} {metric}"
    return name.replace("_", " ")


def learning_curves_figure(
    history: Sequence[Mapping[str, float]], *, title: str = "", kept_epoch: int | None = None
) -> Figure | None:
    """Per epoch: the losses on the left, the validation metrics (each in 0-1) on a 0-1 axis
    on the right, and the epoch training kept (``kept_epoch``) marked on both; None when the
    family has no epochs. Counters (steps, seconds) are not curves and are left out.

    The loss panel draws the training loss and, beside it, the validation loss (the same loss
    on the validation rows): a gap that opens between them is overfitting, which the metrics
    panel alone does not show until the metrics fall."""
    if not history:
        return None
    plt = _pyplot()
    epochs = [row.get("epoch", i + 1) for i, row in enumerate(history)]
    keys = {k for row in history for k in row}
    # training first, validation beside it, then any other loss a family records
    losses = sorted((k for k in keys if "loss" in k), key=lambda k: (k not in LOSS_NAMES, k))
    metrics = sorted(
        k
        for k in keys
        if k.startswith("val_")
        and "loss" not in k
        and all(0.0 <= row.get(k, 0.0) <= 1.0 for row in history)
    )
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4))
    for key in losses:
        left.plot(
            epochs,
            [row.get(key, np.nan) for row in history],
            marker="o",
            linestyle="--" if key.startswith("val_") else "-",
            label=LOSS_NAMES.get(key, key),
        )
    left.set_title("loss")
    for key in metrics:  # the key stays on the line as its gid
        right.plot(
            epochs,
            [row.get(key, np.nan) for row in history],
            marker="o",
            label=metric_label(key),
            gid=key,
        )
    right.set_ylim(0, 1)
    right.set_title("validation")
    for ax in (left, right):
        ax.set_xlabel("epoch")
        ax.set_xticks(epochs)
        if kept_epoch is not None:
            ax.axvline(kept_epoch, color="grey", linestyle="--", label=f"kept: epoch {kept_epoch}")
    if left.get_legend_handles_labels()[0]:
        left.legend(fontsize=7)
    if right.get_legend_handles_labels()[0]:  # beside the panel: inside, it hid the curves
        right.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def delta_ci_figure(comparison: Comparison | None) -> Figure | None:
    """Macro-F1 delta (candidate - baseline) per head with its 95% bootstrap interval."""
    if comparison is None:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 2.6))
    for y, head in enumerate(HEADS):
        c = comparison[head]
        low, high = c.macro_f1_ci
        delta = c.deltas["macro_f1"]
        colour = "tab:green" if low > 0 else ("tab:red" if high < 0 else "tab:gray")
        ax.errorbar(
            delta, y, xerr=[[delta - low], [high - delta]], fmt="o", color=colour, capsize=4
        )
        ax.annotate(
            f"{delta:+.3f} [{low:+.3f}, {high:+.3f}]",
            (high, y),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(HEADS)), HEADS)
    ax.invert_yaxis()
    ax.set_xlabel("macro-F1 delta, candidate - baseline (95% paired bootstrap CI)")
    ax.margins(x=0.35)
    fig.tight_layout()
    return fig


def side_by_side_f1_figure(
    candidate: Evaluation, baseline: Evaluation | None, head: str
) -> Figure | None:
    """Per-class F1 of baseline and candidate on the same rows, as paired bars."""
    if baseline is None:
        return None
    return per_class_f1_figure(
        {"baseline": baseline, "candidate": candidate},
        head=head,
        title=f"{head}: per-class F1, baseline vs candidate",
    )

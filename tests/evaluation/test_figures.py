"""The figures read right: tested on their data (axes, lines, marks), not on pixels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from emotion_clf.evaluation.figures import (
    confusion_figure,
    learning_curves_figure,
    per_class_f1_figure,
)
from tests.evaluation.builders import BASE, evaluation

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

HISTORY = [
    {"epoch": 1.0, "steps": 700.0, "train_loss": 2.1, "train_seconds": 81.0,
     "val_emotion_macro_f1": 0.31, "val_score": 0.35},
    {"epoch": 2.0, "steps": 1400.0, "train_loss": 1.6, "train_seconds": 79.0,
     "val_emotion_macro_f1": 0.44, "val_score": 0.47},
    {"epoch": 3.0, "steps": 2100.0, "train_loss": 1.4, "train_seconds": 80.0,
     "val_emotion_macro_f1": 0.43, "val_score": 0.46},
]  # fmt: skip


def test_validation_metrics_are_on_a_0_1_axis_and_the_kept_epoch_is_marked() -> None:
    fig = learning_curves_figure(HISTORY, title="minilm", kept_epoch=2)
    assert fig is not None
    loss, validation = fig.axes
    curves = {line.get_gid(): list(line.get_ydata()) for line in validation.lines}
    # steps (0-2,100) and seconds are counters, not curves: they would flatten the metrics
    assert set(curves) == {"val_emotion_macro_f1", "val_score", None}  # None: the kept mark
    assert validation.get_ylim() == (0.0, 1.0)
    assert curves["val_score"] == [0.35, 0.47, 0.46]
    # labelled in words, the legend beside the panel rather than over the curves
    labels = [t.get_text() for t in validation.get_legend().get_texts()]
    assert labels == ["emotion macro-F1", "selection score", "kept: epoch 2"]
    assert validation.get_legend().get_bbox_to_anchor().x0 > validation.bbox.x1
    assert [line.get_label() for line in loss.lines] == ["training loss", "kept: epoch 2"]
    for ax in (loss, validation):
        [mark] = [line for line in ax.lines if line.get_label().startswith("kept")]
        assert list(mark.get_xdata()) == [2, 2]  # a vertical line at the kept epoch
    assert learning_curves_figure([]) is None


def _inches(fig: Figure, ax: Axes) -> tuple[float, float]:
    box = ax.get_window_extent().transformed(fig.dpi_scale_trans.inverted())
    return box.width, box.height


def test_thirty_classes_are_sorted_horizontal_bars_at_a_readable_size() -> None:
    ev = {"validation": evaluation(BASE, seed=1), "test": evaluation(BASE, seed=2)}
    fig = per_class_f1_figure(ev, head="sub_emotion")
    [ax] = fig.axes
    first = ev["validation"]["sub_emotion"].per_class()
    expected = sorted(first, key=lambda label: (-first[label]["f1"], label))
    shown = [t.get_text().split("  n=")[0] for t in ax.get_yticklabels()]
    assert shown == expected  # best at the top (the y axis is inverted), not alphabetical
    assert ax.yaxis_inverted()
    bars = ax.patches
    validation = [p.get_width() for p in ax.containers[0]]
    assert validation == [first[label]["f1"] for label in expected]  # bar lengths are F1
    assert ax.get_xlim() == (0.0, 1.0)
    assert len(bars) == 2 * len(expected)
    assert fig.get_size_inches()[1] >= 0.3 * len(expected)  # tall enough for 30 rows
    assert min(t.get_fontsize() for t in ax.get_yticklabels()) >= 9
    plt.close(fig)


def test_per_class_labels_carry_their_sample_size() -> None:
    ev = evaluation(BASE, seed=3)
    fig = per_class_f1_figure({"feedback": ev}, head="emotion")
    per_class = ev["emotion"].per_class()
    for tick in fig.axes[0].get_yticklabels():
        label, n = tick.get_text().split("  n=")
        assert int(n) == per_class[label]["support"]
    plt.close(fig)


def test_sub_emotion_confusion_is_large_with_counts_in_the_cells() -> None:
    ev = evaluation(BASE, seed=4)
    fig = confusion_figure(ev, title="test split")
    axes = {ax.get_title().split(" ")[0]: ax for ax in fig.axes}
    sub = axes["sub_emotion"]
    width, height = _inches(fig, sub)
    assert min(width, height) >= 8  # was a 350 px strip beside the two small heads
    assert min(t.get_fontsize() for t in sub.get_xticklabels()) >= 8
    matrix = np.asarray(ev["sub_emotion"].confusion()["matrix"])
    written = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in sub.texts}
    assert set(written) == {tuple(ij) for ij in np.argwhere(matrix > 0)}  # zeros left blank
    assert all(int(t.get_text()) == matrix[ij] for ij, t in written.items())
    # emotion and intensity keep every count, side by side above it
    assert len(axes["emotion"].texts) == len(ev["emotion"].confusion()["labels"]) ** 2
    assert _inches(fig, axes["emotion"])[1] < height
    only = confusion_figure(ev, heads=("emotion", "intensity"))
    assert [ax.get_title().split(" ")[0] for ax in only.axes] == ["emotion", "intensity"]
    plt.close("all")


def test_top_confusions_are_the_biggest_off_diagonal_cells() -> None:
    head = evaluation(BASE, seed=5)["sub_emotion"]
    top = head.top_confusions(10)
    matrix = np.zeros((len(head.labels),) * 2, dtype=int)
    np.add.at(matrix, (head.y_true, head.y_pred), 1)
    np.fill_diagonal(matrix, 0)
    assert [row["count"] for row in top] == sorted(matrix.ravel(), reverse=True)[:10]
    for row in top:
        t, p = head.labels.index(row["true"]), head.labels.index(row["predicted"])
        assert t != p and matrix[t, p] == row["count"]
        assert row["share of true"] == row["count"] / (head.y_true == t).sum()

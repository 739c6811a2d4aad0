"""The drift report's own plots: what the signals compared, reference against current.

Evidently's report (embedded below them) shows each column in its own widget; these put the
two samples side by side on one scale. Shares are in percent of each sample's rows, because
the two samples differ in size (4,501 test rows against a 1,926-row reference): counts side
by side would show a size, not a drift.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from emotion_clf.data.schema import HEADS
from emotion_clf.monitoring.drift_runs import TEST_SPLIT, DriftRun

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

REFERENCE, CURRENT = "reference", "current"
COLOURS = {REFERENCE: "tab:gray", CURRENT: "tab:purple"}

EXPECTED_DRIFT = (
    "**Drift is expected here.** The held-out test batches are shows the model never saw in "
    "training: other series, other speakers, another mix of emotions. The reference is rows "
    "of the training shows, so the texts, their lengths and the model's answers differ, and "
    "the check says so. That shows the check can see a change of data; it is not a fault of "
    "the model or of production. Drift on the live prediction log (`make drift "
    "PREDICTIONS=true`), or on new data from the shows the model was trained on, is what "
    "calls for a look (and perhaps retraining)."
)


def expected_drift_note(current: str) -> str | None:
    """Why drift is expected for the data checked (Markdown), or None when it is not."""
    return EXPECTED_DRIFT if current == TEST_SPLIT else None


def label_shares(
    reference: Sequence[str], current: Sequence[str]
) -> tuple[list[str], list[float], list[float]]:
    """Labels (most frequent in the reference first) and their share, in %, of each sample."""
    ref, cur = Counter(reference), Counter(current)
    labels = sorted(set(ref) | set(cur), key=lambda label: (-ref[label], -cur[label], label))
    return (
        labels,
        [100 * ref[label] / max(1, len(reference)) for label in labels],
        [100 * cur[label] / max(1, len(current)) for label in labels],
    )


def _shares_axes(ax: Axes, head: str, reference: Sequence[str], current: Sequence[str]) -> None:
    labels, ref, cur = label_shares(reference, current)
    rows = np.arange(len(labels))
    ax.barh(
        rows - 0.2, ref, 0.4, label=f"{REFERENCE} ({len(reference)} rows)", color=COLOURS[REFERENCE]
    )
    ax.barh(rows + 0.2, cur, 0.4, label=f"{CURRENT} ({len(current)} rows)", color=COLOURS[CURRENT])
    ax.set_yticks(rows, labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("% of rows")
    ax.set_title(f"predicted {head}")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")


def label_shares_figure(run: DriftRun) -> Figure | None:
    """The predicted labels of each head, in % of rows, reference against current (None when
    the run kept no samples)."""
    if run.reference is None or run.current is None:
        return None
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(13, 10))
    grid = fig.add_gridspec(2, 2, height_ratios=[7, 3])
    places = {"emotion": grid[0, 0], "intensity": grid[1, 0], "sub_emotion": grid[:, 1]}
    for head in HEADS:
        _shares_axes(
            fig.add_subplot(places[head]),
            head,
            run.reference.labels[head],
            run.current.labels[head],
        )
    fig.tight_layout()
    return fig


def _histogram(
    ax: Axes, reference: Sequence[float], current: Sequence[float], bins: np.ndarray
) -> None:
    for name, values in ((REFERENCE, reference), (CURRENT, current)):
        data = np.clip(np.asarray(values, dtype=float), bins[0], bins[-1])
        weights = np.full(len(data), 100 / max(1, len(data)))
        ax.hist(
            data,
            bins=bins.tolist(),
            weights=weights,
            histtype="stepfilled" if name == REFERENCE else "step",
            alpha=0.45 if name == REFERENCE else 1.0,
            linewidth=2,
            color=COLOURS[name],
            label=f"{name} ({len(data)} rows)",
        )
    ax.set_ylabel("% of rows")
    ax.legend(fontsize=8)


def distributions_figure(run: DriftRun) -> Figure | None:
    """Text length and each head's confidence, reference against current, as histograms in
    % of rows (lengths past the 99th percentile are counted in the last bin)."""
    if run.reference is None or run.current is None:
        return None
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 7))
    lengths = [*run.reference.lengths, *run.current.lengths]
    top = max(10.0, float(np.percentile(lengths, 99)))
    _histogram(axes[0, 0], run.reference.lengths, run.current.lengths, np.linspace(0, top, 31))
    axes[0, 0].set_title("text length")
    axes[0, 0].set_xlabel("characters")
    for ax, head in zip(axes.ravel()[1:], HEADS, strict=True):
        _histogram(
            ax,
            run.reference.confidences[head],
            run.current.confidences[head],
            np.linspace(0, 1, 21),
        )
        ax.set_title(f"{head} confidence")
        ax.set_xlabel("confidence of the predicted label")
    fig.tight_layout()
    return fig

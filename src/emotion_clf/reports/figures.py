"""Figures only the reports need (the shared ones are in :mod:`emotion_clf.plots`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emotion_clf.data.schema import HEADS
from emotion_clf.plots import per_class_f1_figure
from emotion_clf.promotion.lifecycle import ComparisonReport

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def delta_ci_figure(report: ComparisonReport) -> Figure | None:
    """Macro-F1 delta (candidate - baseline) per head with its 95% bootstrap interval."""
    comparison = report.decision.comparison
    if comparison is None:
        return None
    import matplotlib.pyplot as plt

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


def side_by_side_f1_figure(report: ComparisonReport, head: str) -> Figure | None:
    """Per-class F1 of baseline and candidate on the same rows, as paired bars."""
    if report.baseline_eval is None:
        return None
    return per_class_f1_figure(
        {"baseline": report.baseline_eval, "candidate": report.candidate_eval},
        head=head,
        title=f"{head}: per-class F1, baseline vs candidate",
    )

"""Drift and true performance over time, for the index and the monitoring reports.

Each figure needs two points at least (one point is not a trend: None then). Time runs along
the x axis as dates, so checks and reports that were not evenly spaced read as they were.
:func:`figure_html` embeds a figure in a page as a PNG, with its words as alt text.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from emotion_clf.monitoring.performance import trend

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _when(texts: Sequence[Any]) -> Any:
    """ISO 8601 times as matplotlib's date numbers."""
    import matplotlib.dates as mdates

    return mdates.date2num([datetime.fromisoformat(str(t)) for t in texts])


def _date_axis(fig: Figure) -> None:
    import matplotlib.dates as mdates

    for ax in fig.axes:
        ax.xaxis_date()
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))


def drift_over_time_figure(history: Sequence[Mapping[str, Any]]) -> Figure | None:
    """The drift score (share of signals flagging) of each saved check, red where the verdict
    was drift, green where not."""
    points = [h for h in history if h.get("at")]
    if len(points) < 2:
        return None
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.8))
    times = _when([h["at"] for h in points])
    scores = [float(h.get("score", 0.0)) for h in points]
    ax.plot(times, scores, color="tab:gray", linewidth=1, zorder=1)
    ax.scatter(
        times,
        scores,
        c=["tab:red" if h.get("drift") else "tab:green" for h in points],
        zorder=2,
    )
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of signals flagging")
    ax.set_title("drift checks (red: drift)")
    _date_axis(fig)
    fig.tight_layout()
    return fig


def performance_over_time_figure(
    history: Sequence[Mapping[str, Any]], *, head: str = "emotion"
) -> Figure | None:
    """Accuracy and macro-F1 of ``head`` for each model on the feedback, report by report."""
    frame = trend(history)
    if frame.empty or frame["at"].nunique() < 2:
        return None
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.8))
    for model, rows in frame.groupby("model", sort=False):
        times = _when(list(rows["at"]))
        for metric, style in (("accuracy", "-"), ("macro-F1", "--")):
            ax.plot(
                times,
                rows[f"{head} {metric}"],
                linestyle=style,
                marker="o",
                label=f"{model} {metric}",
            )
    ax.set_ylim(0, 1)
    ax.set_ylabel(f"{head} on feedback")
    ax.set_title(f"true performance ({head})")
    ax.legend(fontsize=7, loc="lower left")
    _date_axis(fig)
    fig.tight_layout()
    return fig


def figure_html(fig: Figure, *, alt: str) -> str:
    """``fig`` as an ``<img>`` with the PNG inline (the index is one self-contained file);
    the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"<img src='data:image/png;base64,{data}' alt='{html.escape(alt)}'>"

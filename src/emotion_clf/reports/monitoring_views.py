"""Tables and figures for the monitoring notebooks (05-drift-report, 06-performance-report).

Like :mod:`.views`, each renders a result the package already computed.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from emotion_clf.data.schema import HEADS
from emotion_clf.monitoring.drift_runs import DriftRun
from emotion_clf.monitoring.performance import PerformanceRun, trend
from emotion_clf.reports.views import markdown

if TYPE_CHECKING:
    from IPython.display import HTML, Markdown
    from matplotlib.figure import Figure


def drift_verdict(run: DriftRun) -> Markdown:
    """The headline: drift or not, on what, against what, which signals, and any notes."""
    r = run.report
    flagged = [s.name for s in r.signals if s.drifted]
    text = (
        f"## {'Drift found' if r.drifted else 'No drift'}\n\n"
        f"{r.current} ({r.current_rows} rows) against {r.reference} ({r.reference_rows} rows): "
        f"{len(flagged)} of {len(r.signals)} signals flag drift"
        + (f" ({', '.join(flagged)})." if flagged else ".")
    )
    notes = [*r.notes, *run.warnings]
    if notes:
        text += "\n\n" + "\n".join(f"- {note}" for note in notes)
    return markdown(text)


def evidently_report(run: DriftRun, *, height: int = 1100) -> HTML:
    """Evidently's report, whole, in a frame of fixed height (its own frame resizes itself
    with scripts that exported reports do not always run)."""
    from IPython.display import HTML

    page = run.report.snapshot.get_html_str(as_iframe=False)
    return HTML(
        f'<iframe srcdoc="{html.escape(page, quote=True)}" '
        f'style="width:100%;height:{height}px;border:1px solid #ddd"></iframe>'
    )


def drift_signals_frame(run: DriftRun) -> pd.DataFrame:
    """Each signal: its test, score, threshold and whether it flags drift."""
    rows = [
        {
            "signal": s.name,
            "test": s.method,
            "score": s.score,
            "threshold": s.threshold,
            "result": "DRIFT" if s.drifted else "ok",
        }
        for s in run.report.signals
    ]
    return pd.DataFrame(rows).set_index("signal").round(4)


def drift_history_frame(history: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Every saved check, oldest first: when, on what, the verdict and the signals flagged."""
    rows = [
        {
            "at": h.get("at"),
            "model": h.get("model"),
            "current": h.get("current"),
            "rows": h.get("current_rows"),
            "drift": h.get("drift"),
            "score": h.get("score"),
            "flagged": ", ".join(s["name"] for s in h.get("signals", []) if s.get("drifted")),
        }
        for h in history
    ]
    return pd.DataFrame(
        rows, columns=["at", "model", "current", "rows", "drift", "score", "flagged"]
    )


def drift_history_figure(history: Sequence[Mapping[str, Any]]) -> Figure | None:
    """The drift score (share of signals flagging) of each saved check, in order."""
    if len(history) < 2:
        return None
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 2.8))
    scores = [h.get("score", 0.0) for h in history]
    colours = ["tab:red" if h.get("drift") else "tab:green" for h in history]
    ax.bar(range(len(history)), scores, color=colours)
    ax.set_xticks(
        range(len(history)),
        [str(h.get("at", ""))[:16] for h in history],
        rotation=45,
        ha="right",
        fontsize=7,
    )
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of signals flagging")
    ax.set_title("drift checks over time (red: drift)")
    fig.tight_layout()
    return fig


def performance_frame(run: PerformanceRun) -> pd.DataFrame:
    """Accuracy and macro-F1 per head of each model, and of the live answers."""
    report = run.report
    scored = {f"{ref} ({report.labels[ref]})": e for ref, e in report.models.items()}
    if report.live is not None:
        scored[f"live answers ({report.live.rows} rows)"] = report.live
    columns = {
        name: {
            f"{h} {metric}": evaluation[h].summary()[metric]
            for h in HEADS
            for metric in ("accuracy", "macro_f1")
        }
        for name, evaluation in scored.items()
    }
    return pd.DataFrame(columns).round(3)


def model_confusion(run: PerformanceRun, ref: str) -> Figure | None:
    """The confusion matrices of model ``ref`` on the feedback (None if it was not scored)."""
    from emotion_clf.evaluation.figures import confusion_figure

    evaluation = run.report.models.get(ref)
    if evaluation is None:
        return None
    return confusion_figure(evaluation, title=f"{ref} ({run.report.labels[ref]}) on feedback")


def feedback_markdown(run: PerformanceRun) -> Markdown:
    report = run.report
    text = (
        f"**{report.rows}** training-ready feedback rows from {report.files} file(s); "
        f"**{report.quarantined}** kept in quarantine (not scored, not trained on); "
        f"{len(report.problems)} bad row(s) skipped."
    )
    if report.problems:
        text += "\n\n" + "\n".join(f"- {p}" for p in report.problems[:20])
    if report.notes:
        text += "\n\n" + "\n".join(f"- {n}" for n in report.notes)
    return markdown(text)


def trend_frame(history: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    return trend(history).round(3)


def trend_figure(history: Sequence[Mapping[str, Any]], head: str = "emotion") -> Figure | None:
    """Accuracy of each model on the feedback over the saved reports."""
    frame = trend(history)
    if frame.empty or frame["at"].nunique() < 2:
        return None
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3))
    for model, rows in frame.groupby("model"):
        ax.plot(range(len(rows)), rows[f"{head} accuracy"], marker="o", label=str(model))
    ax.set_ylabel(f"{head} accuracy")
    ax.set_xlabel("report")
    ax.legend(fontsize=8)
    ax.set_title(f"{head} accuracy on feedback, report by report")
    fig.tight_layout()
    return fig

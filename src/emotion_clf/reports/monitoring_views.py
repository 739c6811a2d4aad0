"""Tables and figures for the monitoring notebooks (05-drift-report, 06-performance-report)
and the shadow-traffic section of 02-compare-baseline.

Like :mod:`.views`, each renders a result the package already computed.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from emotion_clf.data.schema import HEADS
from emotion_clf.monitoring.drift_runs import DriftRun
from emotion_clf.monitoring.performance import PerformanceRun, trend
from emotion_clf.monitoring.predictions import read_prediction_log
from emotion_clf.monitoring.shadow import ShadowReport, shadow_agreement
from emotion_clf.reports.drift_figures import expected_drift_note
from emotion_clf.reports.over_time import drift_over_time_figure, performance_over_time_figure
from emotion_clf.reports.views import markdown, show

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
    expected = expected_drift_note(r.current)
    if expected and r.drifted:
        text += f"\n\n{expected}"
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
    """The drift score (share of signals flagging) of each saved check, over time."""
    return drift_over_time_figure(history)


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


def show_model_confusions(run: PerformanceRun) -> None:
    """Display the confusion matrices of each model scored, once per version (``baseline``
    and ``dynamic`` on the same version were scored once)."""
    for ref in run.report.models:
        show(model_confusion(run, ref))


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
    """Accuracy and macro-F1 of each model on the feedback, over the saved reports."""
    return performance_over_time_figure(history, head=head)


def shadow_report(folder: Path, *, days: float) -> ShadowReport:
    """Agreement of the shadow candidate with the served model over the last ``days`` of the
    prediction log in ``folder`` (``EMOTION_CLF_SHADOW_RATE`` above 0 writes it)."""
    since = datetime.now(UTC) - timedelta(days=days)
    return shadow_agreement(read_prediction_log(folder, since=since).records)


def shadow_markdown(report: ShadowReport) -> Markdown:
    if report.pairs == 0:
        return markdown(
            "No shadow answers in the prediction log: serve with `EMOTION_CLF_SHADOW_RATE` "
            "above 0 to compare the candidate on live traffic before promoting it."
        )
    rates = ", ".join(
        f"{head} {tally.rate:.1%}" for head, tally in report.heads.items() if tally.rate is not None
    )
    return markdown(
        f"**{report.pairs}** live answers with a shadow answer (served "
        f"{report.served_versions}, candidate {report.candidate_versions}). "
        f"Agreement: {rates}."
    )


def shadow_frame(report: ShadowReport, head: str = "emotion") -> pd.DataFrame:
    """Agreement per label the served model gave, for ``head``."""
    rows = [
        {"served label": label, "agree": agree, "total": total, "rate": agree / total}
        for label, (agree, total) in sorted(report.heads[head].per_label.items())
    ]
    return pd.DataFrame(rows, columns=["served label", "agree", "total", "rate"])


def shadow_examples_frame(report: ShadowReport) -> pd.DataFrame:
    rows = [
        {
            "head": e.head,
            "served": e.served,
            "candidate": e.candidate,
            "text": e.text if e.text is not None else f"sha256 {str(e.text_sha256)[:12]}",
        }
        for e in report.examples
    ]
    return pd.DataFrame(rows, columns=["head", "served", "candidate", "text"])

"""``perf-report``'s page: true performance on feedback, in the site's style, with plots.

It is written beside the site (``reports/performance/<time>-performance.html``) and linked
from the index's performance card. Each class's scores carry their number of rows and 95%
intervals: feedback is small (a class with 6 rows and an F1 of 0.000 is weak evidence), and
a page that shows the score alone reads it as a finding.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from emotion_clf.data.schema import HEADS
from emotion_clf.evaluation.figures import per_class_f1_figure
from emotion_clf.monitoring.performance import PerformanceReport, trend
from emotion_clf.reports.over_time import figure_html, performance_over_time_figure
from emotion_clf.reports.style import SITE_STYLE
from emotion_clf.reports.views import per_class_frame

PAGE_STYLE = """
table.frame { width: auto; margin-bottom: 1rem; }
table.frame td { text-align: right; font-variant-numeric: tabular-nums; }
.figure img { max-width: 100%; }
nav { margin-bottom: 1rem; }
"""


def scored_names(report: PerformanceReport) -> dict[str, str]:
    """ref -> how it is shown (``baseline: v1 (baseline = dynamic)``)."""
    return {ref: f"{ref}: {report.labels.get(ref, ref)}" for ref in report.models}


def feedback_per_class_frame(report: PerformanceReport, head: str) -> pd.DataFrame:
    """Per class of ``head``, most rows first: its rows in the feedback (``n``), then for
    each model F1 with a bootstrap 95% interval and recall with Wilson's 95% interval."""
    names = scored_names(report)
    columns = ["f1", "f1 95% CI", "recall", "recall 95% CI"]
    frames = {names[ref]: per_class_frame(e, head) for ref, e in report.models.items()}
    first = next(iter(frames.values()))
    joined = pd.concat({name: frame[columns] for name, frame in frames.items()}, axis=1)
    joined.insert(0, ("", "n"), first["n"])
    return joined.loc[first.index]


def summary_frame(report: PerformanceReport) -> pd.DataFrame:
    """Accuracy, macro-F1 and weighted F1 per head of each model, and of the live answers."""
    scored = {scored_names(report)[ref]: e for ref, e in report.models.items()}
    if report.live is not None:
        scored[f"live answers ({report.live.rows} rows)"] = report.live
    return pd.DataFrame(
        {
            name: {
                f"{h} {label}": e[h].summary()[m]
                for h in HEADS
                for m, label in (
                    ("accuracy", "accuracy"),
                    ("macro_f1", "macro-F1"),
                    ("weighted_f1", "weighted F1"),
                )
            }
            for name, e in scored.items()
        }
    ).round(3)


def _table(frame: pd.DataFrame, **options: Any) -> str:
    return frame.to_html(classes="frame", border=0, **options)


def _when(at: str) -> str:
    return datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M UTC")


def performance_page(report: PerformanceReport, earlier: Sequence[Mapping[str, Any]]) -> str:
    """The page: what was scored, per head, per class (plots and tables with ``n`` and
    intervals), the trend over the saved reports, and the rows that could not be read."""
    names = scored_names(report)
    evaluations = {names[ref]: e for ref, e in report.models.items()}
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    parts = [
        "<nav><a href='../index.html'>← all reports</a></nav>",
        f"<h1>True performance from feedback</h1><p class='muted'>{_when(report.at)}</p>",
        f"<p>{report.rows} training-ready rows from {report.files} feedback file(s) scored by "
        f"{', '.join(map(html.escape, evaluations))}; {report.quarantined} kept in quarantine "
        f"(not scored); {len(report.problems)} bad row(s) skipped.</p>",
        f"<ul class='notes'>{notes}</ul>" if notes else "",
        "<h2 id='per-head'>Per head</h2>",
        _table(summary_frame(report)),
        "<h2 id='per-class'>Per class</h2>",
        "<p class='muted'><b>n</b>: the class's rows in the feedback. Intervals are 95%: "
        "Wilson's for recall, a bootstrap over the rows for F1; few rows, wide interval.</p>",
    ]
    for head in HEADS:
        figure = per_class_f1_figure(
            evaluations, head=head, title=f"{head}: per-class F1 on feedback"
        )
        parts += [
            f"<h3>{head.replace('_', '-')}</h3>",
            f"<div class='figure'>{figure_html(figure, alt=f'{head}: per-class F1')}</div>",
        ]
        if head != "sub_emotion":  # its 30 rows are in the figure, with their n
            parts.append(_table(feedback_per_class_frame(report, head)))
    if len(earlier) > 1:
        over_time = performance_over_time_figure(earlier)
        parts += [
            "<h2 id='trend'>Trend</h2>",
            figure_html(over_time, alt="accuracy and macro-F1 over the reports")
            if over_time is not None
            else "",
            _table(trend(earlier).round(3), index=False),
        ]
    if report.problems:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in report.problems[:100])
        parts += ["<h2 id='bad-rows'>Bad rows</h2>", f"<ul>{items}</ul>"]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<title>true performance from feedback</title>"
        f"<style>{SITE_STYLE}{PAGE_STYLE}</style></head><body>{''.join(parts)}</body></html>\n"
    )

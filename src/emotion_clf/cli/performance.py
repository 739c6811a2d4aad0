"""``perf-report``: the models scored against the labels people sent back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from emotion_clf.cli.output import console, info, print_json, warn
from emotion_clf.config import get_settings
from emotion_clf.data.schema import HEADS

if TYPE_CHECKING:
    from emotion_clf.monitoring.performance import PerformanceReport


def show(report: PerformanceReport, html: Path) -> None:
    table = Table(
        title=f"true performance on {report.rows} feedback rows "
        f"({report.quarantined} quarantined, {len(report.problems)} bad)",
        title_justify="left",
    )
    table.add_column("model")
    for head in HEADS:
        table.add_column(f"{head} acc", justify="right")
        table.add_column(f"{head} mF1", justify="right")
    scored = {  # a label that names its reference ("v1 (baseline = dynamic)") as it is
        label if ref in label else f"{ref} = {label}": e
        for ref, e in report.models.items()
        for label in [report.labels[ref]]
    }
    if report.live is not None:
        scored[f"live answers ({report.live.rows} rows)"] = report.live
    for name, evaluation in scored.items():
        cells = []
        for head in HEADS:
            summary = evaluation[head].summary()
            cells += [f"{summary['accuracy']:.3f}", f"{summary['macro_f1']:.3f}"]
        table.add_row(name, *cells)
    console.print(table)
    for note in report.notes:
        info(note)
    for problem in report.problems[:10]:
        warn(problem)
    info(f"report: {html}")


def perf_report(
    feedback_dir: Annotated[
        Path | None, typer.Option(help="Feedback files (default: the workspace's feedback/).")
    ] = None,
    models: Annotated[
        str, typer.Option(help="Comma-separated model references to score.")
    ] = "baseline,dynamic",
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score models on the corrected labels sent to POST /feedback, and what the live server
    answered then; saves a timestamped report (HTML and JSON) under reports/performance/."""
    from emotion_clf.monitoring.performance import run_performance_report  # pandas, sklearn
    from emotion_clf.reports.performance_page import performance_page

    run = run_performance_report(
        settings=get_settings(),
        models=[r.strip() for r in models.split(",") if r.strip()],
        feedback_dir=feedback_dir,
        render=performance_page,
    )
    if json_output:
        print_json({**run.report.to_dict(), "json": str(run.json_path), "html": str(run.html_path)})
        return
    show(run.report, run.html_path)


def register(app: typer.Typer) -> None:
    app.command("perf-report")(perf_report)

"""``perf-report``: the models scored against the labels people sent back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emotion_clf.cli.output import console, info, print_json, warn
from emotion_clf.config import get_settings
from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError, ModelNotFoundError
from emotion_clf.models.base import Predictor
from emotion_clf.monitoring.performance import (
    PerformanceReport,
    performance_report,
    read_feedback,
    save_report,
)
from emotion_clf.registry import resolve_model


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
    scored = {f"{ref} = {report.labels[ref]}": e for ref, e in report.models.items()}
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
    settings = get_settings()
    feedback = read_feedback(feedback_dir or settings.feedback_dir)
    chosen: dict[str, tuple[str, Predictor]] = {}
    skipped = []
    for ref in [r.strip() for r in models.split(",") if r.strip()]:
        try:
            resolved = resolve_model(ref, settings=settings)
        except ModelNotFoundError as exc:
            skipped.append(f"{ref}: {exc}")
            continue
        chosen[ref] = (resolved.label, resolved.load())
    if not chosen:
        raise DataError(
            f"none of the models could be resolved: {'; '.join(skipped)}", field="models"
        )
    report = performance_report(
        feedback, chosen, log_folder=settings.monitoring_dir / "predictions"
    )
    report.notes.extend(f"skipped {s}" for s in skipped)
    json_path, html_path = save_report(report, folder=settings.reports_dir / "performance")
    if json_output:
        print_json({**report.to_dict(), "json": str(json_path), "html": str(html_path)})
        return
    show(report, html_path)


def register(app: typer.Typer) -> None:
    app.command("perf-report")(perf_report)

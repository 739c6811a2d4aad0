"""``drift profile | check``: reference profiles, and drift of current data against them."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emotion_clf.batch.inputs import clean_workdir
from emotion_clf.cli.output import MARKUP, console, info, print_json, show_error, warn
from emotion_clf.config import get_settings
from emotion_clf.errors import EmotionClfError
from emotion_clf.files import write_atomic
from emotion_clf.monitoring.drift import DriftReport
from emotion_clf.monitoring.drift_runs import profile_sources, run_drift_check
from emotion_clf.registry import resolve_model

app = typer.Typer(
    rich_markup_mode=MARKUP,
    help="Reference profiles, and drift of current data against them.",
    no_args_is_help=True,
)


@app.command()
def profile(
    model: Annotated[
        str, typer.Option(help="The model: a bundle, baseline, dynamic or a version.")
    ],
    data: Annotated[
        list[str], typer.Option(help="Rows the model never trained on (any batch-input format).")
    ],
    out: Annotated[Path, typer.Option(help="The profile to write (JSON).")],
) -> None:
    """Build a reference profile by hand: texts and the model's predictions on them."""
    resolved = resolve_model(model, settings=get_settings())
    workdir = Path(tempfile.mkdtemp(prefix="emotion-clf-profile-"))
    try:
        built = profile_sources(resolved, data, workdir=workdir)
    finally:
        clean_workdir(workdir)
    write_atomic(out, built.to_json())
    info(f"profile of {len(built.texts)} rows (from {built.rows}) written to {out}")


def show_report(report: DriftReport) -> None:
    verdict = "[red]DRIFT[/]" if report.drifted else "[green]no drift[/]"
    table = Table(
        title=f"{report.current} ({report.current_rows} rows) against {report.reference} "
        f"({report.reference_rows} rows)",
        title_justify="left",
    )
    for column in ("signal", "test", "score", "threshold", "result"):
        table.add_column(column, justify="right" if column in ("score", "threshold") else "left")
    for s in report.signals:
        table.add_row(
            s.name,
            s.method,
            f"{s.score:.4g}",
            f"{s.threshold:.4g}",
            "[red]drift[/]" if s.drifted else "ok",
        )
    console.print(table)
    for note in report.notes:
        info(note)
    console.print(f"verdict: {verdict} (score {report.score:.2f}: the share of signals that flag)")


@app.command()
def check(
    model: Annotated[str, typer.Option(help="Whose reference and predictions.")] = "baseline",
    reference: Annotated[
        Path | None, typer.Option(help="A profile file instead of the model's own.")
    ] = None,
    current: Annotated[
        list[str] | None,
        typer.Option(help="Current rows: a file, folder, list or URL in any batch-input format."),
    ] = None,
    predictions: Annotated[
        bool, typer.Option("--predictions", help="Current rows: the server's prediction log.")
    ] = False,
    since: Annotated[float, typer.Option(help="[--predictions] the last N days.")] = 7.0,
    azure_collected: Annotated[
        Path | None,
        typer.Option(
            help="Current rows: what a managed online endpoint's data collector stored (a "
            "folder of its model_inputs and model_outputs JSON lines, downloaded)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the HTML report and JSON (default: monitoring/drift/)."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the JSON summary.")] = False,
) -> None:
    """Compare current data with a reference profile. Exit code 1: drift; 0: none; 2: error."""
    try:
        run = run_drift_check(
            settings=get_settings(),
            model=model,
            reference=reference,
            current=current or (),
            predictions=predictions,
            since_days=since,
            azure_collected=azure_collected,
            out=out,
        )
    except EmotionClfError as exc:
        show_error(exc)
        sys.exit(2)
    for message in run.warnings:
        warn(message)
    if json_output:
        print_json(run.summary)
    else:
        show_report(run.report)
        info(f"report: {run.summary['html']}")
    raise typer.Exit(1 if run.report.drifted else 0)

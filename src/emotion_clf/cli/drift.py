"""``drift profile | check``: reference profiles, and drift of current data against them."""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emotion_clf.cli.output import console, error, info, print_json, warn
from emotion_clf.config import Settings, get_settings
from emotion_clf.data.profile import ReferenceProfile, build_profile, load_profile
from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError, EmotionClfError
from emotion_clf.files import write_atomic
from emotion_clf.monitoring.batch import LocalScorer
from emotion_clf.monitoring.drift import (
    CurrentData,
    DriftPolicy,
    DriftReport,
    check_drift,
    current_from_sources,
    save_report,
)
from emotion_clf.monitoring.inputs import InputRow, SourceReader, clean_workdir, expand_sources
from emotion_clf.monitoring.predictions import read_prediction_log
from emotion_clf.registry import ResolvedModel, resolve_model

app = typer.Typer(
    help="Reference profiles, and drift of current data against a model's.", no_args_is_help=True
)


def _reader() -> tuple[SourceReader, Path]:
    workdir = Path(tempfile.mkdtemp(prefix="emotion-clf-drift-"))
    return SourceReader(workdir=workdir), workdir


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
    settings = get_settings()
    resolved = resolve_model(model, settings=settings)
    predictor = resolved.load()
    reader, workdir = _reader()
    try:
        rows = [
            item
            for source in expand_sources(list(data))
            for item in reader.read(source)
            if isinstance(item, InputRow)
        ]
    finally:
        clean_workdir(workdir)
    if not rows:
        raise DataError("no readable rows to profile", field="data")
    batch = predictor.predict_batch([r.text for r in rows])
    built = build_profile(
        texts=[r.text for r in rows],
        batches=[Path(r.source).stem for r in rows],
        labels={h: batch.labels(h) for h in HEADS},
        confidences={h: batch.confidences(h).tolist() for h in HEADS},
        schema=predictor.schema,
        description=f"{resolved.label} on {', '.join(data)}",
    )
    write_atomic(out, built.to_json())
    info(f"profile of {len(built.texts)} rows (from {built.rows}) written to {out}")


def reference_for(resolved: ResolvedModel, given: Path | None) -> tuple[ReferenceProfile, str]:
    if given is not None:
        try:
            text = given.read_text(encoding="utf-8")
        except OSError as exc:
            raise DataError(f"cannot read the reference: {exc.strerror}", file=given) from exc
        return ReferenceProfile.from_json(text, where=str(given)), str(given)
    found = load_profile(resolved.path)
    if found is None:
        raise DataError(
            f"{resolved.label} ships no reference profile (trained before profiles existed); "
            "build one with `emotion-clf drift profile` and pass --reference FILE",
            field="reference",
        )
    return found, f"{resolved.label}'s reference profile"


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


def current_data(
    settings: Settings,
    resolved: ResolvedModel,
    current: list[str] | None,
    predictions: bool,
    since: float,
) -> CurrentData:
    if bool(current) == predictions:
        raise DataError("give --current FILE (repeatable) or --predictions, one of them")
    if predictions:
        start = datetime.now(UTC) - timedelta(days=since)
        read = read_prediction_log(settings.monitoring_dir / "predictions", since=start)
        data = CurrentData.from_log(
            read.records, description=f"the prediction log of the last {since:g} day(s)"
        )
        if read.bad_lines:
            warn(
                f"{len(read.bad_lines)} unreadable prediction log line(s), e.g. {read.bad_lines[0]}"
            )
        return data
    reader, workdir = _reader()
    try:
        scorer = LocalScorer(resolved.load(), label=resolved.label, version=resolved.version)
        return current_from_sources(current or [], scorer=scorer, reader=reader)
    finally:
        clean_workdir(workdir)


@app.command()
def check(
    model: Annotated[str, typer.Option(help="Whose reference and predictions.")] = "baseline",
    reference: Annotated[
        Path | None, typer.Option(help="A profile file instead of the model's own.")
    ] = None,
    current: Annotated[
        list[str] | None,
        typer.Option(help="Current rows: a file, folder list or URL in any batch-input format."),
    ] = None,
    predictions: Annotated[
        bool, typer.Option("--predictions", help="Current rows: the server's prediction log.")
    ] = False,
    since: Annotated[float, typer.Option(help="[--predictions] the last N days.")] = 7.0,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the HTML report and JSON (default: monitoring/drift/)."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the JSON summary.")] = False,
) -> None:
    """Compare current data with a reference profile. Exit code 1: drift; 0: none; 2: error."""
    settings = get_settings()
    try:
        resolved = resolve_model(model, settings=settings)
        profile_, reference_name = reference_for(resolved, reference)
        data = current_data(settings, resolved, current, predictions, since)
        policy = DriftPolicy(alpha=settings.drift_alpha, text_auc=settings.drift_text_auc)
        report = check_drift(profile_, data, policy=policy, reference_name=reference_name)
        summary = save_report(
            report, folder=out or settings.monitoring_dir / "drift", model=resolved.label
        )
    except EmotionClfError as exc:
        error(str(exc))
        sys.exit(2)
    if json_output:
        print_json(summary)
    else:
        show_report(report)
        info(f"report: {summary['html']}")
    raise typer.Exit(1 if report.drifted else 0)

"""``shadow-report``: how the shadow candidate agrees with the served model on live traffic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from emotion_clf.cli.output import console, info, print_json, warn
from emotion_clf.config import get_settings
from emotion_clf.monitoring.predictions import read_prediction_log
from emotion_clf.monitoring.shadow import ShadowReport, shadow_agreement


def shadow_report(
    days: Annotated[float, typer.Option(help="Read the prediction log of the last N days.")] = 7,
    examples: Annotated[int, typer.Option(help="Disagreements to show.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Agreement between baseline and the shadow candidate (EMOTION_CLF_SHADOW_RATE > 0),
    overall and per class, with examples where they differ."""
    settings = get_settings()
    since = datetime.now(UTC) - timedelta(days=days)
    read = read_prediction_log(settings.monitoring_dir / "predictions", since=since)
    report = shadow_agreement(read.records, examples=examples)
    if as_json:
        print_json(report.to_dict())
        return
    show(report)


def show(report: ShadowReport) -> None:
    if report.pairs == 0:
        warn("no shadow answers in the prediction log: is EMOTION_CLF_SHADOW_RATE above 0?")
        return
    info(
        f"{report.pairs} live answers with a shadow answer (served {report.served_versions}, "
        f"candidate {report.candidate_versions}); {report.unpaired} unpaired"
    )
    table = Table(title="agreement per head and served label", title_justify="left")
    for column in ("head", "served label", "agree", "total", "rate"):
        table.add_column(column, justify="left" if column in ("head", "served label") else "right")
    for head, tally in report.heads.items():
        table.add_row(head, "(all)", str(tally.agree), str(tally.total), f"{tally.rate or 0:.1%}")
        for label, (agree, total) in sorted(tally.per_label.items()):
            table.add_row("", label, str(agree), str(total), f"{agree / total:.1%}")
    console.print(table)
    for e in report.examples:
        text = e.text if e.text is not None else f"sha256 {str(e.text_sha256)[:12]}"
        console.print(f"{e.head}: served {e.served!r}, candidate {e.candidate!r}: {text}")


def register(app: typer.Typer) -> None:
    app.command("shadow-report")(shadow_report)

"""``report run | publish``: notebooks run by papermill, published as HTML reports.

The reports package is imported inside the commands: nbformat pulls in jsonschema's format
checkers, whose import alone takes seconds, which every other command would pay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from emotion_clf.cli.output import MARKUP, console, info, print_json
from emotion_clf.config import Settings, get_settings, project_root
from emotion_clf.errors import EmotionClfError, NotebookError

if TYPE_CHECKING:
    from emotion_clf.reports.records import ReportRecord

app = typer.Typer(
    rich_markup_mode=MARKUP,
    help="Run the notebooks as reports and publish reports/index.html.",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


def parse_parameters(args: Sequence[str]) -> dict[str, str]:
    """``-p name value`` pairs (papermill's spelling) -> ``{name: value}``."""
    parameters: dict[str, str] = {}
    rest = list(args)
    while rest:
        flag = rest.pop(0)
        if flag not in ("-p", "--parameter"):
            raise NotebookError(f"unexpected argument {flag!r}; parameters are -p NAME VALUE")
        if len(rest) < 2:
            raise NotebookError(f"{flag} needs a name and a value: -p NAME VALUE")
        name, value = rest.pop(0), rest.pop(0)
        parameters[name] = value
    return parameters


def production_header(settings: Settings) -> Callable[[Sequence[ReportRecord]], str]:
    """The state of production for the index page (the registry may be unreachable), read
    now, and rendered once the published records are known (its cards link to them)."""
    from emotion_clf.registry import ModelRegistry, open_registry
    from emotion_clf.reports.production import production_html, production_state

    registry: ModelRegistry | None
    try:
        registry = open_registry(settings, read_only=True)
    except EmotionClfError:
        registry = None
    state = production_state(
        registry=registry,
        drift_dir=settings.monitoring_dir / "drift",
        performance_dir=settings.reports_dir / "performance",
    )
    if registry is None:
        state.notes.append("the registry could not be opened")
    return lambda records: production_html(state, records)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The notebook: 01-train, train, compare-baseline…")],
    kernel: Annotated[
        str | None, typer.Option(help="Jupyter kernel to run in (default: emotion-clf).")
    ] = None,
    notebooks: Annotated[
        Path | None, typer.Option(help="Folder of notebooks (default: <project>/notebooks).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Run a notebook with parameters (-p NAME VALUE ...) and publish its HTML report.

    A failing cell exits non-zero, names the cell, and publishes nothing.
    """
    from emotion_clf.reports.keynumbers import format_value, key_label
    from emotion_clf.reports.runner import KERNEL, run_notebook
    from emotion_clf.reports.site import INDEX_HTML

    settings = get_settings()
    record = run_notebook(
        name,
        parse_parameters(ctx.args),
        notebooks_dir=notebooks or project_root() / "notebooks",
        reports_dir=settings.reports_dir,
        kernel=kernel or KERNEL,
        progress=not json_output,
        header=lambda: production_header(settings),
    )
    if json_output:
        print_json(record.to_dict())
        return
    table = Table(title=f"{record.title} ({record.seconds:.0f} s)", title_justify="left")
    table.add_column("key number")
    table.add_column("value", justify="right")
    for key, value in record.key_numbers.items():
        table.add_row(key_label(key), format_value(value))
    console.print(table)
    console.print(f"report: [bold]{settings.reports_dir / record.html}[/]")
    console.print(f"index:  [bold]{settings.reports_dir / INDEX_HTML}[/]")


@app.command()
def publish(
    missing_only: Annotated[
        bool, typer.Option(help="Render only reports whose HTML is missing.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Re-render every report from its executed notebook and rebuild the index."""
    from emotion_clf.reports.site import publish_site

    settings = get_settings()
    index, records = publish_site(
        reports_dir=settings.reports_dir,
        rerender=not missing_only,
        header=production_header(settings),
    )
    if json_output:
        print_json({"index": str(index), "reports": [r.to_dict() for r in records]})
        return
    if not records:
        info("no report has been published yet; run a notebook (make train)")
    console.print(f"{len(records)} report(s) published; open [bold]{index}[/]")

"""The CLI's output layer: Rich tables on stdout, progress and messages on stderr.

Machine-readable output (``--json``) goes to stdout alone, so it can be piped. An error is
one line: its message and where it happened; the library's own words behind it (SQL, a
driver's help links) only at ``--log-level debug``.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from emotion_clf.data.schema import HEADS
from emotion_clf.errors import EmotionClfError
from emotion_clf.models.base import Prediction
from emotion_clf.models.progress import ProgressLines

if TYPE_CHECKING:  # scikit-learn's import is paid by the commands that evaluate
    from emotion_clf.evaluation import Evaluation
    from emotion_clf.registry import ModelRegistry

console = Console()
err_console = Console(stderr=True)

# Help texts are written as they should read: "[minilm]", "[texts]" name what an option is
# for. Rich markup (Typer's default) takes those for style tags and drops them; Markdown
# leaves them as written.
MARKUP: Any = "markdown"


def _no_type_for_flags() -> None:
    """A flag takes no value, so its help shows no value type. Typer 0.29 prints one for
    every option (``<bool>`` beside ``--json``), which reads as if ``--json true`` were
    needed; an option's own ``metavar`` still wins."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag and self.metavar is None:
            return None
        return shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_type_for_flags()


def print_json(data: Any) -> None:
    # plain print: Rich would wrap long lines and colour the JSON
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


class LogLevel(StrEnum):
    """``--log-level``: which log records reach stderr."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


LogLevelOption = Annotated[
    LogLevel,
    typer.Option(
        "--log-level",
        case_sensitive=False,
        help="Log records from this level up reach stderr; debug also shows what lies "
        "behind an error (a library's own message).",
    ),
]
DETAILS_HINT = "`emotion-clf --log-level debug ...` shows the details"


# libraries whose own notices (transformers' "loss_type=None ... unrecognized" on every minilm
# load, scikit-learn's undefined-metric warnings in a report) are noise to a CLI user
NOISY_LIBRARIES = ("transformers", "sklearn", "torch", "huggingface_hub")


def set_log_level(level: LogLevel) -> None:
    """Apply ``--log-level`` (the root logger: ``main`` sends it to stderr). Below debug,
    the libraries' own log lines and Python warnings are kept to their errors."""
    logging.getLogger().setLevel(level.value.upper())
    debug = level.value.upper() == "DEBUG"
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.ERROR)
        if not debug:
            warnings.filterwarnings("ignore", module=rf"{name}(\..*)?$")
    # transformers sets its own level when it is first imported (after this): from here
    os.environ["TRANSFORMERS_VERBOSITY"] = "debug" if debug else "error"
    logging.captureWarnings(debug)  # at debug, warnings are log records like the rest


def error(message: str) -> None:
    """``message`` as written: a bracketed word in it (``[teacher]``, a list of allowed
    values) is text, not Rich markup."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def error_text(exc: EmotionClfError, *, details: bool) -> str:
    """What the CLI says of ``exc``: its message and ``where``; its ``detail`` (SQL, a
    library's URL) on a line of its own only with ``details``, else a pointer to it."""
    if not exc.detail:
        return str(exc)
    text = f"{exc.message}: {exc.where}" if exc.where else exc.message
    if details:
        return f"{text}\n  detail: {exc.detail}"
    return f"{text} ({DETAILS_HINT})"


def show_error(exc: EmotionClfError) -> None:
    """:func:`error` for a package error, with its detail at ``--log-level debug``."""
    error(error_text(exc, details=logging.getLogger().isEnabledFor(logging.DEBUG)))


def warn(message: str) -> None:
    err_console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


def describe_dataset(summary: dict[str, Any]) -> str:
    """A dataset's summary as a line: ``31,127 rows from 32 files; skipped: ...``."""
    return (
        f"{summary['rows']:,} rows from {summary['files']} files; skipped: "
        f"{summary['skipped_empty']} empty, {summary['skipped_unlabelled']} unlabelled"
    )


def info(message: str) -> None:
    err_console.print(message, highlight=False, soft_wrap=True)


def say_if_created(registry: ModelRegistry) -> None:
    """The one line saying that a new registry was started: its store did not exist."""
    if registry.created:
        info(f"created a new registry at {registry.location}")


@contextmanager
def fraction_progress(title: str) -> Iterator[Callable[[str, float], None]]:
    """A progress bar driven by ``(description, fraction)`` callbacks (training); in a log
    (stderr not a terminal, ``make train-bundle > log``), where Rich would draw only the
    last state, a plain line every 15 s with the stage, share done, elapsed time and ETA."""
    if not err_console.is_terminal:
        yield ProgressLines(title, every_s=15.0).fraction
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[title]}[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        task = progress.add_task("", total=1.0, title=title)

        def update(description: str, fraction: float) -> None:
            progress.update(task, description=description, completed=max(0.0, min(1.0, fraction)))

        yield update


@contextmanager
def count_progress(title: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar over a known number of items (evaluation, batch inference)."""
    with Progress(
        TextColumn(f"[bold]{title}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(title, total=total)
        yield lambda n: progress.advance(task, n)


@contextmanager
def stream_progress(title: str) -> Iterator[Callable[[int], None]]:
    """A running count of rows, for streams of unknown length."""
    with Progress(
        SpinnerColumn(),
        TextColumn(f"[bold]{title}[/]"),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(title, total=None)
        yield lambda n: progress.advance(task, n)


def metric_table(summary: dict[str, dict[str, float]], *, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("head")
    for column in ("accuracy", "macro-F1", "weighted-F1"):
        table.add_column(column, justify="right")
    for head in HEADS:
        m = summary[head]
        table.add_row(
            head, f"{m['accuracy']:.3f}", f"{m['macro_f1']:.3f}", f"{m['weighted_f1']:.3f}"
        )
    return table


def show_evaluation(evaluation: Evaluation, *, title: str, details: bool = True) -> None:
    console.print(metric_table(evaluation.summary(), title=f"{title} ({evaluation.rows} rows)"))
    if not details:
        return
    for head in HEADS:
        per_class = evaluation[head].per_class()
        table = Table(title=f"{head}: per class", title_justify="left")
        for column in ("label", "precision", "recall", "F1", "support"):
            table.add_column(column, justify="left" if column == "label" else "right")
        for label, m in sorted(per_class.items(), key=lambda kv: -kv[1]["support"]):
            table.add_row(
                label,
                f"{m['precision']:.3f}",
                f"{m['recall']:.3f}",
                f"{m['f1']:.3f}",
                str(m["support"]),
            )
        console.print(table)
        if head != "sub_emotion":  # a 30 x 30 matrix does not fit a terminal; --json has it
            console.print(
                confusion_table(
                    evaluation[head].confusion(), title=f"{head}: confusion (rows: true)"
                )
            )


def confusion_table(confusion: dict[str, Any], *, title: str) -> Table:
    labels: Sequence[str] = confusion["labels"]
    table = Table(title=title, title_justify="left")
    table.add_column("true \\ predicted")
    for label in labels:
        table.add_column(label[:8], justify="right")
    for label, row in zip(labels, confusion["matrix"], strict=True):
        table.add_row(label, *(str(v) for v in row))
    return table


def show_predictions(
    texts: Sequence[str], predictions: Sequence[Prediction], *, model: str
) -> None:
    table = Table(title=f"model: {model}", title_justify="left")
    table.add_column("text", overflow="fold", max_width=60)
    for head in HEADS:
        table.add_column(head.replace("_", "-"))
    for text, prediction in zip(texts, predictions, strict=True):
        cells = [
            f"{getattr(prediction, h).label} [dim]{getattr(prediction, h).confidence:.2f}[/]"
            for h in HEADS
        ]
        table.add_row(text, *cells)
    console.print(table)

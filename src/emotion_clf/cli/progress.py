"""Progress of a batch of rows on stderr: a Rich bar in a terminal, plain lines in a log.

With the total known (local files, counted before the model runs) it shows done/total,
rows per second and the time left; without it (URLs, recordings) a running count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from emotion_clf.cli.output import err_console, stream_progress
from emotion_clf.models.progress import ProgressLines

LOG_EVERY_S = 10.0


class RateColumn(ProgressColumn):
    """Rows per second, from Rich's moving estimate."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f} rows/s" if task.speed else "", style="progress.data.speed")


@contextmanager
def row_progress(title: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """An ``advance(n)`` callback: ``n`` more rows done."""
    if total is None:
        with stream_progress(title) as advance:
            yield advance
        return
    if not err_console.is_terminal:  # a log: a redrawn bar would show only at the end
        lines = ProgressLines(title, total=total, unit="rows", every_s=LOG_EVERY_S)
        yield lines.advance
        return
    with Progress(
        TextColumn(f"[bold]{title}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        task = progress.add_task(title, total=total)
        yield lambda n: progress.advance(task, n)

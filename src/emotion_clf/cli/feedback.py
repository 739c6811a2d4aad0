"""``feedback import``: corrected labels from a file, saved exactly as POST /feedback saves them."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Any

import typer

from emotion_clf.cli.output import MARKUP, info, print_json, warn
from emotion_clf.config import get_settings
from emotion_clf.data.bounded_json import loads_bounded
from emotion_clf.data.cells import unguard_cell
from emotion_clf.data.feedback import (
    new_name,
    quarantine_name,
    triage,
    write_feedback,
    write_quarantine,
)
from emotion_clf.data.schema import normalise_token
from emotion_clf.errors import DataError

app = typer.Typer(
    rich_markup_mode=MARKUP,
    help="Corrected labels: the feedback the API collects.",
    no_args_is_help=True,
)


def read_items(path: Path, *, limit: int | None) -> list[Any]:
    """The rows of a CSV (the data's header) or JSONL file, as the API's items."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read: {exc}", file=path) from exc
    items: list[Any] = []
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    items.append(loads_bounded(line, field=f"line {number}"))
                except DataError as exc:  # kept, and quarantined with the reason
                    items.append({"line": number, "unreadable": line[:2000], "error": exc.reason})
    elif path.suffix.lower() == ".csv":
        for row in csv.DictReader(text.splitlines()):
            # a cell the feedback writer guarded against spreadsheets reads as it was sent
            item = {
                normalise_token(k or "").replace(" ", "_"): unguard_cell(v)
                if isinstance(v, str)
                else v
                for k, v in row.items()
            }
            if any((v or "").strip() for v in item.values() if isinstance(v, str)):
                items.append(item)
    else:
        raise DataError("feedback files are .csv or .jsonl", file=path, allowed=[".csv", ".jsonl"])
    return items[:limit] if limit else items


@app.command("import")
def import_feedback(
    file: Annotated[Path, typer.Argument(help="A CSV with the data's header, or JSONL items.")],
    source: Annotated[str | None, typer.Option(help="Where the corrections came from.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N rows.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Save corrected labels: rows that fit the schema as training-ready feedback, the rest in
    quarantine with the reason (nothing is dropped)."""
    settings = get_settings()
    items = read_items(file, limit=limit)
    if not items:
        raise DataError("the file holds no rows", file=file)
    triaged = triage(items, max_chars=settings.serving.max_text_chars)
    name = new_name()
    saved = (
        write_feedback(triaged.rows, folder=settings.feedback_dir, name=name)
        if triaged.rows
        else None
    )
    kept = (
        write_quarantine(
            triaged.quarantined,
            folder=settings.feedback_dir,
            name=quarantine_name(name),
            source=source or str(file),
        )
        if triaged.quarantined
        else None
    )
    result = {
        "saved": len(triaged.rows),
        "quarantined": len(triaged.quarantined),
        "file": str(saved) if saved else None,
        "quarantine_file": str(kept) if kept else None,
    }
    if json_output:
        print_json(result)
        return
    info(f"saved {result['saved']} row(s)" + (f" to {saved}" if saved else ""))
    if kept:
        warn(f"{result['quarantined']} row(s) kept in quarantine ({kept}), for example:")
        for entry in triaged.quarantined[:5]:
            warn(f"  {entry.reason}")

"""``data``: what the loader finds, how the split groups batches, and GoEmotions."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emotion_clf.cli.output import MARKUP, console, describe_dataset, print_json
from emotion_clf.config import get_settings
from emotion_clf.data.goemotions import GOEMOTIONS_SPLITS, load_goemotions
from emotion_clf.data.loader import load_dataset
from emotion_clf.data.schema import SCHEMA
from emotion_clf.data.split import SPLIT_NAMES, split_by_batch
from emotion_clf.files import write_json_atomic

app = typer.Typer(
    rich_markup_mode=MARKUP, help="Inspect the labelled data and its split.", no_args_is_help=True
)


@app.command()
def info(
    data: Annotated[
        Path | None, typer.Option(help="A CSV file or folder (default: data/raw).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Rows per batch, skipped rows, and the split each batch lands in."""
    dataset = load_dataset(data or get_settings().raw_data_dir)
    split = split_by_batch(dataset)
    counts = dataset.frame.groupby("batch").size().to_dict()
    rows = [
        {
            "batch": Path(f.path).stem,
            "split": split.assignment[Path(f.path).stem],
            "rows": int(counts.get(Path(f.path).stem, 0)),
            "skipped_empty": f.skipped_empty,
            "skipped_unlabelled": f.skipped_unlabelled,
        }
        for f in dataset.files
    ]
    totals = {name: len(split.part(name)) for name in SPLIT_NAMES}
    if json_output:
        print_json({"summary": dataset.summary(), "split_rows": totals, "batches": rows})
        return
    table = Table(title=describe_dataset(dataset.summary()), title_justify="left")
    for column in ("batch", "split", "rows", "skipped empty", "skipped unlabelled"):
        table.add_column(column, justify="left" if column in ("batch", "split") else "right")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)
    console.print("rows per split: " + ", ".join(f"{k} {v}" for k, v in totals.items()))


@app.command()
def prepare(
    out: Annotated[Path, typer.Option(help="Folder to write the checked batches into.")],
    data: Annotated[
        Path | None, typer.Option(help="A CSV file or folder (default: data/raw).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Check labelled data and freeze it for training: every batch the loader accepts is
    copied into OUT, with dataset.json (rows, fingerprint, split). The training pipeline's
    first step."""
    dataset = load_dataset(data or get_settings().raw_data_dir)  # bad rows fail here, named
    split = split_by_batch(dataset)
    out.mkdir(parents=True, exist_ok=True)
    for report in dataset.files:
        shutil.copy2(report.path, out / Path(report.path).name)
    summary = {
        "fingerprint": dataset.fingerprint(),
        "rows": len(dataset),
        "batches": len(dataset.files),
        "split_rows": {name: len(split.part(name)) for name in SPLIT_NAMES},
        "skipped_empty": dataset.skipped_empty,
        "skipped_unlabelled": dataset.skipped_unlabelled,
    }
    write_json_atomic(out / "dataset.json", summary)
    if json_output:
        print_json(summary)
        return
    console.print(f"{summary['rows']} rows in {summary['batches']} batches -> {out}")


@app.command()
def goemotions(
    folder: Annotated[
        Path | None, typer.Option(help="The GoEmotions folder (default: data/goemotions).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """GoEmotions, the second source: rows kept and dropped per split, rows per emotion."""
    path = folder or get_settings().goemotions_data_dir
    splits = {name: load_goemotions(path, split=name) for name in GOEMOTIONS_SPLITS}
    summary = {
        name: {k: v for k, v in rows.summary().items() if k != "path"}
        for name, rows in splits.items()
    }
    emotions = {
        name: {str(k): int(v) for k, v in rows.frame["emotion"].value_counts().items()}
        for name, rows in splits.items()
    }
    if json_output:
        print_json({"folder": str(path), "splits": summary, "emotion_rows": emotions})
        return
    table = Table(title=f"GoEmotions in {path} (single-label rows kept)", title_justify="left")
    table.add_column("split")
    for column in ("rows read", "kept", "multi-label dropped", *SCHEMA.emotions):
        table.add_column(column, justify="right")
    for name, numbers in summary.items():
        counts = [str(emotions[name].get(e, 0)) for e in SCHEMA.emotions]
        table.add_row(
            name,
            str(numbers["rows_read"]),
            str(numbers["rows"]),
            str(numbers["skipped_multi_label"]),
            *counts,
        )
    console.print(table)

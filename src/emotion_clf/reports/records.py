"""What the index knows of one published report, and where that record is kept.

A report's record is written into its executed notebook's metadata
(``metadata.emotion_clf.report``) only once the notebook ran to the end and its HTML was
rendered. The executed notebooks under ``reports/runs/`` are therefore the source of truth:
a notebook without a record (a failed or interrupted run) is never published, and the
index can always be rebuilt from them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from emotion_clf.files import write_atomic
from emotion_clf.reports.keynumbers import KeyValue

METADATA_KEY = "emotion_clf"
RECORD_FORMAT = 1


@dataclass(frozen=True)
class ReportRecord:
    """One published report.

    Attributes
    ----------
    id : str
        ``<UTC timestamp>-<notebook name>``; names the executed notebook and the HTML file.
    name : str
        The notebook it came from, without ``.ipynb`` (``01-train``).
    title : str
        The notebook's first heading.
    date : str
        When the run started, ISO 8601 UTC.
    seconds : float
        How long the notebook ran.
    parameters : dict
        The parameters it ran with (after the defaults of its parameters cell).
    key_numbers : dict
        What the notebook recorded with ``record_key_numbers``.
    html : str
        The HTML report, relative to the reports folder.
    notebook : str
        The executed notebook, relative to the reports folder.
    """

    id: str
    name: str
    title: str
    date: str
    seconds: float
    parameters: dict[str, Any] = field(default_factory=dict)
    key_numbers: dict[str, KeyValue] = field(default_factory=dict)
    html: str = ""
    notebook: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"format": RECORD_FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportRecord:
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            title=str(data.get("title") or data["name"]),
            date=str(data["date"]),
            seconds=float(data.get("seconds", 0.0)),
            parameters=dict(data.get("parameters") or {}),
            key_numbers=dict(data.get("key_numbers") or {}),
            html=str(data.get("html", "")),
            notebook=str(data.get("notebook", "")),
        )


def write_notebook(notebook: nbformat.NotebookNode, path: Path) -> None:
    write_atomic(path, nbformat.writes(notebook))


def notebook_title(notebook: nbformat.NotebookNode, default: str) -> str:
    """The text of the first Markdown heading, or ``default``."""
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip() or default
    return default


def attach_record(notebook: nbformat.NotebookNode, record: ReportRecord) -> None:
    # kept as a JSON string: nbformat sorts object keys, and the order of the parameters and
    # key numbers is the notebook author's
    notebook.metadata.setdefault(METADATA_KEY, {})["report"] = json.dumps(record.to_dict())


def stored_record(notebook: nbformat.NotebookNode) -> ReportRecord | None:
    """The record of a published run, or None for a run that was never published."""
    text = notebook.metadata.get(METADATA_KEY, {}).get("report")
    if not isinstance(text, str):
        return None
    return ReportRecord.from_dict(json.loads(text))

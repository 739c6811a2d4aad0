"""Rendering an executed notebook as a report people read: outputs kept, code hidden."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import nbformat

from emotion_clf.files import write_atomic
from emotion_clf.reports.keynumbers import format_parameter
from emotion_clf.reports.records import ReportRecord

logger = logging.getLogger(__name__)


class _DropMissingAltText(logging.Filter):
    # matplotlib's PNGs carry no alt text; nbconvert supplies a generic one and warns
    def filter(self, record: logging.LogRecord) -> bool:
        return "Alternative text is missing" not in record.getMessage()


_NBCONVERT_LOG = logging.getLogger(f"{__name__}.nbconvert")
_NBCONVERT_LOG.addFilter(_DropMissingAltText())


def _is_stderr(output: nbformat.NotebookNode) -> bool:
    """Library logs and warnings: kept in the executed notebook, left out of the report."""
    return bool(output.get("output_type") == "stream" and output.get("name") == "stderr")


def _header_cell(record: ReportRecord, *, code: bool = False) -> nbformat.NotebookNode:
    parameters = ", ".join(f"`{k}` = `{format_parameter(v)}`" for k, v in record.parameters.items())
    # the page with code lives in runs/, beside the executed notebook
    links = (
        f"[the report](../{record.html}) · [all reports](../index.html)"
        if code
        else "[all reports](index.html)"
    )
    lines = [
        f"**{record.name}** run at {record.date.replace('T', ' ').replace('+00:00', '')} UTC "
        f"in {record.seconds:.0f} s · {links}",
        "",
        f"Parameters: {parameters or '(none)'}",
    ]
    return nbformat.v4.new_markdown_cell("\n".join(lines))


def render_html(
    notebook: nbformat.NotebookNode, record: ReportRecord, *, out: Path, code: bool = False
) -> Path:
    """Render ``notebook`` to ``out`` with its run header; the file appears atomically.

    Parameters
    ----------
    notebook : NotebookNode
        An executed notebook (it is not modified).
    record : ReportRecord
        The run it belongs to: the header shows its date and parameters.
    out : Path
        The HTML file to write.
    code : bool
        Keep the code cells: the executed notebook as a page (``runs/<id>.html``), for who
        wants to see how a number was made without opening Jupyter or reading raw JSON.
    """
    from nbconvert import HTMLExporter

    page = copy.deepcopy(notebook)
    for cell in page.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not _is_stderr(o)]
    title_at = next(
        (i for i, c in enumerate(page.cells) if c.cell_type == "markdown" and c.source.strip()),
        -1,
    )
    page.cells.insert(title_at + 1, _header_cell(record, code=code))
    exporter = HTMLExporter(
        exclude_input=not code, exclude_input_prompt=not code, exclude_output_prompt=not code
    )
    exporter.log = _NBCONVERT_LOG
    body, _ = exporter.from_notebook_node(page, resources={"metadata": {"name": record.title}})
    write_atomic(out, body)
    logger.info("rendered %s", out)
    return out

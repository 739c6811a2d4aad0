"""The published site: ``reports/index.json`` and ``reports/index.html``, newest first.

``index.json`` lists every published report's record; ``index.html`` is rendered from it.
Both are rebuilt under a file lock so that two make targets finishing together do not lose
each other's report. :func:`publish_site` rebuilds everything from the executed notebooks in
``reports/runs/`` (the source of truth), re-rendering each report's HTML on the way.
"""

from __future__ import annotations

import fcntl
import html
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from emotion_clf.files import write_atomic
from emotion_clf.reports.keynumbers import format_parameter, format_value
from emotion_clf.reports.records import ReportRecord, stored_record
from emotion_clf.reports.render import render_html

logger = logging.getLogger(__name__)

RUNS = "runs"
INDEX_JSON = "index.json"
INDEX_HTML = "index.html"


@contextmanager
def site_lock(reports_dir: Path) -> Iterator[None]:
    reports_dir.mkdir(parents=True, exist_ok=True)
    with (reports_dir / ".index.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _newest_first(records: Sequence[ReportRecord]) -> list[ReportRecord]:
    return sorted(records, key=lambda r: (r.date, r.id), reverse=True)


def read_index(reports_dir: Path) -> list[ReportRecord] | None:
    """The records in ``index.json``; None if there is none or it cannot be read."""
    path = reports_dir / INDEX_JSON
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [ReportRecord.from_dict(r) for r in data["reports"]]
    except (ValueError, KeyError, TypeError) as exc:
        logger.warning("%s is unreadable (%s); rebuilding it from %s/", path, exc, RUNS)
        return None


def scan_runs(reports_dir: Path) -> list[ReportRecord]:
    """Records of every published run in ``reports/runs/`` (failed runs carry none)."""
    records = []
    for path in sorted((reports_dir / RUNS).glob("*.ipynb")):
        try:
            record = stored_record(nbformat.read(path, as_version=4))
        except (OSError, ValueError) as exc:
            logger.warning("skipping %s: %s", path, exc)
            continue
        if record is not None:
            records.append(record)
    return records


def write_index(records: Sequence[ReportRecord], *, reports_dir: Path, header: str = "") -> Path:
    """Write ``index.json`` and ``index.html`` for ``records``; returns the HTML path.

    ``header`` is HTML shown above the list (the state of production)."""
    ordered = _newest_first(records)
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    document = {"generated": generated, "reports": [r.to_dict() for r in ordered]}
    write_atomic(reports_dir / INDEX_JSON, json.dumps(document, indent=2) + "\n")
    write_atomic(reports_dir / INDEX_HTML, index_html(ordered, generated=generated, header=header))
    return reports_dir / INDEX_HTML


def add_to_index(record: ReportRecord, *, reports_dir: Path, header: str = "") -> Path:
    """Add one freshly published record to the index (rebuilt from runs/ if unreadable)."""
    with site_lock(reports_dir):
        records = read_index(reports_dir)
        if records is None:
            records = scan_runs(reports_dir)
        records = [r for r in records if r.id != record.id] + [record]
        return write_index(records, reports_dir=reports_dir, header=header)


def publish_site(
    *, reports_dir: Path, rerender: bool = True, header: str = ""
) -> tuple[Path, list[ReportRecord]]:
    """Rebuild the site from the executed notebooks.

    Parameters
    ----------
    reports_dir : Path
        The reports folder (``Settings.reports_dir``).
    rerender : bool
        Re-render every report's HTML; otherwise only the missing ones.
    header : str
        HTML above the list of reports (the state of production).

    Returns
    -------
    (Path, list of ReportRecord)
        ``index.html`` and the published records, newest first.
    """
    with site_lock(reports_dir):
        records = _newest_first(scan_runs(reports_dir))
        for record in records:
            out = reports_dir / record.html
            if rerender or not out.is_file():
                notebook = nbformat.read(reports_dir / record.notebook, as_version=4)
                render_html(notebook, record, out=out)
        return write_index(records, reports_dir=reports_dir, header=header), records


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .45rem .6rem; vertical-align: top;
         text-align: left; font-size: .92rem; }
th { background: #f4f4f4; }
code { background: #f6f6f6; padding: 0 .2rem; }
.kn { display: grid; grid-template-columns: max-content minmax(0, 26rem); gap: 0 .8rem; }
.kn span:nth-child(even) { text-align: right; font-variant-numeric: tabular-nums;
                           overflow-wrap: anywhere; }
.muted { color: #777; font-size: .85rem; }
.cards { display: flex; flex-wrap: wrap; gap: 1rem; margin-bottom: 1.5rem; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .2rem 1rem; min-width: 13rem; }
.card h3 { font-size: 1rem; margin: .6rem 0 .3rem; }
.card p { margin: .3rem 0; }
.big { font-size: 1.6rem; font-weight: 600; }
#baseline { border-top: 4px solid #3b6fd4; } #dynamic { border-top: 4px solid #2e9e57; }
table.perf { width: auto; } table.perf td, table.perf th { font-size: .85rem; }
"""


def _parameters_cell(record: ReportRecord) -> str:
    if not record.parameters:
        return "<span class='muted'>none</span>"
    return "<br>".join(
        f"<code>{html.escape(k)}</code> = <code>{html.escape(format_parameter(v))}</code>"
        for k, v in record.parameters.items()
    )


def _key_numbers_cell(record: ReportRecord) -> str:
    if not record.key_numbers:
        return "<span class='muted'>none recorded</span>"
    items = "".join(
        f"<span>{html.escape(k)}</span><span>{html.escape(format_value(v))}</span>"
        for k, v in record.key_numbers.items()
    )
    return f"<div class='kn'>{items}</div>"


def index_html(records: Sequence[ReportRecord], *, generated: str, header: str = "") -> str:
    """The index page: ``header`` (the state of production), then every report with its
    date, parameters and key numbers."""
    rows = "\n".join(
        "<tr>"
        f"<td>{html.escape(r.date.replace('T', ' ').replace('+00:00', ''))} UTC</td>"
        f"<td><a href='{html.escape(r.html)}'>{html.escape(r.title)}</a>"
        f"<br><span class='muted'>{html.escape(r.name)} · {r.seconds:.0f} s · "
        f"<a href='{html.escape(r.notebook)}'>notebook</a></span></td>"
        f"<td>{_parameters_cell(r)}</td>"
        f"<td>{_key_numbers_cell(r)}</td>"
        "</tr>"
        for r in records
    )
    empty = "<p>No report has been published yet: run <code>make train</code>.</p>"
    table = (
        "<table><thead><tr><th>date</th><th>report</th><th>parameters</th>"
        f"<th>key numbers</th></tr></thead><tbody>\n{rows}\n</tbody></table>"
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<title>emotion-clf reports</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>emotion-clf reports</h1>{header}<h2 id='reports'>Reports</h2>"
        f"<p class='muted'>{len(records)} report(s), newest first; generated {generated}.</p>"
        f"{table if records else empty}</body></html>\n"
    )

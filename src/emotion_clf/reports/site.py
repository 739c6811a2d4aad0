"""The published site: ``reports/index.json`` and ``reports/index.html``, newest first.

``index.json`` lists every published report's record; ``index.html`` is rendered from it.
Both are rebuilt under a lock so that two make targets finishing together do not lose each
other's report; the lock is taken on the folder itself, so no lock file is published with the
site. :func:`publish_site` rebuilds everything from the executed notebooks in
``reports/runs/`` (the source of truth), re-rendering each report's HTML on the way, and the
executed notebook as a page with its code (``runs/<id>.html``).
"""

from __future__ import annotations

import fcntl
import html
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from emotion_clf.files import write_atomic
from emotion_clf.reports.keynumbers import format_parameter, format_value, key_label
from emotion_clf.reports.records import ReportRecord, stored_record
from emotion_clf.reports.render import render_html
from emotion_clf.reports.style import SITE_STYLE

logger = logging.getLogger(__name__)

RUNS = "runs"
INDEX_JSON = "index.json"
INDEX_HTML = "index.html"
OLD_LOCK = ".index.lock"  # what earlier versions locked, and published with the site

# the HTML above the list of reports (the state of production), given the published records
Header = str | Callable[[Sequence[ReportRecord]], str]


@contextmanager
def site_lock(reports_dir: Path) -> Iterator[None]:
    """Hold the site's lock: ``flock`` on the folder itself, which leaves no file behind."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    (reports_dir / OLD_LOCK).unlink(missing_ok=True)
    handle = os.open(reports_dir, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing the last descriptor releases the lock


def code_page(record: ReportRecord) -> str:
    """The executed notebook as a page with its code, relative to the reports folder."""
    return f"{RUNS}/{record.id}.html"


def render_code_page(record: ReportRecord, *, reports_dir: Path) -> Path | None:
    """Render ``runs/<id>.html``; None (logged) when the executed notebook is gone."""
    try:
        notebook = nbformat.read(reports_dir / record.notebook, as_version=4)
    except (OSError, ValueError) as exc:
        logger.warning("no page with code for %s: %s", record.id, exc)
        return None
    return render_html(notebook, record, out=reports_dir / code_page(record), code=True)


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


def write_index(records: Sequence[ReportRecord], *, reports_dir: Path, header: Header = "") -> Path:
    """Write ``index.json`` and ``index.html`` for ``records``; returns the HTML path.

    ``header`` is HTML shown above the list (the state of production), or a function of the
    records that gives it (so its cards can link to the reports)."""
    ordered = _newest_first(records)
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    document = {"generated": generated, "reports": [r.to_dict() for r in ordered]}
    top = header(ordered) if callable(header) else header
    write_atomic(reports_dir / INDEX_JSON, json.dumps(document, indent=2) + "\n")
    write_atomic(reports_dir / INDEX_HTML, index_html(ordered, generated=generated, header=top))
    return reports_dir / INDEX_HTML


def add_to_index(record: ReportRecord, *, reports_dir: Path, header: Header = "") -> Path:
    """Add one freshly published record to the index (rebuilt from runs/ if unreadable),
    with its executed notebook as a page with code."""
    with site_lock(reports_dir):
        render_code_page(record, reports_dir=reports_dir)
        records = read_index(reports_dir)
        if records is None:
            records = scan_runs(reports_dir)
        records = [r for r in records if r.id != record.id] + [record]
        return write_index(records, reports_dir=reports_dir, header=header)


def publish_site(
    *, reports_dir: Path, rerender: bool = True, header: Header = ""
) -> tuple[Path, list[ReportRecord]]:
    """Rebuild the site from the executed notebooks.

    Parameters
    ----------
    reports_dir : Path
        The reports folder (``Settings.reports_dir``).
    rerender : bool
        Re-render every report's HTML (and its page with code); otherwise only missing ones.
    header : str or callable
        HTML above the list of reports (the state of production), or a function of the
        published records that gives it.

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
            if rerender or not (reports_dir / code_page(record)).is_file():
                render_code_page(record, reports_dir=reports_dir)
        return write_index(records, reports_dir=reports_dir, header=header), records


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
        f"<span title='{html.escape(k)}'>{html.escape(key_label(k))}</span>"
        f"<span>{html.escape(format_value(v))}</span>"
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
        f"<a class='code' href='{html.escape(code_page(r))}'>notebook with code</a> "
        f"(<a href='{html.escape(r.notebook)}' download>.ipynb</a>)</span></td>"
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
        f"<style>{SITE_STYLE}</style></head><body>"
        f"<h1>emotion-clf reports</h1>{header}<h2 id='reports'>Reports</h2>"
        f"<p class='muted'>{len(records)} report(s), newest first; generated {generated}.</p>"
        f"{table if records else empty}</body></html>\n"
    )

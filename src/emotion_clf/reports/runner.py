"""Running a parameterised notebook with papermill and publishing it as a report.

:func:`run_notebook` executes ``notebooks/<name>.ipynb`` into
``reports/runs/<UTC timestamp>-<name>.ipynb``. Only when every cell ran does it render the
HTML report (code hidden, outputs kept) into ``reports/``, mark the executed notebook as
published and add it to the index. A failing cell raises :class:`NotebookError` naming the
cell; the executed notebook then moves to ``reports/runs/failed/`` for debugging and nothing
is published.
"""

from __future__ import annotations

import ast
import logging
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat

from emotion_clf.errors import NotebookError
from emotion_clf.reports.kernel import REPORT_PAGE_ENV, kernel_environment
from emotion_clf.reports.keynumbers import read_key_numbers
from emotion_clf.reports.progress import LINES, PROGRESS_ENV
from emotion_clf.reports.records import (
    ReportRecord,
    attach_record,
    notebook_title,
    write_notebook,
)
from emotion_clf.reports.render import render_html
from emotion_clf.reports.site import RUNS, Header, add_to_index

logger = logging.getLogger(__name__)

KERNEL = "emotion-clf"
FAILED = "failed"
PARAMETER_TYPES = ("str", "int", "float", "bool")
_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


def find_notebook(name: str, *, notebooks_dir: Path) -> Path:
    """``01-train``, ``01-train.ipynb``, ``train`` -> ``notebooks/01-train.ipynb``.

    Without its number, a name may be the start of one notebook's (``compare``).
    """
    stem = name.removesuffix(".ipynb")
    exact = notebooks_dir / f"{stem}.ipynb"
    if exact.is_file():
        return exact
    matches = sorted(notebooks_dir.glob(f"[0-9][0-9]-{stem}.ipynb")) or sorted(
        notebooks_dir.glob(f"[0-9][0-9]-{stem}*.ipynb")
    )
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(p.stem for p in sorted(notebooks_dir.glob("*.ipynb"))) or "none"
    raise NotebookError(f"no notebook {name!r} in {notebooks_dir} (notebooks: {known})")


def declared_parameters(path: Path) -> dict[str, dict[str, Any]]:
    """The parameters cell's names, declared types and defaults (``papermill.inspect_notebook``)."""
    import papermill

    try:
        return dict(papermill.inspect_notebook(str(path)))
    except ValueError as exc:  # no kernelspec, or a notebook papermill cannot read
        raise NotebookError(f"cannot read the parameters of {path}: {exc}") from exc


def coerce_value(name: str, value: Any, type_name: str) -> Any:
    """``value`` (often a string from the command line) as the declared type ``type_name``."""
    if type_name not in PARAMETER_TYPES:
        return value
    if not isinstance(value, str):
        ok = {
            "str": False,
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
        }[type_name]
        if not ok:
            raise NotebookError(f"parameter {name!r} is a {type_name}; got {value!r}")
        return float(value) if type_name == "float" else value
    try:
        if type_name == "int":
            return int(value)
        if type_name == "float":
            return float(value)
    except ValueError:
        raise NotebookError(f"parameter {name!r} is a {type_name}; got {value!r}") from None
    if type_name == "bool":
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise NotebookError(f"parameter {name!r} is a bool (true or false); got {value!r}")
    return value


def _default(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def resolve_parameters(
    path: Path, given: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what to inject, every parameter with its effective value); unknown names fail."""
    declared = declared_parameters(path)
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise NotebookError(
            f"{path.stem} has no parameter {', '.join(map(repr, unknown))} "
            f"(its parameters: {', '.join(declared) or 'none'})"
        )
    inject = {k: coerce_value(k, v, declared[k]["inferred_type_name"]) for k, v in given.items()}
    effective = {k: inject.get(k, _default(p["default"])) for k, p in declared.items()}
    return inject, effective


def check_kernel(kernel: str) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        raise NotebookError(
            f"the Jupyter kernel {kernel!r} is not installed; run `make setup` "
            "(it installs the project's kernel into .venv)"
        ) from None


def _run_id(name: str, runs: Path, started: datetime) -> str:
    base = f"{started.strftime('%Y%m%dT%H%M%SZ')}-{name}"
    run_id, n = base, 1
    while (runs / f"{run_id}.ipynb").exists() or (runs / FAILED / f"{run_id}.ipynb").exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def _failure(name: str, exc: BaseException, kept: Path) -> NotebookError:
    from papermill.exceptions import PapermillExecutionError

    where = "nothing was published; the executed notebook is kept at " + str(kept)
    if isinstance(exc, PapermillExecutionError):
        first = next((line for line in exc.source.splitlines() if line.strip()), "")
        hint = ""
        if exc.ename == "ModuleNotFoundError" and exc.evalue == "No module named 'emotion_clf'":
            hint = "\nthe kernel's Python does not have the project installed; run `make setup`"
        return NotebookError(
            f"notebook {name} failed at cell In [{exc.exec_count}] ({first.strip()!r}): "
            f"{exc.ename}: {exc.evalue}{hint}\n{where}\npapermill: {str(exc).strip()}"
        )
    return NotebookError(f"notebook {name} did not finish: {type(exc).__name__}: {exc}\n{where}")


def run_notebook(
    name: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    notebooks_dir: Path,
    reports_dir: Path,
    kernel: str = KERNEL,
    cwd: Path | None = None,
    progress: bool = False,
    header: Callable[[], Header] | None = None,
) -> ReportRecord:
    """Execute a notebook with papermill and publish it as an HTML report.

    Parameters
    ----------
    name : str
        The notebook: ``01-train``, ``01-train.ipynb`` or ``train``.
    parameters : mapping, optional
        Values for the notebook's parameters cell. Strings are converted to the type the
        cell declares (``seed: int = 0`` takes ``"3"``); unknown names are refused.
    notebooks_dir, reports_dir : Path
        Where the notebooks are and where reports are published.
    kernel : str
        The Jupyter kernel to run in (``make setup`` installs ``emotion-clf``).
    cwd : Path, optional
        The kernel's working directory (default: this process's), so relative paths in
        parameters mean what they mean to the caller.
    progress : bool
        Show papermill's per-cell progress bar on stderr, and pass the kernel's stderr on
        to this process's as it comes: the notebook's own progress (a training's epoch,
        loss and ETA, as plain lines: :mod:`emotion_clf.reports.progress`) and model-load
        status then reach the terminal or the make log while the cell runs.
    header : callable, optional
        Gives the HTML above the index's list (the state of production), once the run is
        over: a string, or a function of the published records (so the state's cards can
        link to the reports).

    Returns
    -------
    ReportRecord
        The published report.

    Raises
    ------
    NotebookError
        The notebook or a parameter is unknown, the kernel is missing, or a cell failed;
        then nothing is published.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    path = find_notebook(name, notebooks_dir=notebooks_dir)
    inject, effective = resolve_parameters(path, parameters or {})
    check_kernel(kernel)
    runs = reports_dir / RUNS
    runs.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    run_id = _run_id(path.stem, runs, started)
    executed = runs / f"{run_id}.ipynb"
    logger.info("running %s with %s into %s", path, inject, executed)
    clock = time.perf_counter()
    try:
        import papermill

        kernel_env = {REPORT_PAGE_ENV: str((reports_dir / f"{run_id}.html").resolve())}
        if progress:
            kernel_env[PROGRESS_ENV] = LINES
        with kernel_environment(kernel_env):
            papermill.execute_notebook(
                str(path),
                str(executed),
                parameters=inject,
                kernel_name=kernel,
                cwd=str(cwd or Path.cwd()),
                progress_bar=progress,
                stderr_file=sys.stderr if progress else None,
            )
        notebook = nbformat.read(executed, as_version=4)
        record = ReportRecord(
            id=run_id,
            name=path.stem,
            title=notebook_title(notebook, path.stem),
            date=started.isoformat(timespec="seconds"),
            seconds=round(time.perf_counter() - clock, 1),
            parameters=effective,
            key_numbers=read_key_numbers(notebook),
            html=f"{run_id}.html",
            notebook=f"{RUNS}/{run_id}.ipynb",
        )
        render_html(notebook, record, out=reports_dir / record.html)
        attach_record(notebook, record)
        write_notebook(notebook, executed)  # from here on, the run counts as published
    except (PapermillExecutionError, CellTimeoutError, DeadKernelError) as exc:
        raise _failure(path.stem, exc, _unpublish(executed, reports_dir)) from exc
    except BaseException:
        _unpublish(executed, reports_dir)
        raise
    add_to_index(record, reports_dir=reports_dir, header=header() if header else "")
    if not record.key_numbers:
        logger.warning("%s recorded no key numbers (call record_key_numbers)", path.stem)
    return record


def _unpublish(executed: Path, reports_dir: Path) -> Path:
    """Remove any HTML of a run that did not finish; keep its notebook under runs/failed/."""
    (reports_dir / f"{executed.stem}.html").unlink(missing_ok=True)
    failed = executed.parent / FAILED / executed.name
    if executed.exists():
        failed.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(executed, failed)
    return failed

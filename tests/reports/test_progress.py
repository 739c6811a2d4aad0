"""A training's progress reaches the make log: notebook 01 passes the progress hook, and a
notebook run by papermill hands its progress lines to the runner's stderr as they come."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import nbformat
import pytest

from emotion_clf.reports import run_notebook
from emotion_clf.reports.progress import PROGRESS_ENV
from tests.reports.helpers import NOTEBOOKS, kernel_pythonpath
from tests.reports.test_failures import write_notebook


def test_notebook_01_trains_with_the_progress_hook() -> None:
    book = nbformat.read(NOTEBOOKS / "01-train.ipynb", as_version=4)
    [cell] = [c for c in book.cells if c.cell_type == "code" and "train_model(" in c.source]
    tree = ast.parse(cell.source)
    [block] = [n for n in ast.walk(tree) if isinstance(n, ast.With)]
    [item] = block.items
    assert isinstance(item.context_expr, ast.Call)
    assert ast.unparse(item.context_expr.func) == "training_progress"
    assert item.optional_vars is not None
    hook = ast.unparse(item.optional_vars)
    [call] = [
        n
        for n in ast.walk(block)
        if isinstance(n, ast.Call) and ast.unparse(n.func) == "train_model"
    ]
    assert {k.arg: ast.unparse(k.value) for k in call.keywords}["progress"] == hook


@pytest.mark.notebook
def test_a_notebook_run_passes_its_progress_lines_on_to_stderr(
    tmp_path: Path,
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PYTHONPATH", kernel_pythonpath())
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    folder = tmp_path / "notebooks"
    write_notebook(
        folder,
        "01-steps",
        "from emotion_clf.reports import record_key_numbers, training_progress",
        'with training_progress("train demo", every_s=0) as progress:\n'
        "    for epoch in range(1, 5):\n"
        '        progress(f"epoch {epoch}/4 loss 0.5", epoch / 4)',
        'record_key_numbers({"divisor": divisor})',
    )
    run_notebook("steps", {}, notebooks_dir=folder, reports_dir=workspace / "r", progress=True)
    err = capfd.readouterr().err
    for epoch, share in ((1, "25%"), (4, "100%")):
        assert f"train demo: epoch {epoch}/4 loss 0.5, {share}, elapsed " in err
    assert PROGRESS_ENV not in os.environ  # set for the kernel only


@pytest.mark.notebook
def test_in_a_notebook_frontend_the_training_progress_is_a_widget(
    tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the runner's request for lines (JupyterLab), tqdm.auto draws a widget: the
    cell's output is a widget view, which Lab renders as a bar (ipywidgets, the lab extra)."""
    monkeypatch.setenv("PYTHONPATH", kernel_pythonpath())
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    folder = tmp_path / "notebooks"
    write_notebook(
        folder,
        "01-widget",
        "from emotion_clf.reports import record_key_numbers, training_progress",
        'with training_progress("train demo") as progress:\n'
        '    progress("epoch 1/1 loss 0.5", 1.0)',
        'record_key_numbers({"divisor": divisor})',
    )
    record = run_notebook("widget", {}, notebooks_dir=folder, reports_dir=workspace / "r")
    executed = nbformat.read(workspace / "r" / record.notebook, as_version=4)
    [cell] = [c for c in executed.cells if "training_progress(" in c.source and "with" in c.source]
    kinds = {key for output in cell.outputs for key in output.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in kinds

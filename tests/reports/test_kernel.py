"""What the runner hands a notebook's kernel: the page its report will be published at, which
notebook 01 names in the model card of the version it registers."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import nbformat
import pytest

from emotion_clf.reports import run_notebook
from emotion_clf.reports.kernel import REPORT_PAGE_ENV
from tests.reports.helpers import NOTEBOOKS, kernel_pythonpath
from tests.reports.test_failures import write_notebook


def test_notebook_01_links_the_version_it_registers_to_its_report() -> None:
    book = nbformat.read(NOTEBOOKS / "01-train.ipynb", as_version=4)
    [cell] = [c for c in book.cells if c.cell_type == "code" and ".register(result)" in c.source]
    calls = [ast.unparse(n) for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Call)]
    assert "workflow.link_training_report(registry, version)" in calls


@pytest.mark.notebook
def test_the_kernel_knows_where_its_report_will_be_published(
    tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", kernel_pythonpath())
    folder = tmp_path / "notebooks"
    write_notebook(
        folder,
        "01-page",
        "from emotion_clf.reports import record_key_numbers\n"
        "from emotion_clf.reports.kernel import report_page",
        'record_key_numbers({"page": report_page(), "divisor": divisor})',
    )
    reports = workspace / "r"
    record = run_notebook("page", {}, notebooks_dir=folder, reports_dir=reports)
    assert record.key_numbers["page"] == str((reports / record.html).resolve())
    assert (reports / record.html).is_file()
    assert REPORT_PAGE_ENV not in os.environ  # set for the kernel only

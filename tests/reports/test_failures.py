"""A failing cell fails the run, names the cell, and publishes nothing."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from emotion_clf.errors import NotebookError
from emotion_clf.reports import read_index, run_notebook
from tests.cli.helpers import run_cli
from tests.reports.helpers import kernel_pythonpath

pytestmark = pytest.mark.notebook


def write_notebook(folder: Path, name: str, *cells: str) -> Path:
    parameters = new_code_cell("divisor: int = 1  # what to divide by")
    parameters.metadata["tags"] = ["parameters"]
    book = new_notebook(
        cells=[new_markdown_cell(f"# {name}"), parameters, *(new_code_cell(c) for c in cells)],
        metadata={
            "kernelspec": {
                "name": "emotion-clf",
                "display_name": "emotion-clf",
                "language": "python",
            }
        },
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(book, path)
    return path


@pytest.fixture
def notebooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTHONPATH", kernel_pythonpath())
    folder = tmp_path / "notebooks"
    write_notebook(
        folder,
        "01-divide",
        "from emotion_clf.reports import record_key_numbers",
        "quotient = 12 / divisor",
        'record_key_numbers({"quotient": quotient})',
    )
    return folder


def test_a_failing_cell_publishes_nothing(notebooks: Path, workspace: Path) -> None:
    reports = workspace / "reports"
    good = run_notebook("divide", {"divisor": "4"}, notebooks_dir=notebooks, reports_dir=reports)
    assert good.key_numbers == {"quotient": 3.0}
    index_before = (reports / "index.html").read_text()
    html_before = sorted(reports.glob("*.html"))

    with pytest.raises(NotebookError) as caught:
        run_notebook("divide", {"divisor": 0}, notebooks_dir=notebooks, reports_dir=reports)
    message = str(caught.value)
    assert "In [4]" in message and "quotient = 12 / divisor" in message
    assert "ZeroDivisionError" in message and "nothing was published" in message

    assert (reports / "index.html").read_text() == index_before
    assert sorted(reports.glob("*.html")) == html_before
    assert [r.id for r in read_index(reports) or []] == [good.id]
    failed = list((reports / "runs" / "failed").glob("*-01-divide.ipynb"))
    assert len(failed) == 1  # kept for debugging, never published
    assert len(list((reports / "runs").glob("*.ipynb"))) == 1


def test_the_cli_exits_non_zero_and_names_the_cell(notebooks: Path, workspace: Path) -> None:
    result = run_cli(
        "report",
        "run",
        "01-divide",
        "-p",
        "divisor",
        "0",
        "--notebooks",
        str(notebooks),
        home=workspace,
        env={"PYTHONPATH": kernel_pythonpath()},
    )
    assert result.returncode != 0
    assert 'Exception encountered at "In [4]"' in result.stderr
    assert "ZeroDivisionError" in result.stderr
    reports = workspace / "reports"  # EMOTION_CLF_HOME moves the reports
    assert len(list((reports / "runs" / "failed").glob("*-01-divide.ipynb"))) == 1
    assert not (reports / "index.html").exists()
    assert not list(reports.glob("*.html"))


@pytest.mark.parametrize(
    ("parameters", "complaint"),
    [
        ({"divisr": "2"}, "has no parameter 'divisr'"),
        ({"divisor": "two"}, "parameter 'divisor' is a int"),
    ],
)
def test_bad_parameters_are_refused_before_anything_runs(
    notebooks: Path, workspace: Path, parameters: dict[str, str], complaint: str
) -> None:
    with pytest.raises(NotebookError, match=complaint):
        run_notebook("divide", parameters, notebooks_dir=notebooks, reports_dir=workspace / "r")
    assert not (workspace / "r").exists()


def test_a_missing_kernel_says_to_run_make_setup(notebooks: Path, workspace: Path) -> None:
    with pytest.raises(NotebookError, match="make setup"):
        run_notebook(
            "divide", notebooks_dir=notebooks, reports_dir=workspace / "r", kernel="no-such"
        )


def test_an_unknown_notebook_lists_the_known_ones(notebooks: Path, workspace: Path) -> None:
    with pytest.raises(NotebookError, match="notebooks: 01-divide"):
        run_notebook("train", notebooks_dir=notebooks, reports_dir=workspace / "r")

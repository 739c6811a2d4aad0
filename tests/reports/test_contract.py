"""The notebooks' interface: one parameters cell that matches what the Makefile passes."""

from __future__ import annotations

import ast

import nbformat
import papermill
import pytest

from emotion_clf.reports.runner import PARAMETER_TYPES, coerce_value, find_notebook
from tests.reports.helpers import (
    MAKEFILE,
    NOTEBOOKS,
    literal_type,
    make_defaults,
    make_report_calls,
)

pytestmark = pytest.mark.notebook

NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("*.ipynb"))
CALLS = make_report_calls(MAKEFILE.read_text())


def test_the_makefile_runs_every_notebook_and_only_existing_ones() -> None:
    assert {"train", "compare", "promote", "rollback"} <= set(CALLS)
    called = {find_notebook(nb, notebooks_dir=NOTEBOOKS).stem for nb, _ in CALLS.values()}
    assert called == {p.stem for p in NOTEBOOK_FILES}


@pytest.mark.parametrize("target", sorted(CALLS))
def test_makefile_parameters_match_the_notebook(target: str) -> None:
    notebook, passed = CALLS[target]
    declared = papermill.inspect_notebook(str(find_notebook(notebook, notebooks_dir=NOTEBOOKS)))
    assert set(passed) == set(declared), f"make {target} passes {sorted(passed)}"
    for name, value in passed.items():
        declared_type = declared[name]["inferred_type_name"]
        assert declared_type in PARAMETER_TYPES, f"{notebook}: annotate {name} with its type"
        assert literal_type(value) == declared_type or (value == "" and declared_type == "str"), (
            f"make {target}: {name}={value!r} reads as {literal_type(value)}, "
            f"the notebook declares {declared_type}"
        )
        coerce_value(name, value, declared_type)  # what the runner will do with it


def test_the_parser_sees_the_defaults_it_substitutes() -> None:
    defaults = make_defaults(MAKEFILE.read_text())
    assert defaults["FAMILY"] == "tfidf"
    assert CALLS["train"][1]["family"] == "tfidf"
    assert CALLS["promote"][1]["force"] == "false"
    assert CALLS["rollback"][1]["to"] == ""


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_notebook_holds_only_package_calls(path: object) -> None:
    book = nbformat.read(path, as_version=4)
    code = [c for c in book.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged parameters"
    assert code[0] is tagged[0], "the parameters cell comes first"
    for cell in code:
        tree = ast.parse(cell.source)
        defined = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
        ]
        assert not defined, f"no def, class or lambda in a notebook: {cell.source[:60]!r}"
        assert not any(isinstance(n, ast.For | ast.While | ast.Try) for n in ast.walk(tree))
    assert "record_key_numbers(" in code[-1].source, "the last cell records the key numbers"
    assert book.metadata.kernelspec.name == "emotion-clf"
    assert all(not c.get("outputs") for c in code), "commit notebooks without outputs"

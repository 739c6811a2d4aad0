"""The command line starts without the heavy libraries: each command imports what it needs.

The command groups (``azure``, ``registry``, ``data``, ``report``, ``drift``, ``feedback``)
are imported when the command line names them (:mod:`emotion_clf.cli.lazy`): ``emotion-clf
predict`` does not import the Azure SDK wrappers behind ``azure``, yet ``--help`` lists every
command and group as before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.helpers import run_cli

HEAVY = ("pandas", "sklearn", "scipy", "mlflow", "torch", "matplotlib", "evidently", "fastapi")
GROUPS = ("registry", "data", "report", "drift", "feedback", "azure")
# what only the groups import: the Azure code above all
GROUP_MODULES = (
    "emotion_clf.azure",
    *(f"emotion_clf.cli.{group}" for group in GROUPS),
    "emotion_clf.cli.azure_containers",
    "emotion_clf.cli.azure_ml",
)


def imported_by(code: str) -> list[str]:
    """The modules of :data:`HEAVY` and :data:`GROUP_MODULES` that ``code`` leaves imported,
    run in a fresh interpreter (``code`` must not print)."""
    watched = (*HEAVY, *GROUP_MODULES)
    report = f"\nimport json, sys\nprint(json.dumps([m for m in {watched!r} if m in sys.modules]))"
    out = subprocess.run(
        [sys.executable, "-c", code + report], capture_output=True, text=True, check=True
    )
    return list(json.loads(out.stdout))


def test_importing_the_command_line_loads_none_of_the_heavy_libraries() -> None:
    # `emotion-clf --help` paid 3.8 s for pandas and scikit-learn's metrics before this test
    assert imported_by("import emotion_clf.cli") == []


def test_predict_imports_no_command_group(tfidf_bundle: Path, tmp_path: Path) -> None:
    """``emotion-clf predict`` runs, and the Azure code (a third of the command line's own
    start before it was imported lazily) and the other groups stay out of the process."""
    code = f"""
import contextlib, io, os, sys
os.environ["EMOTION_CLF_HOME"] = {str(tmp_path)!r}
sys.argv = ["emotion-clf", "predict", "--json", "--model", {str(tfidf_bundle)!r}, "Thank you!"]
from emotion_clf.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        main()
    except SystemExit as exc:
        assert not exc.code, exc.code
assert '"emotion"' in out.getvalue(), out.getvalue()
"""
    left = imported_by(code)
    assert [m for m in left if m in GROUP_MODULES] == []


def test_help_lists_every_command_group(tmp_path: Path) -> None:
    listed = run_cli("--help", home=tmp_path, env={"COLUMNS": "200"})
    assert listed.returncode == 0, listed.stderr
    for name in (*GROUPS, "predict", "train", "serve"):
        assert f" {name} " in listed.stdout, name
    azure = run_cli("azure", "--help", home=tmp_path, env={"COLUMNS": "200"})
    assert azure.returncode == 0, azure.stderr
    for name in ("aci", "aca", "pipeline", "endpoint", "batch"):
        assert f" {name} " in azure.stdout, name
    deploy = run_cli("azure", "aci", "deploy", "--help", home=tmp_path, env={"COLUMNS": "200"})
    assert deploy.returncode == 0 and "--dry-run" in deploy.stdout


def test_a_mistyped_group_is_suggested_though_not_imported_yet(tmp_path: Path) -> None:
    typo = run_cli("regstry", "list", home=tmp_path, env={"COLUMNS": "200"})
    assert typo.returncode == 2
    assert "No such command 'regstry'" in typo.stderr and "'registry'" in typo.stderr

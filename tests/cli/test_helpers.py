"""The in-process ``run_cli`` answers what the installed console script answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli


@pytest.mark.parametrize(
    "args",
    [
        ("train", "--family", "xgboost", "--out", "unused"),  # a usage error: exit 2
        ("predict", "Hi.", "--model", "baseline"),  # a domain error: its own exit code
        ("shadow-report", "--json"),  # success: an empty prediction log, as JSON
    ],
    ids=["usage error", "domain error", "success"],
)
def test_in_process_and_subprocess_give_the_same_code_and_output(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    inside = run_cli(*args, home=tmp_path / "a")
    outside = run_cli(*args, home=tmp_path / "b", process=True)
    assert inside.returncode == outside.returncode
    assert inside.stdout == outside.stdout
    assert _ours(inside.stderr).replace("/a", "/b") == _ours(outside.stderr).replace("/a", "/b")


# MLflow's own progress lines ("Creating initial MLflow database tables..."): not the
# command's output, and a test process that has used MLflow before prints fewer of them
_MLFLOW_INFO = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d INFO mlflow[.\w]*: .*\n", re.M)


def _ours(stderr: str) -> str:
    return _MLFLOW_INFO.sub("", stderr)


def test_an_escaping_exception_is_printed_with_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import emotion_clf.cli.registry as registry_commands

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(registry_commands, "open_registry", broken)
    result = run_cli("registry", "list", home=tmp_path)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: a bug" in result.stderr

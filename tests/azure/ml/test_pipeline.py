"""What the cluster would run: each pipeline step's command, as the component holds it, run
locally in order on a slice of the data (Azure ML's ${{inputs.x}} / ${{outputs.y}} bound to
local folders), ending with a version designated dynamic in the local registry."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from emotion_clf.azure.ml.pipeline import STEP_COMMANDS
from emotion_clf.config import Settings
from emotion_clf.registry import open_registry


def bind(command: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        return values[f"{match.group(1)}.{match.group(2)}"]

    return re.sub(r"\$\{\{(inputs|outputs)\.(\w+)\}\}", value, command)


def test_every_step_runs_locally_on_a_slice(
    lifecycle_settings: Settings, small_data: Path, tmp_path: Path
) -> None:
    folders = {name: tmp_path / name for name in ("data", "bundle", "report")}
    for folder in folders.values():
        folder.mkdir()  # Azure ML creates each output folder before the step starts
    values = {
        "inputs.raw": str(small_data),
        "inputs.family": "tfidf",
        "inputs.seed": "0",
        "inputs.data": str(folders["data"]),
        "inputs.bundle": str(folders["bundle"]),
        "inputs.report": str(folders["report"]),
        **{f"outputs.{name}": str(folder) for name, folder in folders.items()},
    }
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "EMOTION_CLF_HOME": str(lifecycle_settings.home),
        "EMOTION_CLF_REFRESH_ENDPOINTS": "",
    }
    assert list(STEP_COMMANDS) == ["prepare", "train", "evaluate", "register"]
    for step, command in STEP_COMMANDS.items():
        done = subprocess.run(
            ["bash", "-c", bind(command, values)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"{step}: {done.stderr[-2000:]}"

    prepared = json.loads((folders["data"] / "dataset.json").read_text())
    assert prepared["batches"] == 4 and prepared["rows"] > 0
    assert len(list(folders["data"].glob("*.csv"))) == 4
    assert (folders["bundle"] / "manifest.json").is_file()
    evaluation = json.loads((folders["report"] / "evaluation.json").read_text())
    assert 0 < evaluation["emotion"]["accuracy"] <= 1
    registry = open_registry(lifecycle_settings)
    assert registry.designations() == {"dynamic": "1"}
    assert registry.version("1").family == "tfidf"


def test_register_waits_for_the_evaluation(
    lifecycle_settings: Settings, tfidf_bundle: Path, tmp_path: Path
) -> None:
    empty_report = tmp_path / "report"
    empty_report.mkdir()
    command = bind(
        STEP_COMMANDS["register"],
        {"inputs.bundle": str(tfidf_bundle), "inputs.report": str(empty_report)},
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env["EMOTION_CLF_HOME"] = str(lifecycle_settings.home)
    done = subprocess.run(["bash", "-c", command], env=env, check=False, timeout=120)
    assert done.returncode != 0
    assert open_registry(lifecycle_settings).versions() == []

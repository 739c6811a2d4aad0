"""What the cluster would run: each pipeline step's command, as the component holds it, run
locally in order on a slice of the data (Azure ML's ${{inputs.x}} / ${{outputs.y}} bound to
local folders), ending with a version designated dynamic in the local registry; and what the
schedule's triggers do as new batches land (or do not)."""

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
from tests.conftest import make_slice


def bind(command: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        return values[f"{match.group(1)}.{match.group(2)}"]

    return re.sub(r"\$\{\{(inputs|outputs)\.(\w+)\}\}", value, command)


def run_steps(
    settings: Settings, raw: Path, work: Path, steps: tuple[str, ...] = tuple(STEP_COMMANDS)
) -> dict[str, str]:
    """Run ``steps`` of one pipeline run on ``raw``; returns each step's output."""
    folders = {name: work / name for name in ("data", "bundle", "report")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)  # Azure ML creates each output folder
    values = {
        "inputs.raw": str(raw),
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
        "EMOTION_CLF_HOME": str(settings.home),
        "EMOTION_CLF_REFRESH_ENDPOINTS": "",
    }
    outputs = {}
    for step in steps:
        done = subprocess.run(
            ["bash", "-c", bind(STEP_COMMANDS[step], values)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"{step}: {done.stderr[-2000:]}"
        outputs[step] = done.stdout + done.stderr
    return outputs


def test_every_step_runs_locally_and_a_trigger_without_new_data_registers_nothing(
    lifecycle_settings: Settings, tmp_path: Path
) -> None:
    """Three triggers of the schedule over one landing folder: 3 batches (v1), nothing new
    (no version), a 4th batch landed (v2)."""
    assert list(STEP_COMMANDS) == ["prepare", "train", "evaluate", "register"]
    landing = make_slice(tmp_path / "landing", batches=3)
    run_steps(lifecycle_settings, landing, tmp_path / "run1")
    prepared = json.loads((tmp_path / "run1" / "data" / "dataset.json").read_text())
    assert prepared["batches"] == 3 and prepared["rows"] > 0
    assert len(list((tmp_path / "run1" / "data").glob("*.csv"))) == 3
    evaluation = json.loads((tmp_path / "run1" / "report" / "evaluation.json").read_text())
    assert 0 < evaluation["emotion"]["accuracy"] <= 1
    registry = open_registry(lifecycle_settings)
    assert registry.designations() == {"dynamic": "1"}
    assert registry.version("1").family == "tfidf"

    # the same folder again: prepare and train give the same data fingerprint (the bundle of
    # run 1 stands for run 2's), so register skips it and says so
    output = run_steps(lifecycle_settings, landing, tmp_path / "run1", ("register",))
    assert "no new data: v1 (tfidf) was trained on the same data" in output["register"]
    assert [v.version for v in open_registry(lifecycle_settings).versions()] == ["1"]

    make_slice(landing, batches=1, offset=3)  # a new batch lands
    run_steps(lifecycle_settings, landing, tmp_path / "run3")
    assert json.loads((tmp_path / "run3" / "data" / "dataset.json").read_text())["batches"] == 4
    assert open_registry(lifecycle_settings).designations() == {"dynamic": "2"}


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

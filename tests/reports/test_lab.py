"""``make lab`` opens JupyterLab where the notebooks and the executed runs both are: a real
JupyterLab, asked for both folders through its contents API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emotion_clf.reports.lab import lab_arguments
from tests.http_listeners import free_port, stop, wait_until_ready
from tests.reports.helpers import MAKEFILE


def test_the_root_is_the_common_parent_and_lab_opens_on_the_notebooks(tmp_path: Path) -> None:
    project, home = tmp_path / "project", tmp_path / "elsewhere" / "home"
    root, arguments = lab_arguments(project / "notebooks", home / "reports" / "runs")
    assert root == tmp_path.resolve()
    assert arguments == [
        f"--ServerApp.root_dir={root}",
        "--LabApp.default_url=/lab/tree/project/notebooks",
    ]
    # the default home: the runs are under the project
    root, _ = lab_arguments(project / "notebooks", project / "reports" / "runs")
    assert root == project.resolve()


def test_make_lab_runs_this_module() -> None:
    [recipe] = [
        line for line in MAKEFILE.read_text().splitlines() if "emotion_clf.reports.lab" in line
    ]
    assert "$(LAB_ARGS)" in recipe


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    home = tmp_path / "home"
    runs = home / "reports" / "runs"
    runs.mkdir(parents=True)
    (runs / "20261207T000000Z-01-train.ipynb").write_text(
        '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    port = free_port()
    log = tmp_path / "lab.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "emotion_clf.reports.lab", "--no-browser", f"--port={port}",
             "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
             *(["--allow-root"] if os.geteuid() == 0 else [])],
            env={**os.environ, "EMOTION_CLF_HOME": str(home),
                 "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")},
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(
            process,
            lambda: httpx.get(f"{url}/api/status", timeout=2).status_code == 200,
            what="jupyter lab",
            log=log,
            timeout=120,
        )
        yield url, home
    finally:
        stop(process)


def test_jupyterlab_reaches_the_notebooks_and_the_executed_runs(lab: tuple[str, Path]) -> None:
    url, home = lab
    notebooks = Path(__file__).resolve().parents[2] / "notebooks"
    root = Path(os.path.commonpath([notebooks, home.resolve()]))
    with httpx.Client(base_url=url, timeout=10) as client:
        for folder, expected in (
            (notebooks, "01-train.ipynb"),
            (home / "reports" / "runs", "20261207T000000Z-01-train.ipynb"),
        ):
            path = folder.resolve().relative_to(root).as_posix()
            listing = client.get(f"/api/contents/{path}")
            assert listing.status_code == 200, (path, listing.text)
            assert expected in {item["name"] for item in listing.json()["content"]}
        opened = client.get("/", follow_redirects=False)
        start = notebooks.relative_to(root).as_posix()
        assert opened.headers["location"].split("?")[0].endswith(f"/lab/tree/{start}")

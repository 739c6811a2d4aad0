"""``make lab``: JupyterLab where both the notebooks and their executed runs are.

The notebooks are in ``<project>/notebooks``; each run papermill executed (``make train``,
``make compare``, ...) is kept in ``<home>/reports/runs`` (home: the project folder unless
``EMOTION_CLF_HOME`` moves it). Lab's file browser shows one folder tree, and Jupyter refuses
to follow a link out of it, so Lab opens at the two folders' common parent, on the notebooks.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from emotion_clf.config import get_settings, project_root
from emotion_clf.reports.site import RUNS


def lab_arguments(notebooks: Path, runs: Path) -> tuple[Path, list[str]]:
    """The root folder and ``jupyter lab``'s arguments: rooted at the common parent of
    ``notebooks`` and ``runs``, opening on ``notebooks``."""
    notebooks, runs = notebooks.resolve(), runs.resolve()
    root = Path(os.path.commonpath([notebooks, runs]))
    start = notebooks.relative_to(root).as_posix()
    return root, [
        f"--ServerApp.root_dir={root}",
        f"--LabApp.default_url=/lab/tree/{start}" if start != "." else "--LabApp.default_url=/lab",
    ]


def main(argv: list[str] | None = None) -> None:
    """Start JupyterLab (extra arguments are passed on: ``make lab LAB_ARGS=...``)."""
    runs = get_settings().reports_dir / RUNS
    runs.mkdir(parents=True, exist_ok=True)  # reachable before the first report too
    notebooks = project_root() / "notebooks"
    root, arguments = lab_arguments(notebooks, runs)
    sys.stderr.write(
        f"JupyterLab at {root}: notebooks in {notebooks.resolve().relative_to(root)}/, "
        f"executed runs in {runs.resolve().relative_to(root)}/\n"
    )
    jupyter = str(Path(sys.executable).parent / "jupyter")
    extra = sys.argv[1:] if argv is None else argv
    os.execv(jupyter, [jupyter, "lab", *arguments, *extra])


if __name__ == "__main__":
    main()

"""What Azure ML builds jobs and deployments from: environments, the data asset, entry code.

- two **environments**, each a Docker build context staged from ``environment/``: ``job``
  (the project with its pinned dependencies and the ``[azure]`` extra; pipeline steps and the
  batch deployment) and ``score`` (Azure ML's inference server beside emotion_clf, installed
  as ``make azureml-venv`` does for the tests);
- the **data asset**: the labelled batches as a ``uri_folder``, versioned by the data's
  fingerprint, so the same rows are one version and new rows a new one;
- the **entry code** of a deployment: a folder holding only its entry script (the package
  itself is in the environment).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from emotion_clf.azure.sdk import require
from emotion_clf.config import project_root
from emotion_clf.data import load_dataset
from emotion_clf.errors import ConfigError

ENVIRONMENTS = ("job", "score")
_CONTEXT_FILES = {
    "job": ("environment/constraints.txt",),
    "score": ("environment/azureml/score-requirements.txt",),
}
_ENTRY_SCRIPTS = {"score": "score.py", "batch": "batch_score.py"}


def stage_build_context(kind: str, out: Path) -> Path:
    """A Docker build context for environment ``kind`` under ``out`` (copied from the
    checkout: its Dockerfile, pins, ``pyproject.toml``, ``README.md`` and ``src/``)."""
    if kind not in ENVIRONMENTS:
        raise ConfigError(f"unknown environment {kind!r}; environments: {', '.join(ENVIRONMENTS)}")
    root = project_root()
    if not (root / "environment" / "azureml").is_dir():
        raise ConfigError(f"{root} is not an emotion-clf checkout: environment/azureml is missing")
    context = out / f"{kind}-environment"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    shutil.copy2(root / "environment" / "azureml" / f"{kind}.Dockerfile", context / "Dockerfile")
    for name in (*_CONTEXT_FILES[kind], "pyproject.toml", "README.md"):
        shutil.copy2(root / name, context / Path(name).name)
    shutil.copytree(
        root / "src",
        context / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )
    return context


def environment(kind: str, *, name: str, out: Path) -> Any:
    """The ``Environment`` entity ``<name>-<kind>`` built from a staged context."""
    entities = require("azure.ai.ml.entities")
    context = stage_build_context(kind, out)
    return entities.Environment(
        name=f"{name}-{kind}",
        description=f"emotion-clf {kind} environment (environment/azureml/{kind}.Dockerfile)",
        build=entities.BuildContext(path=str(context.resolve())),
    )


def environment_ref(kind: str, *, name: str) -> str:
    """How jobs and deployments name the environment: its latest version."""
    return f"azureml:{name}-{kind}@latest"


def data_asset(*, name: str, source: Path) -> Any:
    """The labelled batches under ``source`` as a ``uri_folder`` data asset whose version is
    the first 12 hex digits of the data's fingerprint (the loader checks every row first)."""
    entities = require("azure.ai.ml.entities")
    constants = require("azure.ai.ml.constants")
    dataset = load_dataset(source)
    return entities.Data(
        name=name,
        version=dataset.fingerprint()[:12],
        type=constants.AssetTypes.URI_FOLDER,
        path=str(source.resolve()),
        description=f"emotion-clf labelled data: {len(dataset)} rows in {len(dataset.files)} files",
        tags={"fingerprint": dataset.fingerprint(), "rows": str(len(dataset))},
    )


def stage_entry_code(kind: str, out: Path) -> Path:
    """A code folder holding one entry script (``score`` or ``batch``) for a deployment."""
    script = _ENTRY_SCRIPTS[kind]
    folder = out / f"{kind}-code"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy2(Path(__file__).with_name(script), folder / script)
    return folder

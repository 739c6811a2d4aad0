"""Shared fixtures: an isolated workspace and small slices of the real bundled data."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from emotion_clf.config import get_settings, project_root

if TYPE_CHECKING:
    from emotion_clf.config import Settings
    from emotion_clf.training import TrainResult

RAW = project_root() / "data" / "raw"
HEADER = ["start_time", "end_time", "text", "emotion", "sub-emotion", "intensity"]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point EMOTION_CLF_HOME (everything the tools write) at a fresh folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("EMOTION_CLF_HOME", str(home))
    monkeypatch.setenv("EMOTION_CLF_REFRESH_ENDPOINTS", "")
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def slice_rows(batch: str, limit: int) -> list[list[str]]:
    """The first ``limit`` labelled rows of one real batch file."""
    rows: list[list[str]] = []
    with (RAW / f"{batch}.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            if row[2].strip() and row[3].strip():
                rows.append(row)
            if len(rows) == limit:
                break
    return rows


def make_slice(folder: Path, *, batches: int = 4, rows: int = 120, offset: int = 0) -> Path:
    """A folder of ``batches`` small CSV files cut from the real data."""
    for i in range(batches):
        name = f"train_data-{i + 1 + offset:04d}"
        write_csv(folder / f"{name}.csv", slice_rows(name, rows))
    return folder


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_slice(tmp_path_factory.mktemp("slice"))


@pytest.fixture(scope="session")
def tfidf_bundle(small_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tfidf bundle trained once on the small slice."""
    from emotion_clf.training import train_model

    out = tmp_path_factory.mktemp("bundles") / "tfidf"
    train_model("tfidf", data=small_data, out=out, seed=0)
    return out


# -- registry and lifecycle ---------------------------------------------------------------
@pytest.fixture(scope="session")
def empty_mlflow_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow SQLite store with its tables created once (migrations take seconds)."""
    from emotion_clf.config import Settings
    from emotion_clf.registry import open_registry

    settings = Settings(home=tmp_path_factory.mktemp("mlflow-template"), refresh_endpoints=[])
    open_registry(settings).designations()
    return settings.registry_dir / "mlflow.db"


@pytest.fixture
def lifecycle_settings(
    workspace: Path, empty_mlflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Settings for a fresh embedded registry in the test's workspace.

    The first-model minimums are lowered (through the environment, so CLI subprocesses see
    them too) because the tests' small models are weak on purpose.
    """
    import shutil

    from emotion_clf.config import Settings

    (workspace / "mlruns").mkdir()
    shutil.copy(empty_mlflow_db, workspace / "mlruns" / "mlflow.db")
    monkeypatch.setenv("EMOTION_CLF_GATE_FIRST_MIN_ACCURACY", "0.3")
    monkeypatch.setenv("EMOTION_CLF_GATE_FIRST_MIN_MACRO_F1", "0.1")
    monkeypatch.setenv("EMOTION_CLF_GATE_BOOTSTRAP_SAMPLES", "300")
    return Settings()


@pytest.fixture(scope="session")
def weak_result(small_data: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """tfidf trained on a 480-row slice: a poor model."""
    from emotion_clf.training import train_model

    return train_model("tfidf", data=small_data, out=tmp_path_factory.mktemp("weak") / "b", seed=0)


@pytest.fixture(scope="session")
def strong_result(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """tfidf trained on the full bundled data: clearly better than the weak one."""
    from emotion_clf.training import train_model

    return train_model("tfidf", data=RAW, out=tmp_path_factory.mktemp("strong") / "b", seed=0)


from tests.mlflow_fixtures import any_registry_settings, mlflow_server  # noqa: E402, F401

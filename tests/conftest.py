"""Shared fixtures: an isolated workspace and small slices of the real bundled data."""

from __future__ import annotations

import csv
import hashlib
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from emotion_clf.config import get_settings, project_root
from tests.serving.helpers import build_app, make_settings

if TYPE_CHECKING:
    from emotion_clf.config import Settings
    from emotion_clf.training import TrainResult

# fixtures defined beside their stand-ins, and the hook that marks integration tests
# (pytest reads pytest_plugins only in this conftest)
pytest_plugins = ["tests.azure_standins", "tests.mlflow_fixtures", "tests.integration"]

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


# -- one trained tfidf for the session ----------------------------------------------------
def folder_fingerprint(folder: Path) -> list[tuple[str, str]]:
    """Every file under ``folder``: its relative path and sha256."""
    return [
        (str(path.relative_to(folder)), hashlib.sha256(path.read_bytes()).hexdigest())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


@pytest.fixture(scope="session")
def weak_result(
    small_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TrainResult]:
    """tfidf trained once per session on the 480-row slice (seed 0): a poor model, shared by
    every test that reads it (``tfidf_bundle`` is its bundle; the template registries'
    v1 is its registration).

    Never write into its bundle: copy it first (``shutil.copytree(tfidf_bundle, tmp_path /
    ...)``). The session ends with an error if a test changed it.
    """
    from emotion_clf.training import train_model

    result = train_model(
        "tfidf", data=small_data, out=tmp_path_factory.mktemp("tfidf") / "tfidf", seed=0
    )
    before = folder_fingerprint(result.bundle)
    yield result
    assert folder_fingerprint(result.bundle) == before, (
        f"a test wrote into the shared tfidf bundle {result.bundle}: copy it first"
    )


@pytest.fixture(scope="session")
def tfidf_bundle(weak_result: TrainResult) -> Path:
    """The shared tfidf's bundle folder (read only: copy it to change it)."""
    return weak_result.bundle


@pytest.fixture(scope="session")
def other_result(small_data: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """tfidf on the same slice with seed 1: a second version that differs from
    ``weak_result`` (read only, like it)."""
    from emotion_clf.training import train_model

    return train_model(
        "tfidf", data=small_data, out=tmp_path_factory.mktemp("tfidf-1") / "b", seed=1
    )


# -- one tiny minilm for the session -------------------------------------------------------
class NetworkTouched(AssertionError):
    pass


@contextmanager
def network_refused() -> Iterator[list[tuple[str, Any]]]:
    """Any socket connection or name lookup raises :class:`NetworkTouched` and is recorded
    in the list this yields."""
    attempts: list[tuple[str, Any]] = []

    def refuse(kind: str) -> Any:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            attempts.append((kind, args[1:] if kind == "connect" else args))
            raise NetworkTouched(f"network access attempted: {kind} {args!r}")

        return blocked

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse("connect"))
        patch.setattr(socket.socket, "connect_ex", refuse("connect"))
        patch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
        patch.setattr(socket, "create_connection", refuse("create_connection"))
        yield attempts


TINY_MINILM_PARAMS = {"max_steps": 30, "batch_size": 16}


@dataclass(frozen=True)
class TinyMiniLM:
    """A minilm trained for 30 steps (2 epochs) on the 480-row slice, with the training's
    progress reports and the network access it attempted (none is allowed)."""

    result: TrainResult
    progress: list[tuple[str, float]]
    network_attempts: list[tuple[str, Any]]


@pytest.fixture(scope="session")
def tiny_minilm(small_data: Path, tmp_path_factory: pytest.TempPathFactory) -> TinyMiniLM:
    """The tiny minilm, trained once per session for every test that only reads it. Never
    change it: take ``result.predictor.with_runtime(...)``, a deep copy of its module, or
    ``load_bundle(result.bundle)``; a test that trains differently trains its own."""
    from emotion_clf.training import train_model

    reports: list[tuple[str, float]] = []
    with network_refused() as attempts:
        result = train_model(
            "minilm",
            data=small_data,
            out=tmp_path_factory.mktemp("tiny-minilm") / "bundle",
            seed=0,
            params=TINY_MINILM_PARAMS,
            progress=lambda text, fraction: reports.append((text, fraction)),
        )
    return TinyMiniLM(result=result, progress=reports, network_attempts=list(attempts))


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
    # a registry that is down fails at once (the first configure_mlflow of the process would
    # otherwise fix MLflow's retries, with back-off, at the default for the whole session)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    return Settings()


@pytest.fixture(scope="session")
def strong_result(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """tfidf trained on the full bundled data: clearly better than the weak one."""
    from emotion_clf.training import train_model

    return train_model("tfidf", data=RAW, out=tmp_path_factory.mktemp("strong") / "b", seed=0)


# -- registries with versions, for the server and monitoring tests -------------------------
# Creating an MLflow SQLite store and registering versions takes seconds, so one session
# fixture builds two template homes and each test works on its own copy:
#
# - ``promoted``: v1 (``weak_result``: tfidf, seed 0) designated ``baseline`` and already
#   fetched once (so the local cache knows it), v2 (``other_result``: seed 1) registered as
#   ``dynamic``;
# - ``unpromoted``: v1 registered as ``dynamic``, no ``baseline`` yet.
#
# The copies share the template's artifact store (its path is recorded in the database), which
# is only read, or written under new run ids.
@dataclass(frozen=True)
class Homes:
    promoted: Path
    unpromoted: Path


@pytest.fixture(scope="session")
def registry_homes(
    weak_result: TrainResult, other_result: TrainResult, tmp_path_factory: pytest.TempPathFactory
) -> Homes:
    from emotion_clf.promotion import promote
    from emotion_clf.registry import fetch_model, open_registry

    root = tmp_path_factory.mktemp("registry")
    promoted, unpromoted = root / "promoted", root / "unpromoted"
    settings = make_settings(promoted)
    registry = open_registry(settings)
    registry.register(weak_result)
    shutil.copytree(promoted, unpromoted)
    promote(settings=settings, version="1", force=True, reason="test", refresh=False)
    fetch_model("baseline", settings=settings)  # the cache now remembers baseline -> v1
    registry.register(other_result)
    return Homes(promoted=promoted, unpromoted=unpromoted)


def copy_home(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    shutil.copytree(template, home)
    monkeypatch.setenv("EMOTION_CLF_HOME", str(home))
    monkeypatch.setenv("EMOTION_CLF_REFRESH_ENDPOINTS", "")
    # a registry that is down must fail fast (MLflow retries for minutes by default)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "3")
    get_settings.cache_clear()
    return home


@pytest.fixture
def home(registry_homes: Homes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the promoted template: v1 is the baseline, v2 the dynamic."""
    yield copy_home(registry_homes.promoted, tmp_path, monkeypatch)
    get_settings.cache_clear()


@pytest.fixture
def empty_home(
    registry_homes: Homes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A copy of the unpromoted template: v1 registered, no baseline designated."""
    yield copy_home(registry_homes.unpromoted, tmp_path, monkeypatch)
    get_settings.cache_clear()


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    """A running app on ``home`` (v1 served), with the lifespan entered."""
    with TestClient(build_app(home), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def shared_home(registry_homes: Homes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``home`` once for a module: for many requests that change nothing a test reads back
    (an app per test cost about a second each, most of the serving tests' time)."""
    with pytest.MonkeyPatch.context() as mp:
        yield copy_home(registry_homes.promoted, tmp_path_factory.mktemp("shared"), mp)
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def shared_client(shared_home: Path) -> Iterator[TestClient]:
    """``client`` once for a module, on ``shared_home``."""
    with TestClient(build_app(shared_home), raise_server_exceptions=False) as test_client:
        yield test_client

"""Fixtures for the API: real MLflow registries in temporary homes, apps built on them.

Creating an MLflow SQLite store and registering versions takes seconds, so one session
fixture builds two template homes and each test works on its own copy:

- ``promoted``: v1 (tfidf, seed 0) designated ``baseline`` and already fetched once (so the
  local cache knows it), v2 (seed 1) registered as ``dynamic``;
- ``unpromoted``: v1 registered as ``dynamic``, no ``baseline`` yet.

The copies share the template's artifact store (its path is recorded in the database), which
is only read, or written under new run ids.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from emotion_clf.config import get_settings
from tests.serving.helpers import build_app, make_settings


@dataclass(frozen=True)
class Homes:
    promoted: Path
    unpromoted: Path


@pytest.fixture(scope="session")
def registry_homes(small_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Homes:
    from emotion_clf.promotion import promote
    from emotion_clf.registry import fetch_model, open_registry
    from emotion_clf.training import train_model

    root = tmp_path_factory.mktemp("registry")
    promoted, unpromoted = root / "promoted", root / "unpromoted"
    settings = make_settings(promoted)
    registry = open_registry(settings)
    registry.register(train_model("tfidf", data=small_data, out=root / "v1", seed=0))
    shutil.copytree(promoted, unpromoted)
    promote(settings=settings, version="1", force=True, reason="test", refresh=False)
    fetch_model("baseline", settings=settings)  # the cache now remembers baseline -> v1
    registry.register(train_model("tfidf", data=small_data, out=root / "v2", seed=1))
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

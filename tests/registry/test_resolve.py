"""What ``--model`` means: a folder first, then a designation or a version number."""

from __future__ import annotations

from pathlib import Path

import pytest

from emotion_clf.config import Settings
from emotion_clf.errors import ModelNotFoundError, RegistryUnavailableError
from emotion_clf.registry import is_registry_ref, resolve_model
from emotion_clf.training import TrainResult


def test_registry_references_are_designations_and_version_numbers() -> None:
    assert is_registry_ref("baseline") and is_registry_ref("dynamic") and is_registry_ref("12")
    assert not is_registry_ref("v12") and not is_registry_ref("production")


def test_a_folder_is_a_path_even_when_spelled_like_a_designation(
    tfidf_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "baseline").symlink_to(tfidf_bundle)
    resolved = resolve_model("baseline", settings=Settings(home=tmp_path))
    assert resolved.path == Path("baseline") and resolved.version is None
    assert resolved.label == "baseline" and not resolved.offline
    assert resolved.load().family == "tfidf"
    assert not (tmp_path / "mlruns").exists()  # a path never opens the registry


def test_a_designation_goes_to_the_registry(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    from emotion_clf.registry import open_registry

    open_registry(lifecycle_settings).register(weak_result)
    resolved = resolve_model("dynamic", settings=lifecycle_settings)
    assert (resolved.version, resolved.designation, resolved.label) == (
        "1",
        "dynamic",
        "v1 (dynamic)",
    )
    assert lifecycle_settings.cache_dir in resolved.path.parents
    with pytest.raises(ModelNotFoundError, match="no version is designated 'baseline'"):
        resolve_model("baseline", settings=lifecycle_settings)


def test_anything_else_names_what_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="neither a bundle folder nor a registry") as e:
        resolve_model("production", settings=Settings(home=tmp_path))
    assert "baseline, dynamic or a version number" in str(e.value)


def test_a_registry_reference_with_the_registry_down_and_no_cache_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.http_listeners import free_port

    # MLflow reads its retry count once a process; an earlier test may have set it higher
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")

    down = Settings(
        home=tmp_path, tracking_uri=f"http://127.0.0.1:{free_port()}", registry_retries=0
    )
    with pytest.raises(RegistryUnavailableError, match="no cached copy of '3'"):
        resolve_model("3", settings=down)


def test_an_unknown_version_names_the_versions_there_are(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    from emotion_clf.registry import open_registry

    with pytest.raises(ModelNotFoundError, match=r"it holds no version yet"):
        open_registry(lifecycle_settings).resolve("7")
    open_registry(lifecycle_settings).register(weak_result)
    with pytest.raises(
        ModelNotFoundError,
        match=r"version 7 is not in the registry; it holds versions 1 \(dynamic\)",
    ):
        resolve_model("7", settings=lifecycle_settings)

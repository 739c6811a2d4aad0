"""A bundle fetched through the registry's cache is hashed once per load, and a bundle changed
after that check is still refused.

The cache checks a bundle before it hands it out (so a damaged copy is fetched again); the
load that follows takes that check while no file has changed since, instead of hashing every
file a second time (:class:`~emotion_clf.models.bundle.VerifiedBundle`).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from emotion_clf.config import Settings
from emotion_clf.errors import BundleError
from emotion_clf.models import bundle as bundle_module
from emotion_clf.models.bundle import MANIFEST, read_manifest
from emotion_clf.registry import fetch_model, open_registry
from emotion_clf.registry.fetch import cached_model
from emotion_clf.training import TrainResult


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the bundle files hashed from now on."""
    names: list[str] = []
    real = bundle_module.sha256_file

    def counted(path: Path) -> str:
        names.append(path.name)
        return real(path)

    monkeypatch.setattr(bundle_module, "sha256_file", counted)
    return names


def one_pass(folder: Path) -> list[str]:
    """Each file once: the manifest (its sha256 is the registry's digest) and every file it
    lists."""
    return sorted([MANIFEST, *read_manifest(folder).files])


def test_a_fetched_and_loaded_bundle_is_hashed_once(
    lifecycle_settings: Settings, weak_result: TrainResult, hashed: list[str]
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    fetch_model("dynamic", settings=lifecycle_settings, registry=registry)  # downloads it
    for _ in range(2):  # from the cache, as every later `emotion-clf predict`
        hashed.clear()
        resolved = fetch_model("dynamic", settings=lifecycle_settings, registry=registry)
        resolved.load().predict(["Thank you!"])
        assert sorted(hashed) == one_pass(resolved.path)


def test_the_first_download_is_hashed_once_too(
    lifecycle_settings: Settings, weak_result: TrainResult, hashed: list[str]
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    hashed.clear()
    resolved = fetch_model("dynamic", settings=lifecycle_settings, registry=registry)
    resolved.load()
    assert sorted(hashed) == one_pass(resolved.path)


def test_the_last_cached_copy_is_hashed_once(
    lifecycle_settings: Settings, weak_result: TrainResult, hashed: list[str]
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    fetch_model("dynamic", settings=lifecycle_settings, registry=registry)
    hashed.clear()
    offline = cached_model("dynamic", settings=lifecycle_settings)
    assert offline is not None and offline.offline
    offline.load()
    assert sorted(hashed) == one_pass(offline.path)


def test_a_cached_bundle_changed_between_fetch_and_load_is_refused(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    resolved = fetch_model("dynamic", settings=lifecycle_settings, registry=registry)
    target = resolved.path / "vocabulary.json"
    target.write_bytes(target.read_bytes().replace(b'"', b"'", 1))
    with pytest.raises(BundleError, match="checksum mismatch for vocabulary.json"):
        resolved.load()
    # and the next fetch finds the copy damaged, fetches it again, and loads it
    again = fetch_model("dynamic", settings=lifecycle_settings, registry=registry)
    assert again.load().predict(["Thank you!"])


def test_the_check_travels_with_the_resolved_model_to_a_child_process(
    lifecycle_settings: Settings, weak_result: TrainResult, hashed: list[str]
) -> None:
    """A server hands the resolved model to a child process to load (pickled): the check
    goes with it, and still stands there while the files are unchanged."""
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    resolved = fetch_model("dynamic", settings=lifecycle_settings, registry=registry)
    copy = pickle.loads(pickle.dumps(resolved))
    assert copy == resolved and copy.verified is not None
    hashed.clear()
    copy.load()
    assert hashed == []

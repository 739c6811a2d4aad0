from __future__ import annotations

import json
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from emotion_clf.errors import BundleError
from emotion_clf.models import bundle as bundle_module
from emotion_clf.models.bundle import (
    MANIFEST,
    bundle_digest,
    check_bundle,
    load_bundle,
    read_manifest,
    verify_bundle,
)

SENTENCES = ["I love this so much!", "Get out of here.", "What just happened?", "Okay."]


@pytest.fixture
def bundle(tfidf_bundle: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(tfidf_bundle, copy)
    return copy


def edit_manifest(folder: Path, **changes: object) -> None:
    data = json.loads((folder / MANIFEST).read_text())
    data.update(changes)
    (folder / MANIFEST).write_text(json.dumps(data))


def test_manifest_records_what_the_issue_asks_for(tfidf_bundle: Path) -> None:
    manifest = read_manifest(tfidf_bundle)
    assert manifest.family == "tfidf" and manifest.format_version == 1
    assert len(manifest.data_fingerprint) == 64
    assert manifest.created_at
    # the weights, the vocabulary, and the reference profile the drift checks compare against
    assert set(manifest.files) == {"state.safetensors", "vocabulary.json", "reference.json"}
    assert all(len(h) == 64 for h in manifest.files.values())
    assert set(manifest.metrics) == {"validation", "test"}
    assert 0.0 < manifest.metrics["test"]["emotion"]["accuracy"] <= 1.0
    assert manifest.schema.sub_emotions and manifest.schema.parent["curiosity"] == "happiness"


def test_round_trip_gives_identical_predictions(tfidf_bundle: Path, bundle: Path) -> None:
    first = load_bundle(tfidf_bundle).predict_batch(SENTENCES)
    second = load_bundle(bundle).predict_batch(SENTENCES)
    for head in ("emotion", "sub_emotion", "intensity"):
        assert first.labels(head) == second.labels(head)
        assert (getattr(first.probabilities, head) == getattr(second.probabilities, head)).all()


def test_loading_never_unpickles(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pickle was used")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    load_bundle(bundle).predict(SENTENCES)


def test_a_changed_byte_is_refused(bundle: Path) -> None:
    state = bundle / "state.safetensors"
    data = bytearray(state.read_bytes())
    data[-1] ^= 0x01
    state.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="checksum mismatch for state.safetensors"):
        load_bundle(bundle)


def test_missing_and_unexpected_files_are_refused(bundle: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(bundle, other)
    (bundle / "vocabulary.json").unlink()
    with pytest.raises(BundleError, match="missing"):
        verify_bundle(bundle)
    (other / "payload.pkl").write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(BundleError, match="not listed in the manifest"):
        verify_bundle(other)


def test_an_edited_manifest_is_refused_against_the_recorded_digest(bundle: Path) -> None:
    digest = bundle_digest(bundle)
    edit_manifest(bundle, metrics={"test": {"emotion": {"accuracy": 0.99}}})
    verify_bundle(bundle)  # still self-consistent
    with pytest.raises(BundleError, match="digest does not match"):
        load_bundle(bundle, expected_digest=digest)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format_version": 99}, "format version 99 is not supported"),
        ({"family": "xgboost"}, "unknown model family 'xgboost'"),
        ({"files": None}, "malformed field"),
    ],
)
def test_incompatible_manifest_is_refused(
    bundle: Path, changes: dict[str, object], message: str
) -> None:
    edit_manifest(bundle, **changes)
    with pytest.raises(BundleError, match=message):
        load_bundle(bundle)


def test_a_different_label_schema_is_refused(bundle: Path) -> None:
    schema = json.loads((bundle / MANIFEST).read_text())["schema"]
    schema["intensities"] = ["low", "high", "strong"]
    edit_manifest(bundle, schema=schema)
    with pytest.raises(BundleError, match="label schema .* differs"):
        load_bundle(bundle)


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such model bundle"):
        load_bundle(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match="no manifest.json"):
        load_bundle(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / MANIFEST).write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(tmp_path / "bad")


# -- a check that a later load takes ---------------------------------------------------------
@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files hashed from now on."""
    names: list[str] = []
    real = bundle_module.sha256_file

    def counted(path: Path) -> str:
        names.append(path.name)
        return real(path)

    monkeypatch.setattr(bundle_module, "sha256_file", counted)
    return names


def test_a_load_takes_the_check_and_hashes_nothing_again(bundle: Path, hashed: list[str]) -> None:
    digest = bundle_digest(bundle)
    hashed.clear()
    verified = check_bundle(bundle, expected_digest=digest)
    assert sorted(hashed) == sorted([MANIFEST, *read_manifest(bundle).files])  # one pass
    hashed.clear()
    loaded = load_bundle(bundle, expected_digest=digest, verified=verified)
    assert hashed == []
    assert loaded.predict_batch(SENTENCES).labels("emotion") == load_bundle(bundle).predict_batch(
        SENTENCES
    ).labels("emotion")


def _rewrite_same_size(path: Path) -> None:
    """A changed byte, the size and the modification time put back as they were."""
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[-2] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns


def _replace_file(path: Path) -> None:
    """The same bytes in a new file (another inode), as a swap of the file would leave."""
    copy = path.with_name(path.name + ".new")
    shutil.copy2(path, copy)
    data = bytearray(copy.read_bytes())
    data[-2] ^= 0x01
    copy.write_bytes(bytes(data))
    os.replace(copy, path)


def _add_file(path: Path) -> None:
    (path.parent / "payload.pkl").write_bytes(b"\x80\x04K\x01.")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_rewrite_same_size, "checksum mismatch for state.safetensors"),
        (_replace_file, "checksum mismatch for state.safetensors"),
        (_add_file, "not listed in the manifest"),
    ],
)
def test_a_bundle_changed_after_its_check_is_checked_again_and_refused(
    bundle: Path, hashed: list[str], change: Callable[[Path], None], message: str
) -> None:
    digest = bundle_digest(bundle)
    verified = check_bundle(bundle, expected_digest=digest)
    change(bundle / "state.safetensors")
    hashed.clear()
    with pytest.raises(BundleError, match=message):
        load_bundle(bundle, expected_digest=digest, verified=verified)


def test_a_check_stands_only_for_its_folder_and_digest(
    bundle: Path, tmp_path: Path, hashed: list[str]
) -> None:
    digest = bundle_digest(bundle)
    unpinned = check_bundle(bundle)  # against no digest
    other = tmp_path / "other"
    shutil.copytree(bundle, other)
    hashed.clear()
    load_bundle(other, verified=unpinned)  # another folder: checked itself
    assert "state.safetensors" in hashed
    hashed.clear()
    load_bundle(bundle, expected_digest=digest, verified=unpinned)  # a digest it did not compare
    assert "state.safetensors" in hashed
    pinned = check_bundle(bundle, expected_digest=digest)
    with pytest.raises(BundleError, match="digest does not match"):
        load_bundle(bundle, expected_digest="0" * 64, verified=pinned)

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest

from emotion_clf.errors import BundleError
from emotion_clf.models.bundle import (
    MANIFEST,
    bundle_digest,
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

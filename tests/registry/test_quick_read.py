"""The quick read of an embedded store: the same answer as MLflow's, used only when the
cache holds the exact digest, and never a different answer when anything is off."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from emotion_clf.config import Settings
from emotion_clf.registry import ModelCache, open_registry, resolve_model
from emotion_clf.registry.fetch import quick_cached
from emotion_clf.registry.mlflow.quick import REVISION_FILE, known_revision, read_version
from emotion_clf.registry.mlflow.readonly import expected_revision, sqlite_path
from emotion_clf.training import TrainResult


def store_of(settings: Settings) -> Path:
    path = sqlite_path(settings.resolved_tracking_uri)
    assert path is not None
    return path


def test_it_reads_what_mlflow_reads(
    lifecycle_settings: Settings, weak_result: TrainResult, tfidf_bundle: Path
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)  # v1
    registry.register_bundle(tfidf_bundle)  # v2, dynamic
    registry.set_designation("baseline", "1")
    store, name, revision = store_of(lifecycle_settings), "emotion-clf", expected_revision()
    assert lifecycle_settings.registry.model_name == name
    reader = open_registry(lifecycle_settings, read_only=True)
    for ref in ("baseline", "dynamic", "1", "2"):
        assert read_version(store, name, ref, revision=revision) == reader.resolve(ref), ref
    registry.set_designation("baseline", "2")  # a promotion is seen at once
    assert read_version(store, name, "baseline", revision=revision) == reader.resolve("baseline")
    # whenever MLflow should answer instead: None
    assert read_version(store, name, "7", revision=revision) is None
    assert read_version(store, "another-model", "baseline", revision=revision) is None
    assert read_version(store, name, "baseline", revision="0123456789ab") is None
    assert read_version(store.with_name("missing.db"), name, "1", revision=revision) is None
    damaged = store.with_name("damaged.db")
    damaged.write_bytes(b"not a database" * 100)
    assert read_version(damaged, name, "1", revision=revision) is None


def test_a_deleted_version_is_not_read(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    open_registry(lifecycle_settings).register(weak_result)
    store = store_of(lifecycle_settings)
    with sqlite3.connect(store) as db:
        db.execute("UPDATE model_versions SET current_stage = 'Deleted_Internal'")
    assert read_version(store, "emotion-clf", "1", revision=expected_revision()) is None


def test_the_revision_is_recorded_by_a_reader_for_this_mlflow_only(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    cache = lifecycle_settings.home / ".cache"
    open_registry(lifecycle_settings).register(weak_result)
    assert known_revision(cache) is None  # a writer records nothing
    open_registry(lifecycle_settings, read_only=True)
    assert known_revision(cache) == expected_revision()
    record = json.loads((cache / REVISION_FILE).read_text())
    (cache / REVISION_FILE).write_text(json.dumps({**record, "mlflow": "2.0.0"}))
    assert known_revision(cache) is None  # another MLflow: ask it again


def test_it_is_used_only_when_the_cache_holds_that_digest(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    info = open_registry(lifecycle_settings).register(weak_result)
    cache = ModelCache(lifecycle_settings.cache_dir)
    assert quick_cached("dynamic", settings=lifecycle_settings, cache=cache) is None  # no revision
    first = resolve_model("dynamic", settings=lifecycle_settings)  # MLflow: fetch and record
    quick = quick_cached("dynamic", settings=lifecycle_settings, cache=cache)
    assert quick is not None and quick == first and quick.digest == info.digest
    # the cached copy no longer matches the registry's digest: MLflow is asked again
    with sqlite3.connect(store_of(lifecycle_settings)) as db:
        db.execute("UPDATE model_version_tags SET value = 'sha256:0000' WHERE key = 'digest'")
    assert quick_cached("dynamic", settings=lifecycle_settings, cache=cache) is None


def test_a_second_predict_never_imports_mlflow(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    open_registry(lifecycle_settings).register(weak_result)
    script = (
        "import sys\n"
        "from emotion_clf.config import Settings\n"
        "from emotion_clf.registry import resolve_model\n"
        "resolved = resolve_model('dynamic', settings=Settings())\n"
        "print(resolved.version, 'mlflow' in sys.modules)\n"
    )
    env = {**os.environ, "EMOTION_CLF_HOME": str(lifecycle_settings.home)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs == [["1", "True"], ["1", "False"]]

"""The registry against the embedded store and a real MLflow server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emotion_clf.config import Settings
from emotion_clf.errors import (
    BundleError,
    ModelNotFoundError,
    RegistryError,
    RegistryUnavailableError,
)
from emotion_clf.registry import ModelCache, fetch_model, open_registry, resolve_model
from emotion_clf.registry.mlflow.lock import Tickets
from emotion_clf.training import TrainResult
from tests.cli.helpers import run_cli
from tests.http_listeners import free_port


def test_register_list_resolve_and_fetch(
    any_registry_settings: Settings, weak_result: TrainResult
) -> None:
    settings = any_registry_settings
    registry = open_registry(settings)
    assert registry.versions() == []
    first = registry.register(weak_result)
    second = registry.register(weak_result)
    assert (first.version, second.version) == ("1", "2")

    versions = registry.versions()
    assert [v.version for v in versions] == ["2", "1"]
    assert versions[0].designations == ("dynamic",) and versions[1].designations == ()
    record = versions[0].to_dict()
    assert record["family"] == "tfidf" and len(record["digest"]) == 64 and record["created_at"]
    expected = weak_result.metrics["test"]["emotion"]["accuracy"]
    assert record["metrics"]["test.emotion.accuracy"] == pytest.approx(expected, abs=1e-6)

    assert registry.resolve("dynamic").version == "2"
    with pytest.raises(ModelNotFoundError, match="no version is designated 'baseline'"):
        registry.resolve("baseline")
    with pytest.raises(ModelNotFoundError):
        registry.resolve("99")

    resolved = fetch_model("dynamic", settings=settings)
    assert resolved.version == "2" and resolved.designation == "dynamic" and not resolved.offline
    assert settings.cache_dir in resolved.path.parents
    predictions = resolved.load().predict(["Thank you!"])
    assert predictions[0].emotion.label in resolved.load().schema.emotions


def test_training_run_holds_params_metrics_reports_and_the_bundle(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    registry = open_registry(lifecycle_settings)
    info = registry.register(weak_result)
    assert info.run_id is not None
    run = registry.client.get_run(info.run_id)
    assert run.data.params["family"] == "tfidf"
    assert run.data.tags["data_fingerprint"] == weak_result.dataset.fingerprint()
    assert run.data.metrics["test_emotion_macro_f1"] == pytest.approx(
        weak_result.metrics["test"]["emotion"]["macro_f1"]
    )
    artifacts = {a.path for a in registry.client.list_artifacts(info.run_id, "reports")}
    assert {"reports/test_report.json", "reports/test_confusion.png"} <= artifacts
    bundle_files = {
        Path(a.path).name for a in registry.client.list_artifacts(info.run_id, "bundle")
    }
    assert "manifest.json" in bundle_files


def test_cache_is_used_and_a_damaged_copy_is_fetched_again(
    lifecycle_settings: Settings, weak_result: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    first = fetch_model("dynamic", settings=lifecycle_settings, registry=registry)

    def no_download(*args: object) -> Path:
        raise AssertionError("the cached copy should have been used")

    monkeypatch.setattr(registry, "download", no_download)
    assert fetch_model("dynamic", settings=lifecycle_settings, registry=registry).path == first.path

    (first.path / "vocabulary.json").write_text("{}")  # damage the cached copy
    monkeypatch.undo()
    again = fetch_model("dynamic", settings=lifecycle_settings, registry=registry)
    assert again.path == first.path
    again.load()  # verified, intact


def test_a_bundle_altered_in_the_store_is_refused(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    registry = open_registry(lifecycle_settings)
    info = registry.register(weak_result)
    stored = Path(info.source.removeprefix("file://")) / "manifest.json"
    manifest = json.loads(stored.read_text())
    manifest["metrics"] = {"test": {"emotion": {"accuracy": 0.99}}}
    stored.write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="digest does not match"):
        fetch_model("dynamic", settings=lifecycle_settings)
    assert not any(ModelCache(lifecycle_settings.cache_dir).root.glob("v1-*"))


def test_unreachable_registry_falls_back_to_the_last_cached_version(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    registry.set_designation("baseline", "1")
    online = fetch_model("baseline", settings=lifecycle_settings)

    down = lifecycle_settings.updated(tracking_uri=f"http://127.0.0.1:{free_port()}")
    offline = fetch_model("baseline", settings=down)
    assert offline.offline and offline.version == "1" and offline.path == online.path
    offline.load()
    assert fetch_model("1", settings=down).offline
    with pytest.raises(RegistryUnavailableError, match="no cached copy of 'dynamic'"):
        fetch_model("dynamic", settings=down)


def test_registry_cli_list_and_show(lifecycle_settings: Settings, weak_result: TrainResult) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    registry.set_designation("baseline", "1")
    listed = run_cli("registry", "list", "--json", home=lifecycle_settings.home)
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)
    assert entry["version"] == 1 and sorted(entry["designations"]) == ["baseline", "dynamic"]
    assert entry["created_at"] and "test.emotion.accuracy" in entry["metrics"]
    shown = run_cli("registry", "show", "baseline", "--json", home=lifecycle_settings.home)
    assert json.loads(shown.stdout)["manifest"]["family"] == "tfidf"
    table = run_cli("registry", "list", home=lifecycle_settings.home, env={"COLUMNS": "160"})
    assert "baseline" in table.stdout


def test_model_option_accepts_designations_versions_and_paths(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    home = lifecycle_settings.home
    result = run_cli("predict", "Great news!", "--model", "dynamic", "--json", home=home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["emotion"]["label"]
    # the command hands --model to resolve_model; the other spellings, without a process each
    assert resolve_model("1", settings=lifecycle_settings).version == "1"
    assert resolve_model(str(weak_result.bundle), settings=lifecycle_settings).version is None
    missing = run_cli("predict", "Great news!", "--model", "baseline", home=home)
    assert missing.returncode != 0 and "no version is designated 'baseline'" in missing.stderr


def test_a_registry_error_while_taking_the_lock_leaves_no_ticket(
    lifecycle_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ticket is made, then listing the tickets fails (an MLflow server answering 500):
    the contender fails with the registry's error and takes its ticket back, so the next
    promotion is not blocked until the ticket expires."""
    registry = open_registry(lifecycle_settings)
    listed = Tickets.live

    def fails_once(self: Tickets) -> list:  # type: ignore[type-arg]
        monkeypatch.setattr(Tickets, "live", listed)
        raise RegistryError("reading the promotion lock: the registry refused it")

    monkeypatch.setattr(Tickets, "live", fails_once)
    with pytest.raises(RegistryError, match="reading the promotion lock"):
        registry.promotion_lock(ttl_s=600, holder="unlucky").acquire()
    assert Tickets.live is listed  # the failure happened after the ticket was made
    assert registry.lock_state() is None
    with registry.promotion_lock(ttl_s=600, holder="next"):
        assert (registry.lock_state() or pytest.fail("no holder")).holder == "next"

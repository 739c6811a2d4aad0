"""Promote, roll back, history and the refresh fan-out on a real registry."""

from __future__ import annotations

import json

import pytest
from mlflow import MlflowClient

from emotion_clf.config import Settings
from emotion_clf.errors import BundleError, GateHeldError, ModelNotFoundError, PromotionError
from emotion_clf.promotion import compare_models, promote, rollback
from emotion_clf.registry import open_registry
from emotion_clf.training import TrainResult
from tests.cli.helpers import run_cli
from tests.http_listeners import down_url, listeners


def state(settings: Settings) -> tuple[dict[str, str], int]:
    registry = open_registry(settings)
    return registry.designations(), len(registry.audit.entries())


def test_first_model_then_a_better_one_then_rollback(
    any_registry_settings: Settings, weak_result: TrainResult, strong_result: TrainResult
) -> None:
    settings = any_registry_settings
    registry = open_registry(settings)
    registry.register(weak_result)

    first = promote(settings=settings)
    assert first.changed and (first.from_version, first.to_version) == (None, "1")
    assert (
        first.decision is not None and first.decision.promote and first.decision.comparison is None
    )

    registry.register(strong_result)
    report = compare_models(settings=settings)
    assert report.decision.promote, report.decision.reasons
    assert (
        report.candidate.version == "2"
        and report.baseline is not None
        and report.baseline.version == "1"
    )
    assert report.decision.comparison is not None
    assert report.decision.comparison["emotion"].deltas["macro_f1"] > 0
    assert report.disagreements(limit=5)

    second = promote(settings=settings)
    assert (second.from_version, second.to_version) == ("1", "2")
    assert registry.designations() == {"baseline": "2", "dynamic": "2"}

    back = rollback(settings=settings)
    assert (back.from_version, back.to_version) == ("2", "1")
    assert registry.designations()["baseline"] == "1"

    history = registry.audit.entries()
    assert [(e.action, e.from_version, e.to_version, e.status) for e in history] == [
        ("rollback", "2", "1", "applied"),
        ("promote", "1", "2", "applied"),
        ("promote", None, "1", "applied"),
    ]
    assert history[1].reason == "gate passed" and not history[1].forced
    assert "promote" in history[1].gate and history[0].actor


def test_a_held_gate_changes_nothing_and_says_why(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    promote(settings=lifecycle_settings)
    registry.register(weak_result)  # the same model again: no gain
    before = state(lifecycle_settings)
    with pytest.raises(GateHeldError, match="held v2 back") as info:
        promote(settings=lifecycle_settings)
    assert any("significant gain" in reason for reason in info.value.reasons)
    assert state(lifecycle_settings) == before

    held = run_cli("promote", home=lifecycle_settings.home)
    assert (
        held.returncode != 0
        and "significant gain" in held.stderr
        and "Traceback" not in held.stderr
    )
    assert state(lifecycle_settings) == before


def test_forced_promotion_needs_a_reason_and_is_audited(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    promote(settings=lifecycle_settings)
    registry.register(weak_result)
    with pytest.raises(PromotionError, match="needs --reason"):
        promote(settings=lifecycle_settings, force=True)
    forced = promote(settings=lifecycle_settings, force=True, reason="hotfix for customer X")
    assert forced.forced and forced.decision is None
    entry = registry.audit.entries()[0]
    assert entry.forced and entry.reason == "hotfix for customer X" and entry.to_version == "2"


def test_unknown_version_or_foreign_schema_fails_before_anything_changes(
    lifecycle_settings: Settings, weak_result: TrainResult, tmp_path: object
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    promote(settings=lifecycle_settings)
    before = state(lifecycle_settings)
    with pytest.raises(ModelNotFoundError):
        promote(settings=lifecycle_settings, version="42", force=True, reason="x")
    assert state(lifecycle_settings) == before

    # a bundle whose label schema differs, registered behind emotion-clf's back
    import shutil
    from pathlib import Path

    from emotion_clf.models.bundle import bundle_digest

    foreign = Path(str(tmp_path)) / "foreign"
    shutil.copytree(weak_result.bundle, foreign)
    manifest = json.loads((foreign / "manifest.json").read_text())
    manifest["schema"]["intensities"] = ["low", "medium", "high"]
    (foreign / "manifest.json").write_text(json.dumps(manifest))
    client: MlflowClient = registry.client
    run = client.create_run(registry.experiment_id())
    client.log_artifacts(run.info.run_id, str(foreign), "bundle")
    client.create_model_version(
        registry.model_name,
        source=f"{run.info.artifact_uri}/bundle",
        run_id=run.info.run_id,
        tags={"digest": bundle_digest(foreign)},
    )
    with pytest.raises(BundleError, match="label schema"):
        promote(settings=lifecycle_settings, version="2", force=True, reason="x")
    assert state(lifecycle_settings) == before


def test_rollback_needs_a_previous_baseline(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    with pytest.raises(PromotionError, match="no baseline"):
        rollback(settings=lifecycle_settings)
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    promote(settings=lifecycle_settings)
    with pytest.raises(PromotionError, match="no baseline before v1"):
        rollback(settings=lifecycle_settings)
    registry.register(weak_result)
    promote(settings=lifecycle_settings, force=True, reason="x")
    assert rollback(settings=lifecycle_settings, to="1").to_version == "1"


def test_promotion_fans_out_to_every_endpoint_and_reports_each(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    with listeners((200, None), (500, None)) as (ok, failing):
        down = down_url()
        env = {
            "EMOTION_CLF_REFRESH_ENDPOINTS": f"{ok.url},{failing.url},{down}",
            "EMOTION_CLF_REFRESH_TOKEN": "a-real-secret",
            "EMOTION_CLF_REFRESH_RETRIES": "1",
            "EMOTION_CLF_REFRESH_TIMEOUT_S": "2",
        }
        result = run_cli("promote", home=lifecycle_settings.home, env=env)
        assert result.returncode == 3, result.stderr
        assert ok.requests == [{"path": "/refresh-model", "authorization": "Bearer a-real-secret"}]
        assert len(failing.requests) == 2
        assert f"ok {ok.url}" in result.stderr
        assert f"{failing.url}: not refreshed after 2 attempt(s): HTTP 500" in result.stderr
        assert f"{down}: not refreshed" in result.stderr and "could not connect" in result.stderr
        assert "Traceback" not in result.stderr
        assert registry.designations()["baseline"] == "1"  # the registry flip stands

        retry = run_cli("refresh", "--json", home=lifecycle_settings.home, env=env)
        assert retry.returncode == 3
        assert [r["ok"] for r in json.loads(retry.stdout)] == [True, False, False]
        only_ok = run_cli(
            "refresh",
            home=lifecycle_settings.home,
            env={**env, "EMOTION_CLF_REFRESH_ENDPOINTS": ok.url},
        )
        assert only_ok.returncode == 0 and len(ok.requests) == 3

    history = run_cli("registry", "history", "--json", home=lifecycle_settings.home)
    [entry] = json.loads(history.stdout)
    assert (entry["action"], entry["to_version"], entry["status"]) == ("promote", "1", "applied")

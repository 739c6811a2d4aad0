"""A registered version against a real MLflow store (issue 27): a short model card as its
description, at most four headline metric tags with every metric still readable, and a
comparison logged as a run linked to the versions it judged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emotion_clf.config import Settings
from emotion_clf.models.bundle import read_manifest
from emotion_clf.promotion import compare_models
from emotion_clf.registry import open_registry, record_judgement, resolve_model
from emotion_clf.registry.base import METRIC_PREFIX, METRICS_TAG, VersionInfo
from emotion_clf.registry.mlflow.judgements import JUDGEMENTS_SUFFIX
from emotion_clf.training import TrainResult


def test_a_version_has_a_model_card_and_four_headline_tags(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    registry = open_registry(lifecycle_settings)
    info = registry.register(weak_result)
    mv = registry.client.get_model_version(registry.model_name, info.version)
    card = mv.description
    test = weak_result.metrics["test"]
    assert card.startswith("**tfidf** emotion classifier")
    assert f"fingerprint `{weak_result.dataset.fingerprint()[:16]}`" in card
    rows = read_manifest(weak_result.bundle).extra["train_rows"]  # less the reference slice
    assert f"{rows:,} training rows" in card
    assert f"emotion accuracy {test['emotion']['accuracy']:.3f}" in card
    assert f"sub-emotion accuracy {test['sub_emotion']['accuracy']:.3f}" in card
    assert (
        f"training report: {registry.client.get_run(info.run_id).info.artifact_uri}/reports" in card
    )
    headline = sorted(k for k in mv.tags if k.startswith(METRIC_PREFIX))
    assert headline == [
        "metric.test.emotion.accuracy",
        "metric.test.emotion.macro_f1",
        "metric.test.intensity.macro_f1",
        "metric.test.sub_emotion.macro_f1",
    ]
    # every metric still reads, from one JSON tag: 2 splits x 3 heads x 3 metrics
    assert len(json.loads(mv.tags[METRICS_TAG])) == 18
    again = registry.version(info.version)
    assert len(again.metrics) == 18
    assert again.metrics["validation.intensity.weighted_f1"] == pytest.approx(
        weak_result.metrics["validation"]["intensity"]["weighted_f1"], abs=1e-6
    )


def test_metrics_of_a_version_registered_with_one_tag_each_still_read() -> None:
    old = VersionInfo("1", (), "", "", None, tags={"metric.test.emotion.accuracy": "0.5"})
    assert old.metrics == {"test.emotion.accuracy": 0.5}
    both = VersionInfo(
        "2", (), "", "", None,
        tags={METRICS_TAG: '{"test.emotion.accuracy": 0.25, "test.intensity.accuracy": 0.75}',
              "metric.test.emotion.accuracy": "0.250000"},
    )  # fmt: skip
    assert both.metrics == {"test.emotion.accuracy": 0.25, "test.intensity.accuracy": 0.75}


def test_a_comparison_is_a_run_linked_to_both_versions(
    lifecycle_settings: Settings,
    weak_result: TrainResult,
    other_result: TrainResult,
    small_data: Path,
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    registry.set_designation("baseline", "1")
    registry.register(other_result)  # v2, dynamic
    report = compare_models(settings=lifecycle_settings, data=small_data)
    assert report.registry_run is not None
    run = registry.client.get_run(report.registry_run)
    assert run.data.tags["kind"] == "compare"
    assert run.data.tags["model_name"] == registry.model_name
    assert (run.data.tags["candidate_version"], run.data.tags["baseline_version"]) == ("2", "1")
    assert run.data.params["decision"] == report.decision.decision
    assert run.data.metrics["candidate_emotion_macro_f1"] == pytest.approx(
        report.candidate_eval["emotion"].macro_f1
    )
    experiment = registry.client.get_experiment(run.info.experiment_id)
    assert experiment.name == registry.experiment_name + JUDGEMENTS_SUFFIX
    found = registry.client.search_runs([run.info.experiment_id], "tags.candidate_version = '2'")
    assert [r.info.run_id for r in found] == [report.registry_run]


def test_bundle_folders_have_no_version_to_link_and_log_nothing(
    lifecycle_settings: Settings, tfidf_bundle: Path
) -> None:
    model = resolve_model(str(tfidf_bundle), settings=lifecycle_settings)
    assert (
        record_judgement("drift", {"model": model}, settings=lifecycle_settings, metrics={}) is None
    )


def test_the_published_report_is_named_in_the_model_card_once(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    registry = open_registry(lifecycle_settings)
    info = registry.register(weak_result)
    assert registry.link_report(info.version, "/srv/reports/20261207T000000Z-01-train.html")
    assert registry.link_report(info.version, "/srv/reports/20261207T010000Z-01-train.html")
    card = registry.client.get_model_version(registry.model_name, info.version).description
    assert card.count("- published report: ") == 1
    assert card.endswith("- published report: /srv/reports/20261207T010000Z-01-train.html")
    assert card.startswith("**tfidf** emotion classifier")  # the rest of the card kept

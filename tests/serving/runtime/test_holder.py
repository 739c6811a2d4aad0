from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emotion_clf.data.schema import SCHEMA
from emotion_clf.errors import BundleError
from emotion_clf.models.base import HeadProbabilities
from emotion_clf.models.bundle import load_bundle
from emotion_clf.promotion import promote
from emotion_clf.registry import RegistrySource, open_registry
from emotion_clf.serving.runtime.errors import RefreshError
from emotion_clf.serving.runtime.holder import ModelHolder
from emotion_clf.serving.runtime.loading import check_schema, smoke_check
from emotion_clf.serving.runtime.metrics import ServingMetrics
from tests.serving.helpers import corrupt, make_settings, register_bundle


def sample(metrics: ServingMetrics, trigger: str, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "emotion_clf_model_refreshes_total", {"trigger": trigger, "outcome": outcome}
    )
    return value or 0.0


def test_concurrent_refreshes_coalesce(home: Path) -> None:
    metrics = ServingMetrics()

    async def scenario() -> list[Any]:
        settings = make_settings(home)
        holder = ModelHolder(
            settings=settings.serving, metrics=metrics, source=RegistrySource(settings)
        )
        await holder.start()
        assert holder.served_version == "1"
        promote(settings=make_settings(home), version="2", force=True, reason="t", refresh=False)
        try:
            return await asyncio.gather(*(holder.refresh(trigger="api") for _ in range(8)))
        finally:
            await holder.close()

    outcomes = asyncio.run(scenario())
    assert {o.current_version for o in outcomes} == {"2"}
    assert sum(o.swapped for o in outcomes) == 1  # one load swapped v2 in
    # the first call loads; the seven that arrived meanwhile share one more load
    assert sum(o.coalesced for o in outcomes) == 6
    assert sample(metrics, "api", "swapped") == 1
    assert sample(metrics, "api", "unchanged") == 1
    assert sample(metrics, "api", "coalesced") == 6


def test_a_failed_version_is_not_reloaded_on_every_poll(home: Path, tfidf_bundle: Path) -> None:
    settings = make_settings(home, poll_s=30)
    registry = open_registry(settings)
    bad = register_bundle(registry, tfidf_bundle)
    corrupt(bad)
    metrics = ServingMetrics()

    async def scenario() -> None:
        holder = ModelHolder(
            settings=settings.serving, metrics=metrics, source=RegistrySource(settings)
        )
        await holder.start()
        try:
            registry.set_designation("baseline", bad.version)
            assert await holder.check(trigger="poll") is None  # failed, logged
            assert await holder.check(trigger="poll") is None  # backing off: not tried
            assert holder.served_version == "1"
            with pytest.raises(RefreshError, match="checksum mismatch"):
                await holder.refresh(trigger="api")  # an explicit call always tries
        finally:
            await holder.close()

    asyncio.run(scenario())
    assert sample(metrics, "poll", "failed") == 1
    assert sample(metrics, "api", "failed") == 1


def test_smoke_check_refuses_non_finite_or_misshapen_outputs(tfidf_bundle: Path) -> None:
    predictor = load_bundle(tfidf_bundle)
    smoke_check(predictor)
    good = predictor.predict_proba

    def nan_proba(texts: Any) -> HeadProbabilities:
        raw = good(texts)
        return replace(raw, intensity=np.full_like(raw.intensity, np.nan))

    predictor.predict_proba = nan_proba  # type: ignore[method-assign]
    with pytest.raises(BundleError, match="raw intensity probabilities are not finite"):
        smoke_check(predictor)

    def short_proba(texts: Any) -> HeadProbabilities:
        raw = good(texts)
        return HeadProbabilities(raw.emotion[:1], raw.sub_emotion[:1], raw.intensity[:1])

    predictor.predict_proba = short_proba  # type: ignore[method-assign]
    with pytest.raises(BundleError, match="returned 1 rows for 5 texts"):
        smoke_check(predictor)


def test_a_different_label_schema_is_refused(tfidf_bundle: Path) -> None:
    predictor = load_bundle(tfidf_bundle)
    check_schema(predictor, expected=SCHEMA)
    other = replace(SCHEMA, intensities=("low", "medium", "high"))
    with pytest.raises(BundleError, match="label schema .* differs from the served one"):
        check_schema(predictor, expected=other)

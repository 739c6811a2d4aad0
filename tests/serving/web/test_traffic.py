"""Live traffic from the metrics: rates and percentiles over a window of snapshots."""

from __future__ import annotations

import pytest

from emotion_clf.serving.http.web.traffic import TrafficWindow, quantile
from emotion_clf.serving.runtime.metrics import ServingMetrics


def exposition(metrics: ServingMetrics) -> str:
    return metrics.exposition()[0].decode()


def test_quantiles_interpolate_inside_the_bucket_as_prometheus_does() -> None:
    buckets = ((0.01, 10.0), (0.1, 90.0), (1.0, 100.0), (float("inf"), 100.0))
    assert quantile(0.5, buckets) == pytest.approx(0.01 + 0.09 * (50 - 10) / 80)
    assert quantile(0.99, buckets) == pytest.approx(0.1 + 0.9 * (99 - 90) / 10)
    assert quantile(0.05, buckets) == pytest.approx(0.005)
    assert quantile(0.5, ((0.1, 0.0), (float("inf"), 0.0))) is None
    # beyond the last finite bound the histogram knows no more than that bound
    assert quantile(0.99, ((0.1, 1.0), (float("inf"), 10.0))) == 0.1


def test_the_window_counts_the_api_and_leaves_out_the_apps_own_requests() -> None:
    metrics = ServingMetrics()
    window = TrafficWindow(window_s=60)
    first = window.observe(exposition(metrics), at=100.0)
    assert first["requests_per_s"] is None and first["total_requests"] == 0
    for _ in range(40):
        metrics.observe_request("POST", "/predict", 200, 0.004)
    for _ in range(10):
        metrics.observe_request("POST", "/predict/batch", 200, 0.2)
    metrics.observe_request("POST", "/predict", 500, 0.004)
    metrics.observe_request("POST", "/predict", 422, 0.001)
    for _ in range(500):  # the page's own polls: not the API's traffic
        metrics.observe_request("GET", "/production/state", 200, 3.0)
    seen = window.observe(exposition(metrics), at=110.0)
    assert seen["window_s"] == 10.0
    assert seen["requests_per_s"] == pytest.approx(52 / 10)
    assert seen["errors"] == 1 and seen["refused"] == 1 and seen["total_requests"] == 52
    assert seen["p50_ms"] is not None and 2.5 < seen["p50_ms"] <= 5.0
    assert seen["p99_ms"] is not None and 100 < seen["p99_ms"] <= 250


def test_old_snapshots_leave_the_window() -> None:
    metrics = ServingMetrics()
    window = TrafficWindow(window_s=30)
    window.observe(exposition(metrics), at=0.0)
    for _ in range(30):
        metrics.observe_request("POST", "/predict", 200, 0.01)
    window.observe(exposition(metrics), at=20.0)
    quiet = window.observe(exposition(metrics), at=45.0)  # the snapshot at 0 s is gone
    assert quiet["window_s"] == 25.0 and quiet["requests_per_s"] == 0.0
    assert quiet["p50_ms"] is None and quiet["total_requests"] == 30

"""Prometheus metrics, one registry per app (tests build many apps in one process).

With several uvicorn workers each process has its own registry, so a scrape sees the worker
that answered it (see the README's Serving section).
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from emotion_clf.data.schema import HEADS
from emotion_clf.models.base import Prediction

LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "emotion_clf_http_requests",
            "HTTP requests by method, route and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "emotion_clf_http_request_duration_seconds",
            "HTTP request latency by method, route and status",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.predictions = Counter(
            "emotion_clf_predictions",
            "Predicted labels by head",
            ["head", "label"],
            registry=r,
        )
        self.batch_size = Histogram(
            "emotion_clf_model_batch_size",
            "Texts per call to the model (micro-batching)",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.model_version = Gauge(
            "emotion_clf_model_version",
            "Registry version of the model being served (0: none loaded)",
            registry=r,
        )
        self.model_info = Gauge(
            "emotion_clf_model_info",
            "The model being served (value 1)",
            ["version", "family", "digest", "offline"],
            registry=r,
        )
        self.refreshes = Counter(
            "emotion_clf_model_refreshes",
            "Refresh attempts by trigger and outcome (swapped, unchanged, failed)",
            ["trigger", "outcome"],
            registry=r,
        )
        self.refresh_duration = Histogram(
            "emotion_clf_model_refresh_duration_seconds",
            "Time to resolve, fetch, verify, load and warm up a model",
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
            registry=r,
        )
        self.prediction_log_dropped = Counter(
            "emotion_clf_prediction_log_dropped",
            "Prediction log lines dropped because the log queue was full",
            registry=r,
        )
        self.prediction_log_written = Counter(
            "emotion_clf_prediction_log_written",
            "Prediction log lines written",
            registry=r,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        code = str(status)
        self.requests.labels(method, route, code).inc()
        self.latency.labels(method, route, code).observe(seconds)

    def count_predictions(self, predictions: Sequence[Prediction]) -> None:
        counts: dict[tuple[str, str], int] = {}
        for prediction in predictions:
            for head in HEADS:
                key = (head, getattr(prediction, head).label)
                counts[key] = counts.get(key, 0) + 1
        for (head, label), n in counts.items():
            self.predictions.labels(head, label).inc(n)

    def set_model(self, *, version: str | None, family: str, digest: str, offline: bool) -> None:
        self.model_info.clear()
        self.model_info.labels(version or "none", family, digest[:16], str(offline).lower()).set(1)
        self.model_version.set(int(version) if version and version.isdigit() else 0)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

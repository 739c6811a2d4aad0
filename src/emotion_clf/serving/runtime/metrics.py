"""Prometheus metrics, one registry per app (tests build many apps in one process).

With several workers (``serve --workers N``) the metrics are prometheus_client's
multiprocess kind: every worker writes its values to files in the server's run folder
(``PROMETHEUS_MULTIPROC_DIR``, which ``serve`` sets before the workers start) and a scrape,
whichever worker answers it, reads them all: counters and histograms summed over the
workers, the model gauges one series per worker (``pid`` label), so a scrape shows which
version each worker serves.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.multiprocess import MultiProcessCollector

from emotion_clf.data.schema import HEADS
from emotion_clf.errors import ConfigError
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


METRICS_DIR = "metrics"  # under the server's run folder


class ServingMetrics:
    def __init__(self, *, multiprocess_dir: Path | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        if multiprocess_dir is not None and not _multiprocess_values(multiprocess_dir):
            raise ConfigError(
                "metrics of several workers need PROMETHEUS_MULTIPROC_DIR set to "
                f"{multiprocess_dir} before the workers start (emotion-clf serve does it)"
            )
        self.registry = CollectorRegistry()
        r = self.registry
        per_worker: Final = "liveall"  # gauges: one series per live worker
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
        self.batch_duration = Histogram(
            "emotion_clf_model_batch_duration_seconds",
            "Time one micro-batch spent in the model (a batch run on the prediction thread "
            "includes the hand-off to it and back); with the request latency, it splits a "
            "request's time into the model's and the rest",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.model_version = Gauge(
            "emotion_clf_model_version",
            "Registry version of the model being served (0: none loaded)",
            registry=r,
            multiprocess_mode=per_worker,
        )
        self.model_info = Gauge(
            "emotion_clf_model_info",
            "The model being served (value 1; 0 for one served before)",
            ["version", "family", "digest", "offline"],
            registry=r,
            multiprocess_mode=per_worker,
        )
        self._info_labels: tuple[str, ...] | None = None
        # labelled children, looked up once (route and status values are bounded)
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._prediction_children: dict[tuple[str, str], Counter] = {}
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
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:  # ``labels()`` takes a lock and builds a key on every call
            code = str(status)
            children = self._request_children[key] = (
                self.requests.labels(method, route, code),
                self.latency.labels(method, route, code),
            )
        children[0].inc()
        children[1].observe(seconds)

    def count_predictions(self, predictions: Sequence[Prediction]) -> None:
        counts: dict[tuple[str, str], int] = {}
        for prediction in predictions:
            for head in HEADS:
                key = (head, getattr(prediction, head).label)
                counts[key] = counts.get(key, 0) + 1
        for key, n in counts.items():
            child = self._prediction_children.get(key)
            if child is None:
                child = self._prediction_children[key] = self.predictions.labels(*key)
            child.inc(n)

    def set_model(self, *, version: str | None, family: str, digest: str, offline: bool) -> None:
        labels = (version or "none", family, digest[:16], str(offline).lower())
        if self._info_labels is not None and self._info_labels != labels:
            if self.multiprocess_dir is not None:
                self.model_info.labels(*self._info_labels).set(0)  # files keep every series
            else:
                self.model_info.remove(*self._info_labels)
        self._info_labels = labels
        self.model_info.labels(*labels).set(1)
        self.model_version.set(int(version) if version and version.isdigit() else 0)

    def exposition(self) -> tuple[bytes, str]:
        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=str(self.multiprocess_dir))
        return generate_latest(merged), CONTENT_TYPE_LATEST

    def close(self) -> None:
        """A worker that stops takes its per-worker gauges out of the scrape."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), str(self.multiprocess_dir))


def _multiprocess_values(folder: Path) -> bool:
    """Whether prometheus_client writes this process's values to ``folder``'s files: it
    decides when it is imported, from ``PROMETHEUS_MULTIPROC_DIR``."""
    from prometheus_client import values

    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return (
        configured is not None
        and Path(configured).resolve() == folder.resolve()
        and values.ValueClass is not values.MutexValue
    )

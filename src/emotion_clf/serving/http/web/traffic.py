"""Live traffic for the production page, from the server's own Prometheus metrics.

The metrics are read from their exposition (:meth:`ServingMetrics.exposition`), which with
several workers already sums every worker's counters and histograms: whichever worker answers
the page's poll reports the whole server. Rates and percentiles are over a sliding window of
snapshots (the counters' differences), so they describe the last minute, not the process's
life. The app's own page loads and polls are left out: they are not the API's traffic.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

REQUESTS = "emotion_clf_http_requests"
LATENCY = "emotion_clf_http_request_duration_seconds"
# the web app's routes and the scrape route: not what the API is being asked
OWN_ROUTES = frozenset(
    {"/", "/production", "/production/state", "/app/config.json", "/app/{name}", "/metrics"}
)


@dataclass(frozen=True)
class Snapshot:
    at: float
    requests: float = 0.0
    errors: float = 0.0  # 5xx answers
    refused: float = 0.0  # 4xx answers
    buckets: tuple[tuple[float, float], ...] = ()  # (upper bound, cumulative count), sorted


def snapshot(exposition: str, *, at: float) -> Snapshot:
    """The API's totals in one exposition (the app's own routes left out)."""
    requests = errors = refused = 0.0
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(exposition):
        if family.name not in (REQUESTS, LATENCY):
            continue
        for sample in family.samples:
            if sample.labels.get("route") in OWN_ROUTES:
                continue
            if sample.name == REQUESTS + "_total":
                requests += sample.value
                status = sample.labels.get("status", "")
                errors += sample.value if status.startswith("5") else 0.0
                refused += sample.value if status.startswith("4") else 0.0
            elif sample.name == LATENCY + "_bucket":
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return Snapshot(at, requests, errors, refused, tuple(sorted(buckets.items())))


def quantile(q: float, buckets: tuple[tuple[float, float], ...]) -> float | None:
    """The ``q`` quantile of a cumulative histogram, interpolated inside its bucket as
    Prometheus's ``histogram_quantile`` does; None with no observation. A quantile in the
    ``+Inf`` bucket is the largest finite bound (the histogram knows no more)."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


def difference(new: Snapshot, old: Snapshot) -> Snapshot:
    """What happened between two snapshots (a counter that went back, a restart, counts
    from zero)."""
    if new.requests < old.requests:
        return new
    old_buckets = dict(old.buckets)
    return Snapshot(
        new.at - old.at,
        new.requests - old.requests,
        new.errors - old.errors,
        new.refused - old.refused,
        tuple((b, c - old_buckets.get(b, 0.0)) for b, c in new.buckets),
    )


@dataclass
class TrafficWindow:
    """Snapshots of the last ``window_s`` seconds, and the traffic between the oldest and now."""

    window_s: float = 60.0
    snapshots: deque[Snapshot] = field(default_factory=deque)

    def observe(self, exposition: str, *, at: float | None = None) -> dict[str, Any]:
        now = snapshot(exposition, at=time.monotonic() if at is None else at)
        while self.snapshots and now.at - self.snapshots[0].at > self.window_s:
            self.snapshots.popleft()
        oldest = self.snapshots[0] if self.snapshots else None
        self.snapshots.append(now)
        out: dict[str, Any] = {
            "total_requests": int(now.requests),
            "total_errors": int(now.errors),
            "window_s": None,
            "requests_per_s": None,
            "errors": None,
            "refused": None,
            "p50_ms": None,
            "p99_ms": None,
        }
        if oldest is None or now.at <= oldest.at:
            return out
        seen = difference(now, oldest)
        span = now.at - oldest.at
        p50, p99 = quantile(0.5, seen.buckets), quantile(0.99, seen.buckets)
        out.update(
            window_s=round(span, 1),
            requests_per_s=round(seen.requests / span, 3),
            errors=int(seen.errors),
            refused=int(seen.refused),
            p50_ms=None if p50 is None else round(p50 * 1000, 2),
            p99_ms=None if p99 is None else round(p99 * 1000, 2),
        )
        return out

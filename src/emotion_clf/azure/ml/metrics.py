"""What production saw during a traffic step: Azure Monitor's figures per deployment.

Each step of a rollout runs for its hold (``EMOTION_CLF_AZUREML_TRAFFIC_HOLD_S``) before it is
judged. The smoke test says whether the new colour answers; these figures say how it served
the real requests the step sent it, next to the old colour over the same minutes:
requests, the share answered 5xx, and the p99 latency (Azure ML's online endpoint metrics
``RequestsPerMinute`` split by ``statusCodeClass`` and ``RequestLatency_P99``, both with a
``deployment`` dimension). :func:`judge` decides, pure; :class:`EndpointMetrics` reads the
figures (``azure-monitor-querymetrics``' ``MetricsClient``), tested with recorded answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from emotion_clf.azure.sdk import credential, require

NAMESPACE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
REQUESTS, LATENCY_P99 = "RequestsPerMinute", "RequestLatency_P99"


@dataclass(frozen=True)
class Figures:
    """One deployment over one window."""

    requests: float
    errors: float  # answered 5xx
    p99_ms: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def describe(self) -> str:
        p99 = f"p99 {self.p99_ms:.0f} ms" if self.p99_ms is not None else "p99 -"
        return f"{self.requests:,.0f} requests, {self.error_rate:.1%} 5xx, {p99}"

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "errors_5xx": self.errors, "p99_ms": self.p99_ms}


@dataclass(frozen=True)
class MetricPolicy:
    """When a step's figures fail it (the thresholds are settings)."""

    min_requests: int = 20  # fewer: too little traffic to judge, the step passes on its check
    max_error_rate: float = 0.01  # the new colour's 5xx share ...
    max_error_rate_gain: float = 0.005  # ... and how far above the old colour's it may be
    max_p99_ratio: float = 1.5  # the new colour's p99 against the old one's


def judge(new: Figures, old: Figures | None, policy: MetricPolicy) -> tuple[bool, str]:
    """Whether the new colour served its share of production as well as the old one."""
    seen = f"new: {new.describe()}" + (f"; old: {old.describe()}" if old is not None else "")
    if new.requests < policy.min_requests:
        return True, f"{seen} (under {policy.min_requests} requests: not judged)"
    failures = []
    if new.error_rate > policy.max_error_rate:
        failures.append(f"5xx {new.error_rate:.1%} > {policy.max_error_rate:.1%}")
    if old is not None and new.error_rate > old.error_rate + policy.max_error_rate_gain:
        failures.append(f"5xx {new.error_rate:.1%} against the old colour's {old.error_rate:.1%}")
    if (
        old is not None
        and new.p99_ms is not None
        and old.p99_ms
        and new.p99_ms > old.p99_ms * policy.max_p99_ratio
    ):
        failures.append(
            f"p99 {new.p99_ms:.0f} ms > {policy.max_p99_ratio:g} x the old colour's "
            f"{old.p99_ms:.0f} ms"
        )
    return (not failures), seen + ("; " + "; ".join(failures) if failures else "")


def figures_from(results: list[Any], deployment: str) -> Figures:
    """Sum a query's answer (``MetricsQueryResult`` objects) into one deployment's figures."""
    requests = errors = 0.0
    latencies: list[float] = []
    for result in results:
        for metric in result.metrics:
            for series in metric.timeseries:
                meta = {k.lower(): str(v) for k, v in (series.metadata_values or {}).items()}
                if meta.get("deployment", deployment).lower() != deployment.lower():
                    continue
                for point in series.data:
                    if metric.name == REQUESTS and point.total is not None:
                        requests += point.total
                        if meta.get("statuscodeclass", "").lower() == "5xx":
                            errors += point.total
                    elif metric.name == LATENCY_P99 and point.average is not None:
                        latencies.append(point.average)
    return Figures(requests, errors, max(latencies) if latencies else None)


class EndpointMetrics:
    """Azure Monitor's figures for one endpoint's deployments."""

    def __init__(self, endpoint_id: str, location: str, client: Any | None = None) -> None:
        self.endpoint_id = endpoint_id
        if client is None:
            querymetrics = require("azure.monitor.querymetrics")
            client = querymetrics.MetricsClient(
                f"https://{location}.metrics.monitor.azure.com", credential()
            )
        self.client = client

    def figures(self, deployment: str, start: datetime, end: datetime) -> Figures:
        found = []
        for names, aggregation, split in (
            ([REQUESTS], "Total", " and statusCodeClass eq '*'"),
            ([LATENCY_P99], "Average", ""),
        ):
            found += self.client.query_resources(
                resource_ids=[self.endpoint_id],
                metric_namespace=NAMESPACE,
                metric_names=names,
                timespan=(start, end),
                granularity=timedelta(minutes=1),
                aggregations=[aggregation],
                filter=f"deployment eq '{deployment}'{split}",
            )
        return figures_from(found, deployment)


Clock = Callable[[], datetime]


def production_check(
    metrics: EndpointMetrics,
    *,
    old: str | None,
    share: Callable[[str], int],
    window_s: float,
    policy: MetricPolicy,
    clock: Clock,
) -> Callable[[str], tuple[bool, str]]:
    """A check of the new colour by its figures over the last ``window_s`` seconds, against
    the old colour's; a colour with no live share (the smoke test) is not judged."""

    def check(colour: str) -> tuple[bool, str]:
        if share(colour) == 0:
            return True, "no live share yet"
        end = clock()
        start = end - timedelta(seconds=window_s)
        new = metrics.figures(colour, start, end)
        before = metrics.figures(old, start, end) if old is not None else None
        return judge(new, before, policy)

    return check

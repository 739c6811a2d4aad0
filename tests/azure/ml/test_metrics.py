"""Traffic steps judged by what production saw: Azure Monitor's per-deployment figures, from
answers in the REST shape Azure returns (``metrics:getBatch``), read through
azure-monitor-querymetrics' own result types."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from emotion_clf.azure.ml.endpoint import deploy
from emotion_clf.azure.ml.metrics import (
    LATENCY_P99,
    NAMESPACE,
    REQUESTS,
    EndpointMetrics,
    Figures,
    MetricPolicy,
    judge,
)
from emotion_clf.azure.rollout import Pacing
from emotion_clf.config import Settings
from tests.azure.ml.test_endpoint_faults import serving_v2_on_blue

querymetrics = pytest.importorskip("azure.monitor.querymetrics")

ENDPOINT_ID = (
    "/subscriptions/0/resourceGroups/rg/providers/Microsoft.MachineLearningServices/"
    "workspaces/ws/onlineEndpoints/e"
)


def recorded(
    metric: str, series: list[tuple[dict[str, str], list[float]]], field: str
) -> dict[str, Any]:
    """One resource's answer as Azure sends it: each time series with its dimension values
    and one point a minute."""
    return {
        "starttime": "2026-12-07T10:00:00Z",
        "endtime": "2026-12-07T10:05:00Z",
        "interval": "PT1M",
        "namespace": NAMESPACE,
        "resourceregion": "westeurope",
        "resourceid": ENDPOINT_ID,
        "value": [
            {
                "id": f"{ENDPOINT_ID}/providers/Microsoft.Insights/metrics/{metric}",
                "type": "Microsoft.Insights/metrics",
                "name": {"value": metric, "localizedValue": metric},
                "unit": "Count" if metric == REQUESTS else "Milliseconds",
                "timeseries": [
                    {
                        "metadatavalues": [
                            {"name": {"value": k.lower()}, "value": v} for k, v in dims.items()
                        ],
                        "data": [
                            {"timeStamp": f"2026-12-07T10:0{i}:00Z", field: value}
                            for i, value in enumerate(points)
                        ],
                    }
                    for dims, points in series
                ],
            }
        ],
    }


class RecordedMetrics:
    """``MetricsClient`` answering from recordings per deployment; records each query."""

    def __init__(self, answers: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.answers = answers  # deployment -> metric -> REST answer
        self.queries: list[dict[str, Any]] = []

    def query_resources(self, **query: Any) -> list[Any]:
        self.queries.append(query)
        deployment = query["filter"].split("'")[1]
        [metric] = query["metric_names"]
        answer = self.answers[deployment][metric]
        return [querymetrics.MetricsQueryResult._from_generated(answer)]


def deployment_answers(
    deployment: str, ok: list[float], errors: list[float], p99: list[float]
) -> dict[str, dict[str, Any]]:
    return {
        REQUESTS: recorded(
            REQUESTS,
            [
                ({"deployment": deployment, "statusCodeClass": "2xx"}, ok),
                ({"deployment": deployment, "statusCodeClass": "5xx"}, errors),
            ],
            "total",
        ),
        LATENCY_P99: recorded(LATENCY_P99, [({"deployment": deployment}, p99)], "average"),
    }


def test_figures_are_read_from_azures_answer_per_deployment() -> None:
    client = RecordedMetrics(
        {"green": deployment_answers("green", [100, 100, 100], [0, 3, 1], [80, 120, 95])}
    )
    metrics = EndpointMetrics(ENDPOINT_ID, "westeurope", client=client)
    start = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    figures = metrics.figures("green", start, datetime(2026, 12, 7, 10, 5, tzinfo=UTC))
    assert figures == Figures(requests=304, errors=4, p99_ms=120)
    assert figures.describe() == "304 requests, 1.3% 5xx, p99 120 ms"
    first = client.queries[0]
    assert first["resource_ids"] == [ENDPOINT_ID] and first["metric_namespace"] == NAMESPACE
    assert first["filter"] == "deployment eq 'green' and statusCodeClass eq '*'"
    assert first["timespan"][0] == start


@pytest.mark.parametrize(
    ("new", "old", "passed", "why"),
    [
        (Figures(1000, 2, 90), Figures(9000, 9, 85), True, ""),
        (Figures(1000, 40, 90), Figures(9000, 9, 85), False, "5xx 4.0% > 1.0%"),
        (Figures(1000, 8, 90), Figures(9000, 0, 85), False, "against the old colour's 0.0%"),
        (Figures(1000, 0, 300), Figures(9000, 0, 100), False, "p99 300 ms > 1.5 x"),
        (Figures(5, 5, 900), Figures(9000, 0, 100), True, "not judged"),
    ],
)
def test_judge(new: Figures, old: Figures, passed: bool, why: str) -> None:
    ok, detail = judge(new, old, MetricPolicy())
    assert ok is passed and why in detail and detail.startswith("new: ")


def test_a_step_whose_production_figures_are_worse_moves_traffic_back(tmp_path: Path) -> None:
    """green passes every smoke test, but at 10% live traffic Azure Monitor shows it answering
    5xx to 4% of real requests: the rollout moves back, and the step shows what it saw."""
    ml = serving_v2_on_blue(tmp_path)
    client = RecordedMetrics(
        {
            "green": deployment_answers("green", [200, 200, 200], [8, 8, 8], [90, 95, 92]),
            "blue": deployment_answers("blue", [1800] * 3, [1, 0, 1], [85, 88, 90]),
        }
    )
    slept: list[float] = []
    result = deploy(
        ml,
        endpoint="e",
        version="3",
        settings=Settings(),
        code_root=tmp_path / "staging",
        steps="10,50,100",
        check=lambda c, v: (True, "5 scenarios passed"),
        pacing=Pacing(hold_s=300, retries=0, sleep=slept.append),
        metrics=EndpointMetrics(ENDPOINT_ID, "westeurope", client=client),
    )
    assert not result.ok and result.rollout.rolled_back and ml.live("e") == {"blue": 100}
    steps = result.to_dict()["rollout"]["steps"]
    assert steps[0]["detail"] == "smoke test at 0%: 5 scenarios passed; no live share yet"
    assert steps[1]["weights"] == {"green": 10, "blue": 90} and not steps[1]["passed"]
    assert "new: 624 requests, 3.8% 5xx" in steps[1]["detail"]
    assert "old: 5,402 requests, 0.0% 5xx" in steps[1]["detail"]
    assert slept == [300]  # held once, then judged
    windows = {q["timespan"][1] - q["timespan"][0] for q in client.queries}
    assert {w.total_seconds() for w in windows} == {300}

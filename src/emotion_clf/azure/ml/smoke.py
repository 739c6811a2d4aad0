"""The health check of one managed online deployment, between traffic steps.

A managed endpoint runs :mod:`emotion_clf.azure.ml.score`, not the FastAPI routes, so the API's
scenarios do not apply. These are its own, run against the scoring URI with the header that
targets one deployment (``azureml-model-deployment``) whatever the traffic split: one text, a
batch, and bad payloads that must get an error message (422) rather than a crash. The result
is the monitoring package's :class:`~emotion_clf.monitoring.HealthReport`, so it prints and
serialises like the API's health check.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from emotion_clf.checks import (
    HealthReport,
    Scenario,
    predicted_batch,
    prediction_problem,
    run_scenario,
)
from emotion_clf.client import ApiClient

DEPLOYMENT_HEADER = "azureml-model-deployment"
BATCH = ["What a lovely day.", "Leave me alone.", "I can't believe we actually won!"]


def _json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _single(version: str | None) -> Callable[[httpx.Response], str | None]:
    def check(response: httpx.Response) -> str | None:
        body = _json(response)
        problem = prediction_problem(body)
        if problem is None and version is not None and isinstance(body, dict):
            served = body.get("model_version")
            if served != version:
                return f"serves version {served!r}, expected {version!r}"
        return problem

    return check


def _error_message(response: httpx.Response) -> str | None:
    body = _json(response)
    if isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"]:
        return None
    return f"no error message in {response.text[:120]!r}"


def scoring_scenarios(uri: str, version: str | None = None) -> list[Scenario]:
    """What a healthy deployment of the scoring script at ``uri`` answers; ``version``: the
    one it should serve (checked in the single-text answer)."""
    ok, bad = frozenset({200}), frozenset({422})
    return [
        Scenario("one text", "POST", uri, ok, json={"text": BATCH[2]}, check=_single(version)),
        Scenario("batch", "POST", uri, ok, json={"texts": BATCH}, check=predicted_batch(3)),
        Scenario("unknown field", "POST", uri, bad, json={"txt": "hi"}, check=_error_message),
        Scenario("blank text", "POST", uri, bad, json={"text": "  "}, check=_error_message),
        Scenario(
            "not JSON",
            "POST",
            uri,
            bad,
            content=b"{not json",
            headers={"Content-Type": "application/json"},
            check=_error_message,
        ),
    ]


def check_scoring(
    scoring_uri: str,
    *,
    key: str | None = None,
    deployment: str | None = None,
    version: str | None = None,
    timeout_s: float = 60.0,
) -> HealthReport:
    """Run :func:`scoring_scenarios` against ``scoring_uri`` (``.../score``), sent to
    ``deployment`` directly when given (0% traffic is enough)."""
    headers = {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if deployment:
        headers[DEPLOYMENT_HEADER] = deployment
    # the scenarios' paths are the whole scoring URI: no base URL
    with ApiClient("", timeout_s=timeout_s, headers=headers) as client:
        results = tuple(run_scenario(client, s) for s in scoring_scenarios(scoring_uri, version))
    return HealthReport(url=scoring_uri, results=results)

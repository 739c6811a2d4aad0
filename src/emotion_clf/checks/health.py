"""Health check of a running API: scenarios with expected outcomes, a pass/fail report.

Each :class:`Scenario` is one request and what a correct server answers: the status codes
it may return and, where it matters, a check of the body (:mod:`.scenarios` lists them).
:func:`check_health` runs them in order against a URL (the local server or any deployed one)
and returns a :class:`HealthReport`; rendering it is the caller's business.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emotion_clf.checks.scenarios import Scenario, scenarios
from emotion_clf.client import ApiClient, ApiError


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    request: str  # "POST /predict"
    expected: str  # "200" or "413 or 422"
    status: int | None  # None: no answer (connection error, timeout)
    passed: bool
    detail: str
    latency_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "request": self.request,
            "expected": self.expected,
            "status": self.status,
            "passed": self.passed,
            "detail": self.detail,
            "latency_ms": round(self.latency_ms, 1),
        }


@dataclass(frozen=True)
class HealthReport:
    url: str
    results: tuple[ScenarioResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def reachable(self) -> bool:
        return any(r.status is not None for r in self.results)

    @property
    def failures(self) -> list[ScenarioResult]:
        return [r for r in self.results if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "passed": self.passed,
            "scenarios": len(self.results),
            "failures": len(self.failures),
            "results": [r.to_dict() for r in self.results],
        }


# -- running them ---------------------------------------------------------------------------
def run_scenario(client: ApiClient, scenario: Scenario) -> ScenarioResult:
    expected = " or ".join(str(s) for s in sorted(scenario.expect))
    request = f"{scenario.method} {scenario.path}"
    started = time.perf_counter()
    try:
        response = client.request(
            scenario.method,
            scenario.path,
            json=scenario.json,
            content=scenario.content,
            headers=dict(scenario.headers),
        )
    except ApiError as exc:  # no answer: unreachable, or none in time
        elapsed = (time.perf_counter() - started) * 1000
        detail = f"no answer: {exc.message}"
        return ScenarioResult(scenario.name, request, expected, None, False, detail, elapsed)
    elapsed = (time.perf_counter() - started) * 1000
    status = response.status_code
    if status not in scenario.expect:
        detail = f"answered {status}: {response.text[:160]!r}"
        return ScenarioResult(scenario.name, request, expected, status, False, detail, elapsed)
    problem = scenario.check(response) if scenario.check is not None else None
    return ScenarioResult(
        scenario.name, request, expected, status, problem is None, problem or "ok", elapsed
    )


def check_health(
    url: str,
    *,
    token: str | None = None,
    timeout_s: float = 30.0,
    headers: Mapping[str, str] | None = None,
    batch_limit: int = 256,
    max_body_bytes: int = 1_000_000,
    only: Sequence[str] | None = None,
) -> HealthReport:
    """Run every scenario (or those named in ``only``) against the server at ``url``.

    ``headers`` go with every request (for example a gateway's key); ``token`` is the
    server's refresh token, which adds the scenario that refreshes with it.
    """
    chosen = scenarios(token=token, batch_limit=batch_limit, max_body_bytes=max_body_bytes)
    if only is not None:
        chosen = [s for s in chosen if s.name in set(only)]
    base = url.rstrip("/")
    with ApiClient(base, timeout_s=timeout_s, headers=headers) as client:
        results = tuple(run_scenario(client, s) for s in chosen)
    return HealthReport(url=base, results=results)

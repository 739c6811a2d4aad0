"""Checks of a running API server, over HTTP:

- :func:`check_health`: scenario tests, each with its expected outcome (:func:`run_scenario`
  runs one; :func:`prediction_problem` and :func:`predicted_batch` check answers, for other
  scenario sets such as Azure ML's scoring check);
- :func:`run_load` / :class:`LoadGenerator`: the project's load generator (wrk as its C
  engine where installed), with an optional switch of models mid-run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emotion_clf.lazy import lazy_face

if TYPE_CHECKING:
    from emotion_clf.checks.health import HealthReport, ScenarioResult, check_health, run_scenario
    from emotion_clf.checks.load import (
        LoadGenerator,
        LoadReport,
        Request,
        Switch,
        default_requests,
        run_load,
    )
    from emotion_clf.checks.scenarios import (
        Scenario,
        predicted_batch,
        prediction_problem,
        scenarios,
    )

_LAZY: dict[str, str] = {
    "HealthReport": "emotion_clf.checks.health",
    "LoadGenerator": "emotion_clf.checks.load",
    "LoadReport": "emotion_clf.checks.load",
    "Request": "emotion_clf.checks.load",
    "Scenario": "emotion_clf.checks.scenarios",
    "ScenarioResult": "emotion_clf.checks.health",
    "Switch": "emotion_clf.checks.load",
    "check_health": "emotion_clf.checks.health",
    "default_requests": "emotion_clf.checks.load",
    "predicted_batch": "emotion_clf.checks.scenarios",
    "prediction_problem": "emotion_clf.checks.scenarios",
    "run_load": "emotion_clf.checks.load",
    "run_scenario": "emotion_clf.checks.health",
    "scenarios": "emotion_clf.checks.scenarios",
}

__all__ = [
    "HealthReport",
    "LoadGenerator",
    "LoadReport",
    "Request",
    "Scenario",
    "ScenarioResult",
    "Switch",
    "check_health",
    "default_requests",
    "predicted_batch",
    "prediction_problem",
    "run_load",
    "run_scenario",
    "scenarios",
]

__getattr__, __dir__ = lazy_face(__name__, _LAZY)

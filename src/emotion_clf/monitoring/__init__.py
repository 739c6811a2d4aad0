"""Monitoring: what the served model did and how it holds up.

- the prediction log the API server writes (:class:`PredictionRecord`) and its reader
  (:func:`read_prediction_log`), which drift checks use;
- :func:`check_health`: scenario tests of a running API, each with its expected outcome
  (:func:`run_scenario` runs one; :func:`prediction_problem` and :func:`predicted_batch`
  check answers, for other scenario sets such as Azure ML's scoring check);
- :func:`run_load` / :class:`LoadGenerator`: the project's load generator, with an optional
  switch of models mid-run;
- :func:`summarise_segments`: emotion shares by count and by duration over timed segments;
- batch inference (:mod:`.batch`, :mod:`.inputs`, :mod:`.speech`), drift checks
  (:func:`check_drift`, :mod:`.drift_runs`) and true performance from feedback
  (:mod:`.performance`).
"""

from __future__ import annotations

from emotion_clf.monitoring.drift import DriftReport, check_drift, drift_history
from emotion_clf.monitoring.health import HealthReport, ScenarioResult, check_health, run_scenario
from emotion_clf.monitoring.load import (
    LoadGenerator,
    LoadReport,
    Request,
    Switch,
    default_requests,
    run_load,
)
from emotion_clf.monitoring.predictions import (
    LoggedPrediction,
    PredictionLogRead,
    PredictionRecord,
    append_lines,
    log_path,
    read_prediction_log,
)
from emotion_clf.monitoring.scenarios import (
    Scenario,
    predicted_batch,
    prediction_problem,
    scenarios,
)
from emotion_clf.monitoring.summary import summarise_segments

__all__ = [
    "DriftReport",
    "HealthReport",
    "LoadGenerator",
    "LoadReport",
    "LoggedPrediction",
    "PredictionLogRead",
    "PredictionRecord",
    "Request",
    "Scenario",
    "ScenarioResult",
    "Switch",
    "append_lines",
    "check_drift",
    "check_health",
    "default_requests",
    "drift_history",
    "log_path",
    "predicted_batch",
    "prediction_problem",
    "read_prediction_log",
    "run_load",
    "run_scenario",
    "scenarios",
    "summarise_segments",
]

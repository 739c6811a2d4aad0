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

Names are imported on first use (PEP 562): the drift check's pandas and scikit-learn are not
paid by a health check or a CLI command that never reads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emotion_clf.lazy import lazy_face

if TYPE_CHECKING:
    from emotion_clf.monitoring.drift import DriftReport, check_drift, drift_history
    from emotion_clf.monitoring.health import (
        HealthReport,
        ScenarioResult,
        check_health,
        run_scenario,
    )
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

_LAZY: dict[str, str] = {
    "DriftReport": "emotion_clf.monitoring.drift",
    "HealthReport": "emotion_clf.monitoring.health",
    "LoadGenerator": "emotion_clf.monitoring.load",
    "LoadReport": "emotion_clf.monitoring.load",
    "LoggedPrediction": "emotion_clf.monitoring.predictions",
    "PredictionLogRead": "emotion_clf.monitoring.predictions",
    "PredictionRecord": "emotion_clf.monitoring.predictions",
    "Request": "emotion_clf.monitoring.load",
    "Scenario": "emotion_clf.monitoring.scenarios",
    "ScenarioResult": "emotion_clf.monitoring.health",
    "Switch": "emotion_clf.monitoring.load",
    "append_lines": "emotion_clf.monitoring.predictions",
    "check_drift": "emotion_clf.monitoring.drift",
    "check_health": "emotion_clf.monitoring.health",
    "default_requests": "emotion_clf.monitoring.load",
    "drift_history": "emotion_clf.monitoring.drift",
    "log_path": "emotion_clf.monitoring.predictions",
    "predicted_batch": "emotion_clf.monitoring.scenarios",
    "prediction_problem": "emotion_clf.monitoring.scenarios",
    "read_prediction_log": "emotion_clf.monitoring.predictions",
    "run_load": "emotion_clf.monitoring.load",
    "run_scenario": "emotion_clf.monitoring.health",
    "scenarios": "emotion_clf.monitoring.scenarios",
    "summarise_segments": "emotion_clf.monitoring.summary",
}

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


__getattr__, __dir__ = lazy_face(__name__, _LAZY)

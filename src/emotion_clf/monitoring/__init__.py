"""Monitoring: what the served model did and how it holds up.

- the prediction log the API server writes (:class:`PredictionRecord`) and its reader
  (:func:`read_prediction_log`), which drift checks use;
- drift checks (:func:`check_drift`, :mod:`.drift_runs`) against a reference profile;
- true performance from feedback (:mod:`.performance`);
- the shadow comparison (:mod:`.shadow`): candidate and served model on the same live texts;
- :func:`summarise_segments`: emotion shares by count and by duration over timed segments.

Batch inference, speech to text and the checks of a running server (health, load) have
packages of their own: :mod:`emotion_clf.batch`, :mod:`emotion_clf.speech`,
:mod:`emotion_clf.checks`.

Names are imported on first use (PEP 562): the drift check's pandas and scikit-learn are not
paid by a CLI command that never reads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emotion_clf.lazy import lazy_face

if TYPE_CHECKING:
    from emotion_clf.monitoring.drift import DriftReport, check_drift, drift_history
    from emotion_clf.monitoring.predictions import (
        LoggedPrediction,
        PredictionLogRead,
        PredictionRecord,
        append_lines,
        log_path,
        read_prediction_log,
    )
    from emotion_clf.monitoring.summary import summarise_segments

_LAZY: dict[str, str] = {
    "DriftReport": "emotion_clf.monitoring.drift",
    "LoggedPrediction": "emotion_clf.monitoring.predictions",
    "PredictionLogRead": "emotion_clf.monitoring.predictions",
    "PredictionRecord": "emotion_clf.monitoring.predictions",
    "append_lines": "emotion_clf.monitoring.predictions",
    "check_drift": "emotion_clf.monitoring.drift",
    "drift_history": "emotion_clf.monitoring.drift",
    "log_path": "emotion_clf.monitoring.predictions",
    "read_prediction_log": "emotion_clf.monitoring.predictions",
    "summarise_segments": "emotion_clf.monitoring.summary",
}

__all__ = [
    "DriftReport",
    "LoggedPrediction",
    "PredictionLogRead",
    "PredictionRecord",
    "append_lines",
    "check_drift",
    "drift_history",
    "log_path",
    "read_prediction_log",
    "summarise_segments",
]


__getattr__, __dir__ = lazy_face(__name__, _LAZY)

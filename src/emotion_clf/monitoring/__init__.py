"""Monitoring: what the served model did and how it holds up.

- the prediction log the API server writes (:class:`PredictionRecord`) and its reader
  (:func:`read_prediction_log`), which drift checks use;
- :func:`summarise_segments`: emotion shares by count and by duration over timed segments.
"""

from __future__ import annotations

from emotion_clf.monitoring.predictions import (
    LoggedPrediction,
    PredictionLogRead,
    PredictionRecord,
    append_lines,
    log_path,
    read_prediction_log,
)
from emotion_clf.monitoring.summary import summarise_segments

__all__ = [
    "LoggedPrediction",
    "PredictionLogRead",
    "PredictionRecord",
    "append_lines",
    "log_path",
    "read_prediction_log",
    "summarise_segments",
]

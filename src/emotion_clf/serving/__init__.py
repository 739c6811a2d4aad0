"""The API server, in two parts: :mod:`.http`, the HTTP shell (app factory, routes, fast lane,
middleware, error mapping, schemas), and :mod:`.runtime`, the model runtime (loading, hot swap,
micro-batching, workers, child processes, the prediction log, shadow traffic, metrics), which
imports nothing of HTTP. Parsers, records and writers that other capabilities use live in
:mod:`emotion_clf.data` and :mod:`emotion_clf.monitoring`.
"""

from __future__ import annotations

from emotion_clf.serving.http.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]

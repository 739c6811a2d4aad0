"""The HTTP API, and nothing else: the app factory, its routes, the hot-swappable model holder
and micro-batching. Parsers, records and writers that other capabilities use live in
:mod:`emotion_clf.data` and :mod:`emotion_clf.monitoring`.
"""

from __future__ import annotations

from emotion_clf.serving.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]

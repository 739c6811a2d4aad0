"""The HTTP API: an app factory, the hot-swappable model holder, micro-batching."""

from __future__ import annotations

from emotion_clf.serving.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]

"""Which registry backend the settings name, opened."""

from __future__ import annotations

from emotion_clf.config import Settings
from emotion_clf.registry.base import ModelRegistry
from emotion_clf.registry.mlflow_store import MlflowRegistry


def open_registry(settings: Settings) -> ModelRegistry:
    """The registry ``settings`` point at: MLflow (embedded SQLite by default, or any
    ``EMOTION_CLF_TRACKING_URI``)."""
    return MlflowRegistry.from_settings(settings)

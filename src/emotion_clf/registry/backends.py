"""Which registry backend the settings name, opened."""

from __future__ import annotations

from emotion_clf.config import Settings
from emotion_clf.registry.base import ModelRegistry
from emotion_clf.registry.mlflow_store import MlflowRegistry


def open_registry(settings: Settings, *, read_only: bool = False) -> ModelRegistry:
    """The registry ``settings`` point at: MLflow (embedded SQLite by default, or any
    ``EMOTION_CLF_TRACKING_URI``).

    ``read_only`` is how a server opens it: nothing is created (only training and promotion
    create a registry), and a store that is missing, corrupt or of another schema raises
    :class:`~emotion_clf.errors.RegistryUnavailableError` (its ``detail`` says why).
    """
    return MlflowRegistry.from_settings(settings, read_only=read_only)

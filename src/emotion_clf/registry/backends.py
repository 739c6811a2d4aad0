"""Which registry backend the settings name, opened."""

from __future__ import annotations

from emotion_clf.config import Settings
from emotion_clf.registry.base import ModelRegistry


def open_registry(settings: Settings) -> ModelRegistry:
    """The registry ``settings`` point at (``EMOTION_CLF_REGISTRY``): MLflow (embedded SQLite
    by default, or any ``EMOTION_CLF_TRACKING_URI``) or the Azure ML workspace. Each backend
    is imported only when chosen, so neither SDK loads for the other."""
    if settings.registry == "azureml":
        from emotion_clf.registry.azureml_store import AzureMlRegistry

        return AzureMlRegistry.from_settings(settings)
    from emotion_clf.registry.mlflow_store import MlflowRegistry

    return MlflowRegistry.from_settings(settings)

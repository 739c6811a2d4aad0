"""Which registry backend the settings name, opened."""

from __future__ import annotations

from emotion_clf.config import Settings
from emotion_clf.registry.base import ModelRegistry


def open_registry(settings: Settings, *, read_only: bool = False) -> ModelRegistry:
    """The registry ``settings`` point at (``EMOTION_CLF_REGISTRY``): MLflow (embedded SQLite
    by default, or any ``EMOTION_CLF_TRACKING_URI``) or the Azure ML workspace. Each backend
    is imported only when chosen, so neither SDK loads for the other.

    ``read_only`` is how a server opens it: nothing is created (only training and promotion
    create a registry), and a store that is missing, corrupt or of another schema raises
    :class:`~emotion_clf.errors.RegistryUnavailableError` (its ``detail`` says why). The Azure
    ML backend has no read-only mode: its first read creates its blob container if missing
    (by default the workspace datastore's, which always exists); nothing else.
    """
    if settings.registry.backend == "azureml":
        from emotion_clf.registry.azureml.store import AzureMlRegistry

        return AzureMlRegistry.from_settings(settings)
    from emotion_clf.registry.mlflow.store import MlflowRegistry

    return MlflowRegistry.from_settings(settings, read_only=read_only)

"""Which registry backend the settings name, opened."""

from __future__ import annotations

from emotion_clf.config import Settings
from emotion_clf.registry.base import ModelRegistry


def open_registry(
    settings: Settings, *, read_only: bool = False, create: bool = True
) -> ModelRegistry:
    """The registry ``settings`` point at (``EMOTION_CLF_REGISTRY``): MLflow (embedded SQLite
    by default, or any ``EMOTION_CLF_TRACKING_URI``) or the Azure ML workspace. Each backend
    is imported only when chosen, so neither SDK loads for the other.

    A store that is lost or not mounted must never become a new, empty registry (whose next
    registration would be version 1 again), so how it is opened says what may happen:

    - ``read_only`` (a server, and every command that only reads): nothing is created and
      nothing can be written; a store that is missing, corrupt or of another schema raises
      :class:`~emotion_clf.errors.RegistryStoreError` (``where`` names it, ``detail`` says
      why);
    - ``create=False`` (promotion, rollback, unlock: they change a registry, never start
      one): writable, but the store must exist, as for a reader;
    - ``create=True``, the default (training with ``--register``, ``registry register``): a
      missing store is created, and :attr:`ModelRegistry.created` says so.

    An existing store is checked either way. An MLflow server creates its own store: for it
    "missing" does not arise, and a server that is down is
    :class:`~emotion_clf.errors.RegistryUnavailableError`. The Azure ML workspace is made by
    provisioning, never here; the blob container beside it (by default the workspace
    datastore's, which always exists) is created only with ``create``. ``read_only`` on
    Azure ML creates nothing but does not refuse writes.
    """
    if settings.registry.backend == "azureml":
        from emotion_clf.registry.azureml.store import AzureMlRegistry

        return AzureMlRegistry.from_settings(settings, create=create and not read_only)
    from emotion_clf.registry.mlflow.store import MlflowRegistry

    return MlflowRegistry.from_settings(settings, read_only=read_only, create=create)

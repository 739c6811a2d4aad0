"""How the Azure ML registry backend reaches the workspace: the SDK imported lazily, errors
translated in one place, the two clients it needs opened from settings.

The backend needs two things of the workspace: its model registry (the ``models`` operations
of an ``MLClient``) and a blob container for the designations document, the promotion lock and
the audit log (by default the workspace's default datastore, ``workspaceblobstore``).
:func:`open_workspace` opens both; tests put a fake ``models`` in place of the first (the
only part that cannot be reached from here) and Azurite behind the second.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from emotion_clf.config import Settings
from emotion_clf.errors import (
    ConfigError,
    ModelNotFoundError,
    RegistryError,
    RegistryUnavailableError,
)

INSTALL_HINT = "install the Azure extra: pip install 'emotion-clf[azure]' (make setup does)"


def sdk(module: str) -> ModuleType:
    """Import an Azure SDK module, or say which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"{module} is not installed (EMOTION_CLF_REGISTRY=azureml); {INSTALL_HINT}"
        ) from exc


@contextmanager
def azure_errors(action: str) -> Iterator[None]:
    """Translate azure-core's exceptions into this package's, naming what was being done.

    The message is short and names the action; the SDK's own text (request ids, URLs) goes
    into the error's ``detail``, as MLflow's does (:func:`..mlflow.calls.mlflow_errors`).
    """
    exceptions = sdk("azure.core.exceptions")
    try:
        yield
    except exceptions.ResourceNotFoundError as exc:
        raise ModelNotFoundError(
            f"{action}: not found in the workspace", detail=_short(exc)
        ) from exc
    except exceptions.ClientAuthenticationError as exc:
        raise RegistryUnavailableError(
            f"{action}: Azure refused the credentials; sign in with `az login` "
            "or set the AZURE_* variables DefaultAzureCredential reads",
            detail=_short(exc),
        ) from exc
    except (exceptions.ServiceRequestError, exceptions.ServiceResponseError) as exc:
        raise RegistryUnavailableError(
            f"{action}: the workspace cannot be reached", detail=_short(exc)
        ) from exc
    except exceptions.AzureError as exc:
        code = error_code(exc) or type(exc).__name__  # a service code, not prose
        raise RegistryError(f"{action}: Azure refused it ({code})", detail=_short(exc)) from exc


def _short(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def error_code(exc: BaseException) -> str:
    """The storage service's error code of an ``HttpResponseError`` (``LeaseAlreadyPresent``),
    as plain text (the SDK gives a ``StorageErrorCode`` enum or a string)."""
    code = getattr(exc, "error_code", None)
    return str(getattr(code, "value", code) or "")


# -- JSON documents in blobs, with their ETag --------------------------------------------------
def read_json(blob: Any, *, action: str) -> tuple[dict[str, Any], str | None]:
    """``(document, etag)``; ``({}, None)`` when the blob does not exist yet."""
    exceptions = sdk("azure.core.exceptions")
    with azure_errors(action):
        try:
            downloaded = blob.download_blob()
        except exceptions.ResourceNotFoundError:
            return {}, None
        text = downloaded.readall()
        etag = downloaded.properties.etag
    try:
        data = json.loads(text or b"{}")
    except json.JSONDecodeError as exc:
        raise RegistryError(f"{action}: {blob.blob_name} is not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise RegistryError(f"{action}: {blob.blob_name} holds no JSON object")
    return data, etag


def write_json(
    blob: Any,
    data: Mapping[str, Any],
    *,
    action: str,
    etag: str | None = None,
    create: bool = False,
    lease: Any = None,
) -> bool:
    """Write a document; with ``etag`` only if the blob is unchanged since it was read, with
    ``create`` only if it does not exist. False when that condition failed (someone else
    wrote first), True when written: a compare-and-set on the storage service's side."""
    exceptions = sdk("azure.core.exceptions")
    conditions = sdk("azure.core")
    body = json.dumps(dict(data), sort_keys=True).encode()
    kwargs: dict[str, Any] = {"overwrite": not create}
    if etag is not None:
        kwargs.update(etag=etag, match_condition=conditions.MatchConditions.IfNotModified)
    if lease is not None:
        kwargs["lease"] = lease
    with azure_errors(action):
        try:
            blob.upload_blob(body, **kwargs)
        except (exceptions.ResourceModifiedError, exceptions.ResourceExistsError) as exc:
            if error_code(exc) not in _LOST_RACE:
                raise  # a lease or permission problem, not a lost race
            return False
    return True


_LOST_RACE = {"ConditionNotMet", "BlobAlreadyExists", "BlobOverwritten"}


# -- opening the workspace ----------------------------------------------------------------------
@dataclass(frozen=True)
class Workspace:
    """The registry's two handles on the workspace, and where they point (for messages)."""

    models: Any  # azure.ai.ml.operations.ModelOperations (or a stand-in in the tests)
    container: Any  # azure.storage.blob.ContainerClient
    location: str


def workspace_coordinates(settings: Settings) -> tuple[str, str, str]:
    """``(subscription, resource group, workspace)``; a ConfigError names what is missing."""
    needed = {
        "EMOTION_CLF_AZURE_SUBSCRIPTION_ID": settings.azure.subscription_id,
        "EMOTION_CLF_AZURE_RESOURCE_GROUP": settings.azure.resource_group,
        "EMOTION_CLF_AZURE_WORKSPACE": settings.azure.workspace,
    }
    missing = [name for name, value in needed.items() if not value]
    if missing:
        raise ConfigError(
            f"EMOTION_CLF_REGISTRY=azureml needs {', '.join(missing)} (in the environment or "
            ".env); `az ml workspace list -o table` lists workspaces"
        )
    return (
        str(settings.azure.subscription_id),
        str(settings.azure.resource_group),
        str(settings.azure.workspace),
    )


def ml_client(settings: Settings, credential: Any) -> Any:
    """The workspace's ``MLClient`` (creating it calls nothing yet)."""
    subscription, group, workspace = workspace_coordinates(settings)
    ml = sdk("azure.ai.ml")
    return ml.MLClient(
        credential,
        subscription_id=subscription,
        resource_group_name=group,
        workspace_name=workspace,
    )


def open_workspace(settings: Settings) -> Workspace:
    """The model operations and the registry's blob container that ``settings`` name."""
    subscription, group, workspace = workspace_coordinates(settings)
    identity = sdk("azure.identity")
    blob = sdk("azure.storage.blob")
    credential = identity.DefaultAzureCredential(exclude_interactive_browser_credential=True)
    client = ml_client(settings, credential)
    where = f"azureml://subscriptions/{subscription}/resourcegroups/{group}/workspaces/{workspace}"
    storage = settings.azureml.registry_storage
    if storage is not None:
        container = blob.ContainerClient.from_connection_string(
            storage.get_secret_value(), container_name=settings.azureml.registry_container
        )
    else:
        with azure_errors("reading the workspace's default datastore"):
            store = client.datastores.get_default()
        account_url = f"{store.protocol}://{store.account_name}.blob.{store.endpoint}"
        container = blob.BlobServiceClient(account_url, credential=credential).get_container_client(
            store.container_name
        )
    return Workspace(models=client.models, container=container, location=where)

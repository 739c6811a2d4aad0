"""What every Azure command shares: the SDK behind the ``[azure]`` extra, the target from
settings, credentials, and the YAML a ``--dry-run`` writes.

The Azure SDKs are imported only here, lazily, when a command runs: without the extra a
command says what to install; without settings it names the variables to set; nothing here
reads or writes a secret.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from emotion_clf.config import Settings
from emotion_clf.errors import ConfigError
from emotion_clf.files import write_atomic

INSTALL_HINT = "install the Azure extra: pip install 'emotion-clf[azure]' (make setup does)"


def require(module: str) -> ModuleType:
    """Import an Azure SDK module, or say which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"{module} is not installed; {INSTALL_HINT}") from exc


@dataclass(frozen=True)
class AzureTarget:
    """Where Azure resources live, from ``EMOTION_CLF_AZURE_*`` settings (or ``.env``)."""

    subscription_id: str
    resource_group: str
    location: str
    workspace: str | None = None


def azure_target(settings: Settings, *, workspace: bool = False) -> AzureTarget:
    """The target the settings name; a :class:`ConfigError` lists every variable missing."""
    needed = {
        "EMOTION_CLF_AZURE_SUBSCRIPTION_ID": settings.azure.subscription_id,
        "EMOTION_CLF_AZURE_RESOURCE_GROUP": settings.azure.resource_group,
    }
    if workspace:
        needed["EMOTION_CLF_AZURE_WORKSPACE"] = settings.azure.workspace
    missing = [name for name, value in needed.items() if not value]
    if missing:
        raise ConfigError(
            f"set {', '.join(missing)} (in the environment or .env) to use Azure; "
            "`az account show` gives the subscription id"
        )
    return AzureTarget(
        subscription_id=str(settings.azure.subscription_id),
        resource_group=str(settings.azure.resource_group),
        location=settings.azure.location,
        workspace=settings.azure.workspace,
    )


def credential() -> Any:
    """``DefaultAzureCredential``: environment, workload or managed identity, ``az login``."""
    identity = require("azure.identity")
    return identity.DefaultAzureCredential(exclude_interactive_browser_credential=True)


def write_yaml(data: Mapping[str, Any], path: Path) -> Path:
    """Write what a ``--dry-run`` would send, as YAML (the SDK's loaders read it back)."""
    yaml = require("yaml")
    return write_atomic(path, yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True))

"""The Azure ML workspace: the client, and what a ``--dry-run`` writes instead of calling it.

Every Azure ML command builds the SDK's own entities first (endpoints, deployments, jobs,
schedules, environments, data assets). :class:`Plan` collects them; with ``--dry-run`` each is
written as YAML (``Plan.write``) that the SDK's loaders (``load_online_deployment``,
``load_job``, ...) read back, so a schema error shows without a workspace. Without
``--dry-run`` the same entities go to :func:`ml_client`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotion_clf.azure.sdk import AzureTarget, azure_target, credential, require, write_yaml
from emotion_clf.config import Settings
from emotion_clf.errors import CloudError

logger = logging.getLogger(__name__)


def ml_client(settings: Settings) -> Any:
    """An ``MLClient`` on the workspace the settings name (DefaultAzureCredential)."""
    target: AzureTarget = azure_target(settings, workspace=True)
    ml = require("azure.ai.ml")
    return ml.MLClient(
        credential(),
        subscription_id=target.subscription_id,
        resource_group_name=target.resource_group,
        workspace_name=target.workspace,
    )


@contextmanager
def azure_call(action: str) -> Iterator[None]:
    """Turn the SDK's exceptions into one clear :class:`CloudError` naming ``action``."""
    exceptions = require("azure.core.exceptions")
    try:
        yield
    except exceptions.ClientAuthenticationError as exc:
        raise CloudError(
            f"{action}: Azure refused the credentials; sign in with `az login` ({_first_line(exc)})"
        ) from exc
    except exceptions.AzureError as exc:
        raise CloudError(f"{action}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def entity_dict(entity: Any) -> dict[str, Any]:
    """The YAML form of an SDK entity (``dump`` writes a file for some entities and returns
    a dict for others; ``_to_dict`` is what both use)."""
    data = json.loads(json.dumps(entity._to_dict(), default=str))  # OrderedDicts -> dicts
    return {k: v for k, v in data.items() if v not in (None, {}, [])}


@dataclass
class Plan:
    """The entities one command would create or update, in order, by file name."""

    entities: dict[str, Any] = field(default_factory=dict)
    # filename -> fields written in place of the entity's own (a schedule's YAML names its
    # job by file, where the SDK object holds the job itself)
    yaml_fields: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, filename: str, entity: Any, **yaml_fields: Any) -> Any:
        self.entities[filename] = entity
        if yaml_fields:
            self.yaml_fields[filename] = yaml_fields
        return entity

    def write(self, out: Path) -> list[Path]:
        """Each entity as ``out/<filename>`` (YAML the SDK's loaders read back)."""
        out.mkdir(parents=True, exist_ok=True)
        return [
            write_yaml({**entity_dict(e), **self.yaml_fields.get(name, {})}, out / name)
            for name, e in self.entities.items()
        ]

"""Azure: every call to Azure's control plane, imported lazily behind the ``[azure]`` extra.

- :mod:`.sdk`: the SDK import with an install hint, the target from settings
  (``EMOTION_CLF_AZURE_*``), credentials, the YAML a ``--dry-run`` writes;
- :mod:`.rollout`: blue-green traffic shifting in steps with a health check at each step,
  the same for managed online endpoints and Container Apps;
- :mod:`.ml`: Azure ML (pipelines, managed online endpoints, batch endpoints, and the entry
  scripts those deployments run);
- :mod:`.containers`: the container every service runs (image, resources, environment,
  secrets) and the check of a deployed server; Container Instances and Container Apps with
  blue and green revisions.

(The Azure ML model registry, a model store, is a backend of :mod:`emotion_clf.registry`.)
"""

from __future__ import annotations

from emotion_clf.azure.containers import (
    ContainerSpec,
    DeployCheck,
    check_deployed,
    container_spec,
)
from emotion_clf.azure.sdk import (
    INSTALL_HINT,
    AzureTarget,
    azure_target,
    credential,
    require,
    write_yaml,
)

__all__ = [
    "INSTALL_HINT",
    "AzureTarget",
    "ContainerSpec",
    "DeployCheck",
    "azure_target",
    "check_deployed",
    "container_spec",
    "credential",
    "require",
    "write_yaml",
]

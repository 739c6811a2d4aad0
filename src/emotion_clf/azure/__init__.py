"""Azure: every call to Azure's control plane, imported lazily behind the ``[azure]`` extra.

- :mod:`.sdk`: the SDK import with an install hint, the target from settings
  (``EMOTION_CLF_AZURE_*``), credentials, the YAML a ``--dry-run`` writes;
- :mod:`.rollout`: blue-green traffic shifting in steps with a health check at each step,
  the same for managed online endpoints and Container Apps.

(The Azure ML model registry, a model store, is a backend of :mod:`emotion_clf.registry`.)
"""

from __future__ import annotations

from emotion_clf.azure.sdk import (
    INSTALL_HINT,
    AzureTarget,
    azure_target,
    credential,
    require,
    write_yaml,
)

__all__ = ["INSTALL_HINT", "AzureTarget", "azure_target", "credential", "require", "write_yaml"]

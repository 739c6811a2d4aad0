"""The Azure ML workspace backend of the registry: models in the workspace, designations,
the promotion lock (a renewed blob lease) and the audit log as blobs of its datastore.

Imported on first use, behind the ``[azure]`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emotion_clf.lazy import lazy_face

if TYPE_CHECKING:
    from emotion_clf.registry.azureml.store import AzureMlRegistry

_LAZY: dict[str, str] = {
    "AzureMlRegistry": "emotion_clf.registry.azureml.store",
}

__all__ = [
    "AzureMlRegistry",
]

__getattr__, __dir__ = lazy_face(__name__, _LAZY)

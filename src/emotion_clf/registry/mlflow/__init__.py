"""The MLflow backend of the registry: the model store, its ticket lock, its audit
log, training runs, and the read-only view of an embedded store.

Imported on first use: ``import mlflow`` takes about a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emotion_clf.lazy import lazy_face

if TYPE_CHECKING:
    from emotion_clf.registry.mlflow.store import MlflowRegistry

_LAZY: dict[str, str] = {
    "MlflowRegistry": "emotion_clf.registry.mlflow.store",
}

__all__ = [
    "MlflowRegistry",
]

__getattr__, __dir__ = lazy_face(__name__, _LAZY)

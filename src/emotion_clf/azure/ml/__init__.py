"""Azure ML: pipelines on a compute cluster, managed online endpoints rolled out blue-green,
batch endpoints, and the entry scripts those deployments run (``score.py``,
``batch_score.py``, copied into each deployment's code folder).

Imported on first use, behind the ``[azure]`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emotion_clf.lazy import lazy_face

if TYPE_CHECKING:
    from emotion_clf.azure.ml.endpoint import deploy, endpoint_status, rollback_endpoint
    from emotion_clf.azure.ml.pipeline import build_pipeline, plan_submission
    from emotion_clf.azure.ml.smoke import check_scoring
    from emotion_clf.azure.ml.workspace import Plan, ml_client

_LAZY: dict[str, str] = {
    "Plan": "emotion_clf.azure.ml.workspace",
    "build_pipeline": "emotion_clf.azure.ml.pipeline",
    "check_scoring": "emotion_clf.azure.ml.smoke",
    "deploy": "emotion_clf.azure.ml.endpoint",
    "endpoint_status": "emotion_clf.azure.ml.endpoint",
    "ml_client": "emotion_clf.azure.ml.workspace",
    "plan_submission": "emotion_clf.azure.ml.pipeline",
    "rollback_endpoint": "emotion_clf.azure.ml.endpoint",
}

__all__ = [
    "Plan",
    "build_pipeline",
    "check_scoring",
    "deploy",
    "endpoint_status",
    "ml_client",
    "plan_submission",
    "rollback_endpoint",
]

__getattr__, __dir__ = lazy_face(__name__, _LAZY)

"""emotion-clf: a text emotion classifier with a blue-green model lifecycle.

The public API is listed in ``__all__``; each package has its own face (``__all__`` in its
``__init__``): ``data``, ``evaluation``, ``models``, ``registry``, ``promotion``,
``monitoring``, ``serving``, ``reports``, ``azure``.

The names are imported on first use (PEP 562): ``import emotion_clf.cli`` would otherwise pay
for scikit-learn, pandas and torch's neighbours before any command has run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emotion_clf.lazy import lazy_face
from emotion_clf.version import __version__

if TYPE_CHECKING:
    from emotion_clf.config import Settings, get_settings
    from emotion_clf.data.loader import Dataset, load_dataset
    from emotion_clf.data.schema import SCHEMA, LabelSchema
    from emotion_clf.data.split import split_by_batch
    from emotion_clf.errors import EmotionClfError
    from emotion_clf.evaluation import Evaluation
    from emotion_clf.models import Prediction, Predictor, evaluate, load_bundle, save_bundle
    from emotion_clf.pipeline import Classifier, pipeline
    from emotion_clf.training import train_model

_LAZY: dict[str, str] = {
    "Classifier": "emotion_clf.pipeline",
    "SCHEMA": "emotion_clf.data.schema",
    "Dataset": "emotion_clf.data.loader",
    "EmotionClfError": "emotion_clf.errors",
    "Evaluation": "emotion_clf.evaluation",
    "LabelSchema": "emotion_clf.data.schema",
    "Prediction": "emotion_clf.models",
    "Predictor": "emotion_clf.models",
    "Settings": "emotion_clf.config",
    "evaluate": "emotion_clf.models",
    "get_settings": "emotion_clf.config",
    "load_bundle": "emotion_clf.models",
    "load_dataset": "emotion_clf.data.loader",
    "pipeline": "emotion_clf.pipeline",
    "save_bundle": "emotion_clf.models",
    "split_by_batch": "emotion_clf.data.split",
    "train_model": "emotion_clf.training",
}

__all__ = [
    "SCHEMA",
    "Classifier",
    "Dataset",
    "EmotionClfError",
    "Evaluation",
    "LabelSchema",
    "Prediction",
    "Predictor",
    "Settings",
    "__version__",
    "evaluate",
    "get_settings",
    "load_bundle",
    "load_dataset",
    "pipeline",
    "save_bundle",
    "split_by_batch",
    "train_model",
]


__getattr__, __dir__ = lazy_face(__name__, _LAZY)

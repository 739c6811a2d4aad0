"""emotion-clf: a text emotion classifier with a blue-green model lifecycle.

The public API is listed in ``__all__``; each package has its own face (``__all__`` in its
``__init__``): ``data``, ``evaluation``, ``models``, ``registry``, ``promotion``,
``monitoring``, ``serving``, ``reports``.
"""

from __future__ import annotations

from emotion_clf.config import Settings, get_settings
from emotion_clf.data.loader import Dataset, load_dataset
from emotion_clf.data.schema import SCHEMA, LabelSchema
from emotion_clf.data.split import split_by_batch
from emotion_clf.errors import EmotionClfError
from emotion_clf.evaluation import Evaluation
from emotion_clf.models import Prediction, Predictor, evaluate, load_bundle, save_bundle
from emotion_clf.training import train_model
from emotion_clf.version import __version__

__all__ = [
    "SCHEMA",
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
    "save_bundle",
    "split_by_batch",
    "train_model",
]

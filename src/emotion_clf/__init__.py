"""emotion-clf: a text emotion classifier with a blue-green model lifecycle.

The public API is listed in ``__all__``; heavier parts (the registry, the server) are imported
from their own modules.
"""

from __future__ import annotations

__version__ = "0.1.0"

from emotion_clf.config import Settings, get_settings
from emotion_clf.data.loader import Dataset, load_dataset
from emotion_clf.data.schema import SCHEMA, LabelSchema
from emotion_clf.data.split import split_by_batch
from emotion_clf.errors import EmotionClfError
from emotion_clf.evaluation import Evaluation, evaluate
from emotion_clf.models.base import Prediction, Predictor
from emotion_clf.models.bundle import load_bundle, save_bundle
from emotion_clf.training import train_model

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

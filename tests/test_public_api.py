"""The curated public API: what `import emotion_clf` offers is a decision, pinned here."""

from __future__ import annotations

import emotion_clf


def test_public_api_is_exactly_this() -> None:
    assert sorted(emotion_clf.__all__) == sorted(
        [
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
    )
    for name in emotion_clf.__all__:
        assert hasattr(emotion_clf, name), name

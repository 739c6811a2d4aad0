"""Model families behind one predictor interface, and the bundle they are saved as.

- :class:`Predictor`: texts in, hierarchy-consistent predictions out (:func:`decode`);
- families: ``tfidf`` (:mod:`.tfidf`) and ``minilm`` (:mod:`.minilm`), found by name
  through :data:`FAMILIES` and imported only when used (torch is heavy);
- the bundle: :func:`save_bundle`, :func:`load_bundle`, :func:`verify_bundle`,
  :func:`check_bundle` (a verification a later load takes);
- :func:`evaluate`: run a predictor over labelled rows and score it.
"""

from __future__ import annotations

from emotion_clf.models.base import (
    DECODINGS,
    HeadPrediction,
    HeadProbabilities,
    Prediction,
    PredictionBatch,
    Predictor,
    ProgressCallback,
    TrainingSources,
    decode,
)
from emotion_clf.models.bundle import (
    FAMILIES,
    MANIFEST,
    Manifest,
    VerifiedBundle,
    bundle_digest,
    check_bundle,
    family_class,
    load_bundle,
    read_manifest,
    save_bundle,
    verify_bundle,
)
from emotion_clf.models.scoring import evaluate

__all__ = [
    "DECODINGS",
    "FAMILIES",
    "MANIFEST",
    "HeadPrediction",
    "HeadProbabilities",
    "Manifest",
    "Prediction",
    "PredictionBatch",
    "Predictor",
    "ProgressCallback",
    "TrainingSources",
    "VerifiedBundle",
    "bundle_digest",
    "check_bundle",
    "decode",
    "evaluate",
    "family_class",
    "load_bundle",
    "read_manifest",
    "save_bundle",
    "verify_bundle",
]

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emotion_clf.data.loader import load_dataset
from emotion_clf.errors import DataError
from emotion_clf.models.bundle import load_bundle
from emotion_clf.models.tfidf import TfidfModel, tfidf_rows
from emotion_clf.training import train_model
from tests.conftest import write_csv

SENTENCES = ["I love this so much!", "Get out of here.", "What just happened?", "Okay."]


def test_same_seed_same_predictions(small_data: Path, tfidf_bundle: Path, tmp_path: Path) -> None:
    again = train_model("tfidf", data=small_data, out=tmp_path / "again", seed=0)
    a = load_bundle(tfidf_bundle).predict_proba(SENTENCES)
    b = again.predictor.predict_proba(SENTENCES)
    np.testing.assert_array_equal(a.emotion, b.emotion)
    np.testing.assert_array_equal(a.sub_emotion, b.sub_emotion)


def test_tfidf_rows_equal_sklearns_transform(tfidf_bundle: Path) -> None:
    model = load_bundle(tfidf_bundle)
    assert isinstance(model, TfidfModel)
    model.predict_proba(SENTENCES)  # builds the fitted vectorizers
    assert model._fitted_vectorizers is not None
    texts = [*SENTENCES, "", "   ", "zzqx unseen wrds", "Ünïcödé ☺ text", "a " * 300]
    for vectorizer in model._fitted_vectorizers:
        ours = tfidf_rows(vectorizer, texts)
        theirs = vectorizer.transform(texts)
        assert ours.dtype == theirs.dtype == np.float32
        np.testing.assert_allclose(ours.toarray(), theirs.toarray(), rtol=1e-5, atol=1e-7)


def test_labels_absent_from_training_are_never_predicted(small_data: Path) -> None:
    dataset = load_dataset(small_data)
    model = TfidfModel().fit(dataset)
    seen = set(dataset.frame["sub_emotion"])
    assert len(seen) < 30  # the slice lacks some sub-emotions
    batch = model.predict_batch(dataset.texts[:50] + SENTENCES)
    assert set(batch.labels("sub_emotion")) <= seen
    unseen = [i for i, s in enumerate(model.schema.sub_emotions) if s not in seen]
    assert (batch.probabilities.sub_emotion[:, unseen] == 0).all()


def test_a_single_class_head_is_a_clear_error(tmp_path: Path) -> None:
    rows = [["", "", f"sentence {i}", "neutral", "neutral", "mild"] for i in range(10)]
    path = write_csv(tmp_path / "b.csv", rows)
    with pytest.raises(DataError, match="single emotion label"):
        TfidfModel().fit(load_dataset(path))

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from emotion_clf.data.loader import load_dataset
from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError
from emotion_clf.models.base import softmax
from emotion_clf.models.bundle import load_bundle
from emotion_clf.models.tfidf import TfidfModel, _vectorizers
from emotion_clf.training import train_model
from tests.conftest import write_csv

SENTENCES = ["I love this so much!", "Get out of here.", "What just happened?", "Okay."]


def test_same_seed_same_predictions(small_data: Path, tfidf_bundle: Path, tmp_path: Path) -> None:
    again = train_model("tfidf", data=small_data, out=tmp_path / "again", seed=0)
    a = load_bundle(tfidf_bundle).predict_proba(SENTENCES)
    b = again.predictor.predict_proba(SENTENCES)
    np.testing.assert_array_equal(a.emotion, b.emotion)
    np.testing.assert_array_equal(a.sub_emotion, b.sub_emotion)


def test_predictions_equal_sklearns_transform_and_product(tfidf_bundle: Path) -> None:
    """The scorer skips sklearn's transform and scipy: its features and probabilities are
    sklearn's, ``softmax(hstack([word.transform, char.transform]) @ W.T + b)``."""
    model = load_bundle(tfidf_bundle)
    assert isinstance(model, TfidfModel)
    word, char = _vectorizers(model.params())
    word.vocabulary_, char.vocabulary_ = model.word_vocabulary_, model.char_vocabulary_
    word.idf_, char.idf_ = model.word_idf_, model.char_idf_
    texts = [*SENTENCES, "", "   ", "zzqx unseen wrds", "Ünïcödé ☺ text", "a " * 300, "Okay."]
    theirs = sparse.hstack([word.transform(texts), char.transform(texts)]).tocsr()
    assert theirs[texts.index("")].nnz == 0 and theirs[0].nnz > 0  # both kinds of row

    columns, values, rows = model.scorer().features(texts)
    ours = sparse.csr_matrix((values, (rows, columns)), shape=theirs.shape)
    assert values.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours.toarray(), theirs.toarray(), rtol=1e-5, atol=1e-7)

    got = model.predict_proba(texts)
    for head in HEADS:
        logits = np.asarray(theirs @ model.weights_[head].T) + model.biases_[head]
        np.testing.assert_allclose(getattr(got, head), softmax(logits), rtol=1e-5, atol=1e-7)
    # one text at a time gives the batch's answers
    alone = np.concatenate([model.predict_proba([t]).sub_emotion for t in texts])
    np.testing.assert_allclose(alone, got.sub_emotion, rtol=1e-6, atol=1e-8)


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

"""Family ``tfidf``: word and character TF-IDF features with one linear classifier per head.

The learned state is the two vocabularies (JSON), the IDF weights and each head's weight
matrix (safetensors). Prediction recomputes ``softmax(X @ W.T + b)`` from those arrays, so a
bundle holds no pickled object and loading it cannot run code.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from safetensors.numpy import load_file, save_file
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from emotion_clf.data.loader import Dataset
from emotion_clf.data.schema import HEADS, SCHEMA, LabelSchema
from emotion_clf.errors import BundleError, DataError
from emotion_clf.models.base import (
    HeadProbabilities,
    Predictor,
    ProgressCallback,
    TrainingSources,
    as_text_list,
    softmax,
)

logger = logging.getLogger(__name__)

STATE_FILE = "state.safetensors"
VOCAB_FILE = "vocabulary.json"

DEFAULT_PARAMS: dict[str, Any] = {
    "word_ngram_range": [1, 2],
    "char_ngram_range": [2, 5],
    "word_min_df": 2,
    "char_min_df": 3,
    "max_char_features": 100_000,
    "C": 1.0,
    "max_iter": 60,
    "seed": 0,
    "decoding": "joint",  # chosen on the validation split, see research/README.md
}
SMALL_DATA_ROWS = 2000


def _vectorizers(params: Mapping[str, Any]) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    word = TfidfVectorizer(
        analyzer="word",
        ngram_range=tuple(params["word_ngram_range"]),
        min_df=params["word_min_df"],
        sublinear_tf=True,
        lowercase=True,
        dtype=np.float32,
    )
    char = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=tuple(params["char_ngram_range"]),
        min_df=params["char_min_df"],
        max_features=params["max_char_features"],
        sublinear_tf=True,
        lowercase=True,
        dtype=np.float32,
    )
    return word, char


@dataclass(frozen=True)
class Scorer:
    """What prediction reads, built once from the learned state: each vectorizer's analyzer
    (sklearn's own: preprocessing, tokens, n-grams) and the columns of its n-grams, the IDF of
    every column, and every head's weights side by side.

    :meth:`logits` is ``hstack([word.transform(t), char.transform(t)]) @ W.T + b`` for the
    fitted vectorizers of :func:`_vectorizers` (sublinear tf, l2 rows) without a sparse
    matrix: each text's n-grams are counted with :class:`collections.Counter`, looked up in C
    (``map``), weighted with numpy, and their weight rows summed per text. sklearn's
    ``transform`` checks its parameters and input on every call (about 1 ms), and building,
    stacking and multiplying scipy's sparse matrices cost about 0.3 ms more a call: most of a
    server's model time at the batch sizes it runs (``python -m benchmarks.tfidf_speed``). Equal to
    sklearn's path to float32 rounding (tested).
    """

    # (analyzer, its n-grams' columns: word columns first, then char columns)
    analyzers: tuple[tuple[Callable[[str], list[str]], Mapping[str, int]], ...]
    idf: np.ndarray  # (columns,), float32
    weights: np.ndarray  # (columns, labels of every head), float32, C order
    biases: np.ndarray  # (labels of every head,)
    cuts: tuple[int, ...]  # where each head's labels end, but the last

    def features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(columns, values, rows)``: the non-zero TF-IDF features of ``texts``, in row order."""
        columns: list[int] = []  # -1 for an n-gram outside the vocabulary
        counts: list[int] = []
        sizes: list[int] = []  # distinct n-grams per (row, analyzer): one l2 norm each
        for text in texts:
            for analyze, vocabulary in self.analyzers:
                counted = Counter(analyze(text))
                columns.extend(map(vocabulary.get, counted, repeat(-1)))
                counts.extend(counted.values())
                sizes.append(len(counted))
        ids = np.asarray(columns, dtype=np.int64)
        segment = np.repeat(np.arange(len(sizes)), sizes)
        known = ids >= 0
        ids, segment = ids[known], segment[known]
        values = np.log(np.asarray(counts, dtype=np.float32)[known])
        values += 1.0
        values *= self.idf[ids]
        norms = np.sqrt(
            np.bincount(segment, weights=np.square(values, dtype=np.float64), minlength=1)
        )
        norms[norms == 0] = 1.0
        values /= norms[segment].astype(np.float32)
        return ids, values, segment // len(self.analyzers)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), labels of every head)``: each head's logits, side by side."""
        ids, values, rows = self.features(texts)
        out = np.zeros((len(texts), self.weights.shape[1]), dtype=np.float32)
        if len(ids):
            starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            out[rows[starts]] = np.add.reduceat(self.weights[ids] * values[:, None], starts, axis=0)
        out += self.biases
        return out


class TfidfModel(Predictor):
    """Word (1-2 gram) and char_wb (2-5 gram) TF-IDF, multinomial logistic regression per head."""

    family: ClassVar[str] = "tfidf"
    default_params: ClassVar[Mapping[str, Any]] = DEFAULT_PARAMS
    runtime = "numpy"
    holds_gil = True  # counting n-grams is Python; the products after it are small

    def __init__(self, schema: LabelSchema = SCHEMA, **params: Any) -> None:
        super().__init__(schema, **params)
        self._scorer: Scorer | None = None  # built on first use from the learned state

    # -- training -------------------------------------------------------------------------
    def fit(
        self,
        train: Dataset,
        validation: Dataset | None = None,
        *,
        progress: ProgressCallback | None = None,
        sources: TrainingSources | None = None,
    ) -> TfidfModel:
        # tfidf trains on the transcripts alone: ``sources`` is accepted and not read
        params = self.validate_params()
        self._scorer = None  # a previous fit's
        frame = train.frame
        if len(frame) < SMALL_DATA_ROWS:
            # tiny slices keep every n-gram they have; min_df only shapes the vocabulary
            # learned here, so the recorded parameters stay the ones asked for
            logger.info("%d training rows: keeping n-grams seen once", len(frame))
            params.update(word_min_df=1, char_min_df=1)
        word, char = _vectorizers(params)
        texts = frame["text"].tolist()
        if progress:
            progress("vectorising", 0.0)
        features = sparse.hstack([word.fit_transform(texts), char.fit_transform(texts)]).tocsr()
        self.word_vocabulary_ = {str(k): int(v) for k, v in word.vocabulary_.items()}
        self.char_vocabulary_ = {str(k): int(v) for k, v in char.vocabulary_.items()}
        self.word_idf_ = word.idf_.astype(np.float32)
        self.char_idf_ = char.idf_.astype(np.float32)
        self.weights_: dict[str, np.ndarray] = {}
        self.biases_: dict[str, np.ndarray] = {}
        for step, head in enumerate(HEADS):
            if progress:
                progress(f"fitting {head}", (step + 1) / (len(HEADS) + 1))
            labels = self.schema.labels(head)
            y = frame[head].map({name: i for i, name in enumerate(labels)}).to_numpy()
            present = np.unique(y)
            if len(present) < 2:
                raise DataError(
                    f"training data has a single {head.replace('_', '-')} label "
                    f"({labels[present[0]]!r}); a classifier needs at least two",
                    field=head,
                )
            classifier = LogisticRegression(
                C=params["C"],
                solver="saga",
                max_iter=params["max_iter"],
                tol=1e-3,
                random_state=params["seed"],
            )
            with warnings.catch_warnings():
                # saga stops at max_iter on purpose: further passes change no metric here
                warnings.simplefilter("ignore", ConvergenceWarning)
                classifier.fit(features, y)
            self.weights_[head], self.biases_[head] = self._full_matrix(
                classifier, n_labels=len(labels), n_features=features.shape[1]
            )
        if progress:
            progress("done", 1.0)
        return self

    @staticmethod
    def _full_matrix(
        classifier: LogisticRegression, *, n_labels: int, n_features: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Weights for every schema label; labels absent from training get -inf logits."""
        weights = np.zeros((n_labels, n_features), dtype=np.float32)
        biases = np.full(n_labels, -np.inf, dtype=np.float32)
        classes = classifier.classes_.astype(int)
        coef = classifier.coef_.astype(np.float32)
        intercept = classifier.intercept_.astype(np.float32)
        if len(classes) == 2:  # binary: p(c1) = sigmoid(w.x + b) == softmax over [0, w.x + b]
            weights[classes[1]] = coef[0]
            biases[classes[0]] = 0.0
            biases[classes[1]] = intercept[0]
        else:
            weights[classes] = coef
            biases[classes] = intercept
        return weights, biases

    # -- inference ------------------------------------------------------------------------
    def scorer(self) -> Scorer:
        scorer = self._scorer
        if scorer is None:
            word, char = _vectorizers(self._params)
            sizes = [self.weights_[head].shape[0] for head in HEADS]
            scorer = self._scorer = Scorer(
                analyzers=(
                    (word.build_analyzer(), self.word_vocabulary_),
                    (
                        char.build_analyzer(),
                        {
                            k: v + len(self.word_vocabulary_)
                            for k, v in self.char_vocabulary_.items()
                        },
                    ),
                ),
                idf=np.concatenate([self.word_idf_, self.char_idf_]).astype(np.float32),
                weights=np.ascontiguousarray(
                    np.concatenate([self.weights_[head] for head in HEADS]).T, dtype=np.float32
                ),
                biases=np.concatenate([self.biases_[head] for head in HEADS]),
                cuts=tuple(int(c) for c in np.cumsum(sizes)[:-1]),
            )
        return scorer

    def predict_proba(self, texts: Sequence[str]) -> HeadProbabilities:
        scorer = self.scorer()
        logits = np.split(scorer.logits(as_text_list(texts)), scorer.cuts, axis=1)
        return HeadProbabilities(
            **{head: softmax(part) for head, part in zip(HEADS, logits, strict=True)}
        )

    # -- persistence ----------------------------------------------------------------------
    def save_state(self, folder: Path) -> None:
        tensors = {"word_idf": self.word_idf_, "char_idf": self.char_idf_}
        for head in HEADS:
            tensors[f"{head}.weight"] = self.weights_[head]
            tensors[f"{head}.bias"] = self.biases_[head]
        save_file(tensors, str(folder / STATE_FILE))
        vocab = {"word": self.word_vocabulary_, "char": self.char_vocabulary_}
        (folder / VOCAB_FILE).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load_state(
        cls, folder: Path, *, schema: LabelSchema, params: Mapping[str, Any]
    ) -> TfidfModel:
        model = cls(schema=schema, **params)
        try:
            model.validate_params()
        except ValueError as exc:
            raise BundleError(
                f"{folder}: the manifest's tfidf parameters are invalid: {exc}"
            ) from exc
        try:
            tensors = load_file(str(folder / STATE_FILE))
            vocab = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
            model.word_vocabulary_ = vocab["word"]
            model.char_vocabulary_ = vocab["char"]
            model.word_idf_ = tensors["word_idf"]
            model.char_idf_ = tensors["char_idf"]
            model.weights_ = {h: tensors[f"{h}.weight"] for h in HEADS}
            model.biases_ = {h: tensors[f"{h}.bias"] for h in HEADS}
        except (OSError, KeyError, ValueError) as exc:
            raise BundleError(f"tfidf state in {folder} is unreadable: {exc}") from exc
        n_features = len(model.word_vocabulary_) + len(model.char_vocabulary_)
        for head in HEADS:
            expected = (len(schema.labels(head)), n_features)
            if model.weights_[head].shape != expected:
                raise BundleError(
                    f"tfidf {head} weights have shape {model.weights_[head].shape}, "
                    f"expected {expected}"
                )
        return model

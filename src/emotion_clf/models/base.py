"""The predictor interface every model family implements, and hierarchy-consistent decoding.

A family produces raw per-head probabilities (:class:`HeadProbabilities`); :func:`decode` turns
them into labels that never contradict the sub-emotion -> emotion hierarchy, together with
distributions that agree with each other (summing the sub-emotion distribution over each
emotion's children gives the emotion distribution).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from emotion_clf.data.loader import Dataset
from emotion_clf.data.schema import HEADS, SCHEMA, LabelSchema

Decoding = Literal["emotion_first", "joint"]
DECODINGS: tuple[str, ...] = ("emotion_first", "joint")
ProgressCallback = Callable[[str, float], None]  # (description, fraction done in [0, 1])


@dataclass(frozen=True)
class TeacherSource:
    """A trained model that teaches: ``predictor`` gives the soft labels; ``key`` (its bundle's
    digest) names the cache of its outputs, so one teacher version's outputs are computed
    once; ``label`` is how the student's record names it (a registry version, a folder);
    ``cache_dir`` keeps the outputs (None: keep nothing)."""

    predictor: Predictor
    key: str
    label: str
    cache_dir: Path | None = None


@dataclass(frozen=True)
class TrainingSources:
    """What a family may train on besides the transcript rows, given by the entry point.

    ``goemotions``: the GoEmotions folder (``data/goemotions``), read only by a family whose
    parameters ask for it; ``cache_dir``: where a family keeps training stages that depend
    only on these sources (None: keep nothing, train them every time); ``backbones_dir``: the
    verified base-size encoders (:mod:`emotion_clf.models.backbones`) the teacher starts from;
    ``teacher``: a trained model whose soft labels a family that distils trains on
    (:mod:`emotion_clf.models.distillation`).
    """

    goemotions: Path | None = None
    cache_dir: Path | None = None
    backbones_dir: Path | None = None
    teacher: TeacherSource | None = None


@dataclass(frozen=True)
class HeadProbabilities:
    """Raw probabilities per head, rows aligned with the input texts, columns with the schema."""

    emotion: np.ndarray
    sub_emotion: np.ndarray
    intensity: np.ndarray

    def __post_init__(self) -> None:
        rows = {self.emotion.shape[0], self.sub_emotion.shape[0], self.intensity.shape[0]}
        if len(rows) != 1:
            raise ValueError(f"heads disagree on the number of rows: {sorted(rows)}")


@dataclass(frozen=True)
class HeadPrediction:
    label: str
    confidence: float
    distribution: Mapping[str, float]

    def to_dict(self, *, distribution: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "confidence": round(self.confidence, 6)}
        if distribution:
            out["distribution"] = {k: round(v, 6) for k, v in self.distribution.items()}
        return out


@dataclass(frozen=True)
class Prediction:
    emotion: HeadPrediction
    sub_emotion: HeadPrediction
    intensity: HeadPrediction

    def to_dict(self, *, distributions: bool = False) -> dict[str, Any]:
        return {head: getattr(self, head).to_dict(distribution=distributions) for head in HEADS}


@dataclass(frozen=True)
class PredictionBatch:
    """Decoded predictions for a batch: label indices and consistent distributions per head."""

    schema: LabelSchema
    probabilities: HeadProbabilities
    indices: Mapping[str, np.ndarray]

    def __len__(self) -> int:
        return int(self.probabilities.emotion.shape[0])

    def labels(self, head: str) -> list[str]:
        names = self.schema.labels(head)
        return [names[i] for i in self.indices[head]]

    def confidences(self, head: str) -> np.ndarray:
        probs: np.ndarray = getattr(self.probabilities, head)
        return probs[np.arange(len(self)), self.indices[head]]

    def __getitem__(self, row: int) -> Prediction:
        return self._rows(slice(row, row + 1 if row != -1 else None))[0]

    def __iter__(self) -> Iterator[Prediction]:
        return iter(self._rows(slice(None)))

    def _rows(self, rows: slice) -> list[Prediction]:
        # whole arrays to Python floats at once (``tolist``): a server builds these for every
        # request, and element by element conversion cost more than a tfidf model's forward
        columns = []
        for head in HEADS:
            names = self.schema.labels(head)
            probs = getattr(self.probabilities, head)[rows].tolist()
            indices = self.indices[head][rows].tolist()
            columns.append(
                [
                    HeadPrediction(
                        label=names[i],
                        confidence=p[i],
                        distribution=dict(zip(names, p, strict=True)),
                    )
                    for p, i in zip(probs, indices, strict=True)
                ]
            )
        return [
            Prediction(emotion=e, sub_emotion=s, intensity=n)
            for e, s, n in zip(*columns, strict=True)
        ]


def _normalise_rows(values: np.ndarray) -> np.ndarray:
    total = values.sum(axis=1, keepdims=True)
    return np.divide(
        values, total, out=np.full_like(values, 1.0 / values.shape[1]), where=total > 0
    )


def decode(
    raw: HeadProbabilities, schema: LabelSchema, decoding: str = "emotion_first"
) -> PredictionBatch:
    """Turn raw head probabilities into hierarchy-consistent labels and distributions.

    ``emotion_first``: the emotion is the emotion head's argmax; the sub-emotion is the most
    likely child of that emotion. The sub-emotion distribution is ``p(e) * p(s | e)``, where
    ``p(s | e)`` is the sub-emotion head renormalised within e's children, so it sums over
    each emotion's children to exactly the emotion head's distribution.

    ``joint``: both heads vote on each sub-emotion, ``q(s) ~ p_emotion(parent(s)) * p_sub(s)``;
    the sub-emotion is q's argmax and the emotion its parent. The emotion distribution is q
    summed over each emotion's children.
    """
    if decoding not in DECODINGS:
        raise ValueError(f"unknown decoding {decoding!r}; choose one of {DECODINGS}")
    parent = np.asarray(schema.parent_index())
    n_emotions = len(schema.emotions)
    p_emotion = _normalise_rows(np.asarray(raw.emotion, dtype=np.float64))
    p_sub = np.asarray(raw.sub_emotion, dtype=np.float64)
    # one-hot (n_sub, n_emotions) membership matrix for sums over children
    member = np.zeros((len(parent), n_emotions))
    member[np.arange(len(parent)), parent] = 1.0

    if decoding == "emotion_first":
        child_mass = p_sub @ member  # (n, n_emotions)
        conditional = np.divide(
            p_sub,
            child_mass[:, parent],
            out=np.zeros_like(p_sub),
            where=child_mass[:, parent] > 0,
        )
        # an emotion whose children all got zero mass shares its probability evenly
        sizes = member.sum(axis=0)
        empty = child_mass[:, parent] <= 0
        conditional[empty] = (1.0 / sizes[parent])[np.nonzero(empty)[1]]
        joint = p_emotion[:, parent] * conditional
        emotion_idx = p_emotion.argmax(axis=1)
        masked = np.where(parent[None, :] == emotion_idx[:, None], joint, -1.0)
        sub_idx = masked.argmax(axis=1)
        emotion_dist = p_emotion
    else:
        joint = _normalise_rows(p_emotion[:, parent] * p_sub)
        sub_idx = joint.argmax(axis=1)
        emotion_idx = parent[sub_idx]
        emotion_dist = joint @ member

    intensity = _normalise_rows(np.asarray(raw.intensity, dtype=np.float64))
    probabilities = HeadProbabilities(emotion=emotion_dist, sub_emotion=joint, intensity=intensity)
    indices = {
        "emotion": emotion_idx,
        "sub_emotion": sub_idx,
        "intensity": intensity.argmax(axis=1),
    }
    if not (parent[indices["sub_emotion"]] == indices["emotion"]).all():  # an invariant
        raise AssertionError("decoding produced a sub-emotion outside its emotion")
    return PredictionBatch(schema=schema, probabilities=probabilities, indices=indices)


def scaled_progress(
    progress: ProgressCallback | None, start: float, end: float, prefix: str
) -> ProgressCallback | None:
    """``progress`` for one stage of a training: fractions mapped into ``[start, end]``."""
    if progress is None:
        return None
    report = progress

    def scaled(text: str, fraction: float) -> None:
        report(prefix + text, start + (end - start) * fraction)

    return scaled


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64. A logit of -inf (a label absent from training) gets 0."""
    shifted = np.asarray(logits, dtype=np.float64)
    shifted = shifted - shifted.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


def as_text_list(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list of strings; one bare string is refused (it would be read as chars)."""
    if isinstance(texts, str):
        raise TypeError("predict takes a sequence of texts, not one string")
    return [str(t) for t in texts]


class Predictor(ABC):
    """A trained model: texts in, hierarchy-consistent predictions out, batch first.

    Families follow scikit-learn's habits: ``__init__`` only stores the hyper-parameters
    (merged over the family's ``default_params``), :meth:`validate_params` checks them and
    ``fit`` / ``load_state`` call it, learned state lives in attributes ending in ``_``, and
    ``fit`` returns ``self``.
    """

    family: ClassVar[str]
    #: every hyper-parameter the family knows, with its default
    default_params: ClassVar[Mapping[str, Any]] = {"decoding": "emotion_first"}
    #: which code path produced the predictions (recorded in the bundle manifest)
    runtime: str = "python"
    #: whether ``predict_batch`` spends most of its time in Python, holding the interpreter
    #: lock (a server then runs short batches on its event loop's thread: a thread of their
    #: own would only take turns with the loop: ``serving.runtime.batcher.on_loop``)
    holds_gil: ClassVar[bool] = False
    #: whether calls go to another process, which a call may first have to start again
    #: (seconds): a server never makes such a call on its event loop's thread
    out_of_process: ClassVar[bool] = False
    #: where the family may keep what it derives from its weights when it loads (minilm's int8
    #: ONNX graph), for the next process that loads the same weights; None keeps nothing on
    #: disk. Read when the inference path is built (the first prediction); set by
    #: :func:`~emotion_clf.models.bundle.load_bundle`.
    runtime_cache: Path | None = None
    schema: LabelSchema

    def __init__(self, schema: LabelSchema = SCHEMA, **params: Any) -> None:
        self.schema = schema
        self._params: dict[str, Any] = {**self.default_params, **params}

    def params(self) -> dict[str, Any]:
        """Hyper-parameters, as JSON, recorded in the manifest."""
        out: dict[str, Any] = json.loads(json.dumps(self._params))
        return out

    def validate_params(self) -> dict[str, Any]:
        """Check the hyper-parameters; raise ValueError naming what is wrong."""
        unknown = set(self._params) - set(self.default_params)
        if unknown:
            raise ValueError(f"unknown {self.family} parameter(s): {sorted(unknown)}")
        if self._params["decoding"] not in DECODINGS:
            raise ValueError(f"decoding must be one of {DECODINGS}")
        self._check_params(self._params)
        return self.params()

    def _check_params(self, params: Mapping[str, Any]) -> None:
        """A family's own checks of its hyper-parameters (none by default)."""
        return None

    def check_training_environment(self) -> None:
        """Raise ValueError if this machine cannot train with these parameters (a GPU they
        name is absent, say). Loading a bundle needs no such check."""
        return None

    @property
    def decoding(self) -> str:
        return str(self._params["decoding"])

    @decoding.setter
    def decoding(self, value: str) -> None:
        if value not in DECODINGS:
            raise ValueError(f"decoding must be one of {DECODINGS}")
        self._params["decoding"] = value

    @abstractmethod
    def fit(
        self,
        train: Dataset,
        validation: Dataset | None = None,
        *,
        progress: ProgressCallback | None = None,
        sources: TrainingSources | None = None,
    ) -> Predictor: ...

    @abstractmethod
    def predict_proba(self, texts: Sequence[str]) -> HeadProbabilities:
        """Raw per-head probabilities (before hierarchy decoding)."""

    @abstractmethod
    def save_state(self, folder: Path) -> None:
        """Write the learned state into ``folder`` (safetensors / JSON only, never pickle)."""

    @classmethod
    @abstractmethod
    def load_state(
        cls, folder: Path, *, schema: LabelSchema, params: Mapping[str, Any]
    ) -> Predictor:
        """Rebuild a predictor from :meth:`save_state`'s files (already checksum-verified)."""

    def predict_batch(self, texts: Sequence[str]) -> PredictionBatch:
        return decode(self.predict_proba(list(texts)), self.schema, self.decoding)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        return list(self.predict_batch(texts))

    def close(self) -> None:
        """Release what the predictor holds outside this process (a child process); an
        in-process model holds nothing the garbage collector does not free."""
        return None

    def training_history(self) -> list[dict[str, float]]:
        """Per-epoch curves where the family has them; empty otherwise."""
        return []

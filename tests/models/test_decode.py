from __future__ import annotations

import numpy as np
import pytest

from emotion_clf.data.schema import SCHEMA
from emotion_clf.models.base import DECODINGS, HeadProbabilities, decode


def random_probs(rows: int, seed: int = 0) -> HeadProbabilities:
    rng = np.random.default_rng(seed)

    def dist(cols: int) -> np.ndarray:
        raw = rng.gamma(0.3, size=(rows, cols))
        return raw / raw.sum(axis=1, keepdims=True)

    return HeadProbabilities(
        emotion=dist(len(SCHEMA.emotions)),
        sub_emotion=dist(len(SCHEMA.sub_emotions)),
        intensity=dist(len(SCHEMA.intensities)),
    )


@pytest.mark.parametrize("decoding", DECODINGS)
def test_every_prediction_is_consistent_with_the_hierarchy(decoding: str) -> None:
    batch = decode(random_probs(2000), SCHEMA, decoding)
    for prediction in batch:
        assert SCHEMA.parent[prediction.sub_emotion.label] == prediction.emotion.label


@pytest.mark.parametrize("decoding", DECODINGS)
def test_distributions_agree_with_each_other(decoding: str) -> None:
    batch = decode(random_probs(500, seed=1), SCHEMA, decoding)
    probs = batch.probabilities
    for head in ("emotion", "sub_emotion", "intensity"):
        np.testing.assert_allclose(getattr(probs, head).sum(axis=1), 1.0, atol=1e-9)
    parent = np.asarray(SCHEMA.parent_index())
    marginal = np.zeros_like(probs.emotion)
    np.add.at(marginal.T, parent, probs.sub_emotion.T)
    np.testing.assert_allclose(marginal, probs.emotion, atol=1e-9)


def test_emotion_first_keeps_the_emotion_heads_argmax() -> None:
    raw = random_probs(300, seed=2)
    batch = decode(raw, SCHEMA, "emotion_first")
    np.testing.assert_array_equal(batch.indices["emotion"], raw.emotion.argmax(axis=1))


def test_joint_lets_a_confident_sub_emotion_decide() -> None:
    emotion = np.zeros((1, 7))
    emotion[0, SCHEMA.emotions.index("happiness")] = 0.45
    emotion[0, SCHEMA.emotions.index("surprise")] = 0.55
    sub = np.full((1, 30), 0.001)
    sub[0, SCHEMA.sub_emotions.index("curiosity")] = 0.9
    sub /= sub.sum()
    raw = HeadProbabilities(emotion=emotion, sub_emotion=sub, intensity=np.ones((1, 3)) / 3)
    assert decode(raw, SCHEMA, "emotion_first")[0].emotion.label == "surprise"
    joint = decode(raw, SCHEMA, "joint")[0]
    assert (joint.emotion.label, joint.sub_emotion.label) == ("happiness", "curiosity")


def test_sub_emotion_with_no_mass_under_the_chosen_emotion_still_decodes() -> None:
    emotion = np.zeros((1, 7))
    emotion[0, SCHEMA.emotions.index("fear")] = 1.0
    sub = np.zeros((1, 30))
    sub[0, SCHEMA.sub_emotions.index("joy")] = 1.0
    raw = HeadProbabilities(emotion=emotion, sub_emotion=sub, intensity=np.ones((1, 3)) / 3)
    prediction = decode(raw, SCHEMA, "emotion_first")[0]
    assert prediction.emotion.label == "fear"
    assert SCHEMA.parent[prediction.sub_emotion.label] == "fear"


def test_rows_by_index_and_by_iteration_are_the_same_predictions() -> None:
    batch = decode(random_probs(40, seed=3), SCHEMA, "joint")
    rows = list(batch)
    assert len(rows) == 40
    assert rows == [batch[i] for i in range(40)]
    assert batch[-1] == rows[-1] and batch[-40] == rows[0]
    for i in (0, 17, 39):
        for head in ("emotion", "sub_emotion", "intensity"):
            probs = getattr(batch.probabilities, head)[i]
            got = getattr(rows[i], head)
            index = int(batch.indices[head][i])
            assert got.label == SCHEMA.labels(head)[index]
            assert got.confidence == float(probs[index])
            assert got.distribution == {
                n: float(p) for n, p in zip(SCHEMA.labels(head), probs, strict=True)
            }

"""``emotion_clf.pipeline``: predictions in two lines, the same as the predictor's own."""

from __future__ import annotations

from pathlib import Path

import pytest

import emotion_clf
from emotion_clf.config import Settings
from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError
from emotion_clf.models import Prediction, load_bundle
from emotion_clf.registry import open_registry
from emotion_clf.training import TrainResult


def same(got: list[Prediction], want: list[Prediction]) -> bool:
    """The same labels and confidences (to float rounding: a batch's size changes the last
    bits of a sum)."""
    return len(got) == len(want) and all(
        getattr(g, h).label == getattr(w, h).label
        and getattr(g, h).confidence == pytest.approx(getattr(w, h).confidence)
        for g, w in zip(got, want, strict=True)
        for h in HEADS
    )


def test_two_lines_from_a_bundle_folder(
    tfidf_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clf = emotion_clf.pipeline(tfidf_bundle)
    texts = ["I can't believe we won!", "This is awful.", "Thank you so much"]
    expected = load_bundle(tfidf_bundle).predict(texts)
    assert same(clf(texts), expected)  # a list in, a list out, in order
    assert same([clf(texts[0])], expected[:1])  # a text in, one prediction out
    assert repr(clf).startswith("Classifier(") and clf.version is None
    # in batches, with a progress bar once there is more than one batch
    assert same(clf(texts * 5, batch_size=4), expected * 5)
    assert "15/15" in capsys.readouterr().err
    with pytest.raises(DataError, match=r"texts\[1\] must be a non-empty string"):
        clf(["fine", " "])


def test_a_designation_from_the_registry(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    open_registry(lifecycle_settings).register(weak_result)
    clf = emotion_clf.pipeline("dynamic", settings=lifecycle_settings)
    assert clf.version == "1" and clf.label == "v1 (dynamic)"
    assert clf("What a lovely day").emotion.label

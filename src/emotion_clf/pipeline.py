"""Predictions in two lines, for a notebook or a script::

    clf = emotion_clf.pipeline("baseline")   # or a version number, or a bundle folder
    clf(["I can't believe we won!", "This is awful."])

:func:`pipeline` resolves the model the way ``emotion-clf predict --model`` does (the
registry's designation or version through the verified local cache, or a bundle folder) and
loads it once; the :class:`Classifier` it returns predicts a text or a list of texts in
batches, with a progress bar (``tqdm.auto``: a widget in JupyterLab, a line in a terminal)
on lists longer than one batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import overload

from emotion_clf.config import Settings, get_settings
from emotion_clf.errors import DataError
from emotion_clf.models.base import Prediction, Predictor
from emotion_clf.registry import resolve_model


class Classifier:
    """A loaded model: call it with a text (one :class:`Prediction`) or a list of texts (a
    list of them, in order)."""

    def __init__(self, predictor: Predictor, *, label: str, version: str | None) -> None:
        self.predictor = predictor
        self.label = label  # "v3 (baseline)" or the bundle's path
        self.version = version

    def __repr__(self) -> str:
        return f"Classifier({self.label}, {self.predictor.family})"

    @overload
    def __call__(  # type: ignore[overload-overlap]  # a str is a Sequence[str] too
        self, texts: str, *, batch_size: int = ..., progress: bool | None = ...
    ) -> Prediction: ...

    @overload
    def __call__(
        self, texts: Sequence[str], *, batch_size: int = ..., progress: bool | None = ...
    ) -> list[Prediction]: ...

    def __call__(
        self, texts: str | Sequence[str], *, batch_size: int = 256, progress: bool | None = None
    ) -> Prediction | list[Prediction]:
        """``progress``: None shows a bar when there is more than one batch."""
        single = isinstance(texts, str)
        items = [texts] if isinstance(texts, str) else list(texts)
        for i, text in enumerate(items):
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"texts[{i}] must be a non-empty string", field=f"texts[{i}]")
        from tqdm.auto import tqdm

        show = progress if progress is not None else len(items) > batch_size
        predictions: list[Prediction] = []
        with tqdm(total=len(items), disable=not show, desc=self.label, unit="text") as bar:
            for start in range(0, len(items), batch_size):
                chunk = items[start : start + batch_size]
                predictions.extend(self.predictor.predict_batch(chunk))
                bar.update(len(chunk))
        return predictions[0] if single else predictions


def pipeline(model: str | Path = "baseline", *, settings: Settings | None = None) -> Classifier:
    """The model ``model`` names (``baseline``, ``dynamic``, a version number or a bundle
    folder), loaded and verified, as a callable :class:`Classifier`."""
    resolved = resolve_model(str(model), settings=settings or get_settings())
    return Classifier(resolved.load(), label=resolved.label, version=resolved.version)

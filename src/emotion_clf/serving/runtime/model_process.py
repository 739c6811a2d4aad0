"""The served model in a process of its own (``EMOTION_CLF_MODEL_PROCESS=true``).

In a server worker the model's thread and the event loop share one GIL, and every Python step
of one waits for the other: a model beside a thread that runs Python without pause predicts
many times slower than beside a busy process (``research/model_beside_python.py``; the
figures are in ``research/README.md``).

With this setting each model a worker loads lives in a child process (``spawn``). The child
loads, verifies and warms the bundle up itself (:func:`~.loading.load_verified`: checksums and
the registry's digest, the label schema, a smoke prediction), so the worker holds no copy of
the weights. For a batch the worker sends the texts and gets the heads' probabilities back (a
few KB of arrays over the pipe to its own child; the bundle is read as always, from
safetensors and JSON); decoding them into labels stays in the worker, so the
predictions are exactly the in-process ones. :class:`ProcessPredictor` is the worker's handle:
a :class:`~emotion_clf.models.base.Predictor` like any other; where it behaves differently (a
call may first have to start its process again), it says so through the interface's
``out_of_process``, and the batcher never runs it on the event loop. The process itself is a
:class:`~.child.ModelChild`, the handle the shadow candidate uses too.

A swap starts a new child; the old one stops when its predictor is dropped (the last request
that started on it has its answer). A child found dead is started again, from the same
verified bundle in the local cache, before the call goes to it; one that dies during a call
fails that call (``ModelUnavailableError``, a 503) and is started again on the next.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from emotion_clf.models.base import HeadProbabilities, Predictor, ProgressCallback
from emotion_clf.serving.runtime.child import ChildSpec, ModelChild
from emotion_clf.serving.runtime.loading import LoadedModel

if TYPE_CHECKING:
    from emotion_clf.data.loader import Dataset
    from emotion_clf.data.schema import LabelSchema
    from emotion_clf.registry.fetch import ResolvedModel

logger = logging.getLogger(__name__)

SPEC = ChildSpec(name="emotion-clf-model", daemon=True)  # a daemon: it never outlives the worker


class ProcessPredictor(Predictor):
    """A predictor whose model runs in a child process; decoding happens here."""

    family: ClassVar[str] = "process"

    out_of_process: ClassVar[bool] = True

    def __init__(self, child: ModelChild, schema: LabelSchema, params: dict[str, Any]) -> None:
        super().__init__(schema, **params)
        self._child = child
        weakref.finalize(self, child.stop)  # the process goes when the last request is done

    @property
    def pid(self) -> int | None:
        return self._child.pid

    @property
    def restarts(self) -> int:
        return self._child.restarts

    def predict_proba(self, texts: Sequence[str]) -> HeadProbabilities:
        answer = self._child.call("proba", list(texts))
        assert isinstance(answer, HeadProbabilities)
        return answer

    def close(self) -> None:
        """Stop the child now (it also stops when this predictor is garbage)."""
        self._child.stop()

    def fit(
        self,
        train: Dataset,
        validation: Dataset | None = None,
        *,
        progress: ProgressCallback | None = None,
        sources: Any = None,
    ) -> NoReturn:
        raise NotImplementedError("a served model is not trained")

    def save_state(self, folder: Path) -> NoReturn:
        raise NotImplementedError("a served model is saved by training, not by the server")

    @classmethod
    def load_state(cls, folder: Path, *, schema: LabelSchema, params: Any) -> NoReturn:
        raise NotImplementedError("load a bundle with load_in_process")


def load_in_process(
    resolved: ResolvedModel,
    *,
    expected_schema: LabelSchema,
    warmup_sizes: Sequence[int],
    started: float | None = None,
) -> LoadedModel:
    """:func:`~.loading.load_verified`, done by a new child process that then serves the model.

    Raises what ``load_verified`` raises (the child's error, raised here).
    """
    started = time.perf_counter() if started is None else started
    child = ModelChild(SPEC)
    try:
        metadata, schema, params = child.load(
            resolved, schema=expected_schema, warmup_sizes=warmup_sizes
        )
    except BaseException:
        child.stop()
        raise
    predictor = ProcessPredictor(child, schema, params)
    metadata.update(loaded_at=datetime.now(UTC), load_seconds=time.perf_counter() - started)
    return LoadedModel(predictor=predictor, **metadata)

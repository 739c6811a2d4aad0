"""The served model in a process of its own (``EMOTION_CLF_MODEL_PROCESS=true``).

In a server worker the model's thread and the event loop share one GIL, and every Python step
of one waits for the other. ``benchmarks/experiments/model_beside_python.py`` puts a number on
it: tfidf's ``predict_batch`` beside a thread that runs Python without pause made 387 instead of
9,457 sentences/s and spent 217 instead of 106 µs of CPU per sentence; beside a busy process,
10,148 sentences/s.

With this setting each model a worker loads lives in a child process (``spawn``). The child
loads, verifies and warms the bundle up itself (:func:`~.loading.load_verified`: checksums and
the registry's digest, the label schema, a smoke prediction), so the worker holds no copy of
the weights. For a batch the worker sends the texts and gets the heads' probabilities back (a
few KB of arrays over the pipe to its own child; the bundle is read as always, from
safetensors and JSON); decoding them into labels stays in the worker, so the
predictions are exactly the in-process ones. :class:`ProcessPredictor` is the worker's handle:
a :class:`~emotion_clf.models.base.Predictor` like any other, so the holder, the batcher and the
routes do not know the difference.

A swap starts a new child; the old one stops when its predictor is dropped (the last request
that started on it has its answer). A child found dead is started again, from the same
verified bundle in the local cache, before the call goes to it; one that dies during a call
fails that call (``ModelUnavailableError``, a 503) and is started again on the next.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from emotion_clf.errors import BundleError, EmotionClfError, ModelUnavailableError
from emotion_clf.models.base import HeadProbabilities, Predictor, ProgressCallback
from emotion_clf.serving.child import answer_messages, start_child, stop_child
from emotion_clf.serving.loading import LoadedModel

if TYPE_CHECKING:
    from emotion_clf.data.loader import Dataset
    from emotion_clf.data.schema import LabelSchema
    from emotion_clf.registry.fetch import ResolvedModel

logger = logging.getLogger(__name__)

_METADATA = tuple(f.name for f in fields(LoadedModel) if f.name != "predictor")


def _serve(conn: Connection) -> None:
    """The child: load one model, then answer until the pipe closes or ``stop`` comes."""
    from emotion_clf.serving.loading import load_verified

    predictor: Predictor | None = None

    def handle(message: tuple[Any, ...]) -> Any:
        nonlocal predictor
        if message[0] == "proba":
            if predictor is None:
                raise ModelUnavailableError("the model process has no model loaded")
            return predictor.predict_proba(message[1])
        if message[0] == "load":
            _, resolved, schema, warmup_sizes = message
            loaded = load_verified(resolved, expected_schema=schema, warmup_sizes=warmup_sizes)
            predictor = loaded.predictor
            metadata = {name: getattr(loaded, name) for name in _METADATA}
            return metadata, predictor.schema, predictor.params()
        raise ValueError(f"unknown operation {message[0]!r}")

    # a failure is raised again in the worker: a 503 or a refused bundle
    answer_messages(conn, handle, error=_error)


def _error(exc: Exception) -> tuple[str, str]:
    """What the worker needs of a failure in the child: its kind and its text (plain strings:
    no object of the child's is rebuilt in the worker)."""
    text = str(exc) if isinstance(exc, EmotionClfError) else f"{type(exc).__name__}: {exc}"
    return ("unavailable" if isinstance(exc, ModelUnavailableError) else "bundle", text)


def _raise(error: tuple[str, str]) -> NoReturn:
    kind, text = error
    raise ModelUnavailableError(text) if kind == "unavailable" else BundleError(text)


class _Child:
    """One child process and its pipe; calls are blocking and go one at a time."""

    def __init__(self, resolved: ResolvedModel, schema: LabelSchema, warmup: Sequence[int]):
        self._load = ("load", resolved, schema, tuple(warmup))
        self._lock = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._closed = False  # set at shutdown: no restart after it
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> Any:
        """Start the process and load the model; what the child reports about it."""
        with self._lock:
            return self._start()

    def call(self, message: tuple[Any, ...]) -> Any:
        with self._lock:
            if self._closed:
                raise ModelUnavailableError("the model process is stopped: the server is closing")
            if self._conn is None or self._process is None or not self._process.is_alive():
                self._stop()
                self.restarts += 1
                logger.warning("model process gone; starting it again (restart %d)", self.restarts)
                self._start()
            assert self._conn is not None
            try:
                self._conn.send(message)
                status, answer = self._conn.recv()
            except (EOFError, OSError) as exc:
                self._stop()  # the next call starts a new one
                raise ModelUnavailableError(
                    "the model process stopped; it is being restarted"
                ) from exc
        if status != "ok":
            _raise(answer)
        return answer

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            self._stop()

    def _start(self) -> Any:
        # a daemon: it never outlives the worker
        process, ours = start_child(_serve, name="emotion-clf-model", daemon=True)
        self._process, self._conn = process, ours
        try:
            ours.send(self._load)
            status, answer = ours.recv()
        except (EOFError, OSError) as exc:
            self._stop()
            raise BundleError(
                f"the model process exited while loading ({exc or 'closed'})"
            ) from exc
        if status != "ok":
            self._stop()
            _raise(answer)
        logger.info("model process %d started", process.pid)
        return answer

    def _stop(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        stop_child(process, conn)


class ProcessPredictor(Predictor):
    """A predictor whose model runs in a child process; decoding happens here."""

    family: ClassVar[str] = "process"

    def __init__(self, child: _Child, schema: LabelSchema, params: dict[str, Any]) -> None:
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
        answer = self._child.call(("proba", list(texts)))
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
    child = _Child(resolved, expected_schema, warmup_sizes)
    metadata, schema, params = child.start()
    predictor = ProcessPredictor(child, schema, params)
    metadata.update(loaded_at=datetime.now(UTC), load_seconds=time.perf_counter() - started)
    return LoadedModel(predictor=predictor, **metadata)

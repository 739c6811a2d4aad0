"""A model in a child process of a server worker: the one handle every such child uses.

Two runners live in a child: the served model when ``EMOTION_CLF_MODEL_PROCESS`` is on
(:mod:`.model_process`), and the shadow candidate (:mod:`.shadow`), which runs at the lowest
CPU priority with one thread so that on busy cores the kernel runs the live path first. They
differ only in their :class:`ChildSpec`; :class:`ModelChild` does the rest for both:

- the child is started with ``spawn`` (no state of the worker is inherited), sets its priority
  and thread count before any heavy import, then loads, verifies and warms its model up itself
  (:func:`~.loading.load_verified`), so the worker holds no copy of the weights;
- the protocol is one pickled message each way over a pipe: ``("load", resolved, schema,
  warm-up sizes)`` answered with the loaded model's description, ``("proba", texts)`` with the
  heads' probabilities (decoded in the worker), ``("predict", texts)`` with decoded
  predictions, ``("stop",)``;
- calls block (the worker makes them from a thread) and go one at a time;
- a child found dead is started again, with the same model, before the next call goes to it;
  one that dies during a call fails that call (``ModelUnavailableError``, a 503);
- a child never outlives its worker: it exits when its pipe closes, and is killed if it does
  not stop when asked.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any, NoReturn

from emotion_clf.errors import BundleError, EmotionClfError, ModelUnavailableError

if TYPE_CHECKING:  # the worker needs none of these to talk to its child
    from emotion_clf.data.schema import LabelSchema
    from emotion_clf.registry.fetch import ResolvedModel

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ChildSpec:
    """How a child runs: its process name, whether it is a daemon (a daemon cannot start
    processes of its own), the niceness it adds to the worker's, and its torch/OpenMP thread
    count (``None``: the library's default)."""

    name: str
    daemon: bool = True
    nice: int = 0
    threads: int | None = None


def _serve(conn: Connection, spec: ChildSpec) -> None:
    """The child: priority and threads first (every thread it starts inherits them), then heavy
    imports, then answer until the pipe closes or ``stop`` comes."""
    if spec.nice:
        os.nice(spec.nice)
    if spec.threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(spec.threads)
    from emotion_clf.serving.runtime.loading import LoadedModel, load_verified

    metadata_fields = tuple(f.name for f in fields(LoadedModel) if f.name != "predictor")
    predictor: Any = None

    def handle(message: tuple[Any, ...]) -> Any:
        nonlocal predictor
        op = message[0]
        if op in ("proba", "predict"):
            if predictor is None:
                raise ModelUnavailableError("the model process has no model loaded")
            texts = message[1]
            return (
                predictor.predict_proba(texts) if op == "proba" else predictor.predict_batch(texts)
            )
        if op == "load":
            _, resolved, schema, warmup_sizes = message
            loaded = load_verified(resolved, expected_schema=schema, warmup_sizes=warmup_sizes)
            predictor = loaded.predictor
            metadata = {name: getattr(loaded, name) for name in metadata_fields}
            return metadata, predictor.schema, predictor.params()
        raise ValueError(f"unknown operation {op!r}")

    # a failure is raised again in the worker: a 503 or a refused bundle; the child goes on
    _answer_messages(conn, handle)


def _answer_messages(conn: Connection, handle: Callable[[tuple[Any, ...]], Any]) -> None:
    """Answer each message ``("ok", handle(message))``, or ``("error", (kind, text))`` when
    ``handle`` raises, until ``("stop",)`` comes or the worker's end of the pipe closes."""
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the worker is gone
            return
        if message[0] == "stop":
            return
        try:
            answer = handle(message)
        except Exception as exc:
            conn.send(("error", _error(exc)))
        else:
            conn.send(("ok", answer))


def _error(exc: Exception) -> tuple[str, str]:
    """What the worker needs of a failure in the child: its kind and its text (plain strings:
    no object of the child's is rebuilt in the worker)."""
    text = str(exc) if isinstance(exc, EmotionClfError) else f"{type(exc).__name__}: {exc}"
    return ("unavailable" if isinstance(exc, ModelUnavailableError) else "bundle", text)


def _raise(error: tuple[str, str]) -> NoReturn:
    kind, text = error
    raise ModelUnavailableError(text) if kind == "unavailable" else BundleError(text)


def _stop_child(process: BaseProcess | None, conn: Connection | None) -> None:
    """Ask the child to stop, close the pipe, and kill it if it is still there after a while."""
    if conn is not None:
        with contextlib.suppress(OSError, ValueError):
            conn.send(("stop",))
        conn.close()
    if process is not None:
        process.join(STOP_TIMEOUT_S)
        if process.is_alive():
            process.kill()
            process.join(STOP_TIMEOUT_S)


class ModelChild:
    """One child process holding one model at a time, and its pipe.

    :meth:`load` starts the process if it is not running and (re)loads a model in it; after
    that, :meth:`call` restarts a child found dead with the last model loaded. After
    :meth:`stop` every call is refused.
    """

    def __init__(self, spec: ChildSpec) -> None:
        self.spec = spec
        self.restarts = 0
        self._load: tuple[Any, ...] | None = None  # the last load message: replayed on restart
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._closed = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def load(
        self, resolved: ResolvedModel, *, schema: LabelSchema, warmup_sizes: Sequence[int]
    ) -> tuple[dict[str, Any], LabelSchema, dict[str, Any]]:
        """Load ``resolved`` in the child (starting it first if need be): the loaded model's
        description, label schema and parameters. Raises what ``load_verified`` raises."""
        message = ("load", resolved, schema, tuple(warmup_sizes))
        with self._lock:
            self._refuse_if_closed()
            if not self.running:
                self._start()
            answer = self._exchange(message, loading=True)
            self._load = message
        metadata, child_schema, params = answer
        return metadata, child_schema, params

    def call(self, op: str, texts: list[str]) -> Any:
        """``proba`` or ``predict`` on the loaded model; a dead child is started again (and its
        model reloaded) first."""
        with self._lock:
            self._refuse_if_closed()
            if self._load is None:
                raise ModelUnavailableError("the model process has no model loaded")
            if not self.running or self._conn is None:
                self._stop()
                self.restarts += 1
                logger.warning(
                    "%s process gone; starting it again (restart %d)",
                    self.spec.name,
                    self.restarts,
                )
                self._start()
                self._exchange(self._load, loading=True)
            return self._exchange((op, texts), loading=False)

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            self._stop()

    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise ModelUnavailableError("the model process is stopped: the server is closing")

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(theirs, self.spec), name=self.spec.name, daemon=self.spec.daemon
        )
        process.start()
        theirs.close()
        self._process, self._conn = process, ours
        logger.info("%s process %d started (nice +%d)", self.spec.name, process.pid, self.spec.nice)

    def _exchange(self, message: tuple[Any, ...], *, loading: bool) -> Any:
        conn = self._conn
        assert conn is not None
        try:
            conn.send(message)
            status, answer = conn.recv()
        except (EOFError, OSError) as exc:
            self._stop()  # the next call starts a new one
            if loading:
                raise BundleError(
                    f"the model process exited while loading ({exc or 'closed'})"
                ) from exc
            raise ModelUnavailableError("the model process stopped; it is being restarted") from exc
        if status != "ok":
            if loading:
                self._stop()
            _raise(answer)
        return answer

    def _stop(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        _stop_child(process, conn)

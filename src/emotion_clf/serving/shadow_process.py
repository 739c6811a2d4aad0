"""The candidate's own process: shadow predictions share neither the GIL nor the CPU priority
of the server's live path.

A thread of the server (even at nice 19) still took the GIL from the event loop for every
Python step of the candidate's prediction: with shadow traffic at rate 1.0 one client waited
8 ms longer for minilm and 5.6 ms longer for tfidf
(``benchmarks/results/serving_throughput_shadow.json``; 10-12 ms at nice 19 in
``serving_throughput_cut.json``). The candidate now lives in a process
of its own, started with ``spawn`` and run at nice 19 with one torch thread, so on busy cores
the kernel runs the live path first and the shadow takes what is left.

The protocol is one pickled message each way over a pipe: ``("load", ResolvedModel)`` answered
with the loaded model's description, ``("predict", texts)`` answered with the predictions,
``("stop",)``. Calls block (the server makes them from a worker thread) and go one at a time.
The process exits when the pipe closes, so it never outlives the server.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from emotion_clf.serving.child import answer_messages, start_child, stop_child

if TYPE_CHECKING:  # the server's process needs none of these to talk to the candidate
    from emotion_clf.models.base import Prediction
    from emotion_clf.registry.fetch import ResolvedModel

logger = logging.getLogger(__name__)

NICE = 19


class ShadowProcessError(Exception):
    """The candidate's process failed to load or predict, or is gone."""


@dataclass(frozen=True)
class ShadowModel:
    """What the server knows of the candidate its shadow process holds."""

    version: str | None
    label: str


def _serve(conn: Connection) -> None:
    """The shadow process: lowest priority, one torch thread, then answer until the pipe
    closes. Heavy imports happen here, after the priority and thread settings."""
    os.nice(NICE)  # before any thread exists: every thread it starts inherits it
    os.environ["OMP_NUM_THREADS"] = "1"
    from emotion_clf.data.schema import SCHEMA
    from emotion_clf.serving.loading import load_verified

    predictor = None

    def handle(message: tuple[Any, ...]) -> Any:
        nonlocal predictor
        if message[0] == "load":
            loaded = load_verified(message[1], expected_schema=SCHEMA, warmup_sizes=(1,))
            predictor = loaded.predictor
            return ShadowModel(loaded.version, loaded.label)
        if message[0] == "predict":
            if predictor is None:
                raise ShadowProcessError("no candidate is loaded")
            return list(predictor.predict_batch(message[1]))
        raise ShadowProcessError(f"unknown operation {message[0]!r}")

    # reported to the server, which logs it; the process goes on
    answer_messages(conn, handle, error=lambda exc: f"{type(exc).__name__}: {exc}")


class ShadowProcess:
    """The server's handle on the shadow process; started on first use, restarted after it
    dies. Blocking: call from a worker thread."""

    def __init__(self) -> None:
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def load(self, resolved: ResolvedModel) -> ShadowModel:
        """Load the candidate, starting (or restarting) the process first if need be."""
        answer = self._call(("load", resolved), start=True)
        assert isinstance(answer, ShadowModel)
        return answer

    def predict(self, texts: list[str]) -> list[Prediction]:
        answer = self._call(("predict", texts), start=False)
        assert isinstance(answer, list)
        return answer

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _call(self, message: tuple[Any, ...], *, start: bool) -> Any:
        with self._lock:
            if not start and (not self.running or self._conn is None):
                self._stop()
                raise ShadowProcessError("the shadow process is not running")
            conn = self._started()
            try:
                conn.send(message)
                status, answer = conn.recv()
            except (EOFError, OSError) as exc:
                self._stop()
                raise ShadowProcessError(f"the shadow process is gone ({exc or 'closed'})") from exc
        if status != "ok":
            raise ShadowProcessError(str(answer))
        return answer

    def _started(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._conn is not None:
            return self._conn
        self._stop()
        process, ours = start_child(_serve, name="emotion-clf-shadow")
        self._process, self._conn = process, ours
        logger.info("shadow process %d started (nice %d)", process.pid, NICE)
        return ours

    def _stop(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        stop_child(process, conn)

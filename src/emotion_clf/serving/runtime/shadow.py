"""Shadow traffic: the candidate (``dynamic``) predicts a sample of live requests, off the path.

With ``EMOTION_CLF_SHADOW_RATE`` above 0 the server also loads the version designated
``dynamic`` (verified like the served one) and hands it a sampled share of the texts it
predicts. A request never waits for the shadow model: sampling is one random draw and a
``put_nowait`` into a bounded queue (``EMOTION_CLF_SHADOW_QUEUE``; when it is full the sample is
dropped and counted), and one background task hands the queue to the candidate, which lives
in a process of its own at the lowest CPU priority with one thread (a :class:`~.child.ModelChild`,
the handle the model process uses too): a thread of the server, even at nice 19, would still
take the interpreter lock from the event loop for every Python step of the candidate's
prediction; a process at nice 19 lets the kernel run the live path first on busy cores, and the
shadow takes what is left. Its
answers go to the prediction log with the route ``shadow:<route>`` and the request id of the
live answer, so :mod:`emotion_clf.monitoring.shadow` can pair them
(``emotion-clf shadow-report``). The candidate is re-read from the registry every
``poll_s`` (or 60 s when polling is off); if it cannot be loaded, shadowing pauses and
the live path is untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from emotion_clf.data.schema import SCHEMA
from emotion_clf.errors import EmotionClfError
from emotion_clf.monitoring.predictions import PredictionRecord
from emotion_clf.registry.source import ModelSource
from emotion_clf.serving.runtime.child import ChildSpec, ModelChild
from emotion_clf.serving.runtime.predlog import PredictionLog, utc_now

logger = logging.getLogger(__name__)

SHADOW_PREFIX = "shadow:"
Sample = tuple[list[str], str, str | None]  # texts, route, request id
NICE = 19
# not a daemon, which could start no process of its own; it exits when its pipe closes, so it
# never outlives the server either
SPEC = ChildSpec(name="emotion-clf-shadow", daemon=False, nice=NICE, threads=1)


@dataclass(frozen=True)
class ShadowModel:
    """What the server knows of the candidate its shadow process holds."""

    version: str | None
    label: str


class Shadow:
    def __init__(
        self,
        *,
        source: ModelSource,
        predlog: PredictionLog,
        rate: float,
        queue_size: int,
        recheck_s: float,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.source = source
        self.predlog = predlog
        self.rate = rate
        self.recheck_s = recheck_s
        self.model: ShadowModel | None = None  # what the shadow process holds
        self.dropped = 0
        self.predicted = 0
        self._draw = draw
        self._queue: asyncio.Queue[Sample] = asyncio.Queue(maxsize=max(1, queue_size))
        self._tasks: list[asyncio.Task[None]] = []
        self._child = ModelChild(SPEC)
        self._executor: ThreadPoolExecutor | None = None  # waits on the process, one call at a time

    @property
    def process_pid(self) -> int | None:
        return self._child.pid

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadow")
        self._tasks = [
            asyncio.create_task(self._keep_loaded(), name="shadow-load"),
            asyncio.create_task(self._consume(), name="shadow-predict"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await asyncio.to_thread(self._child.stop)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def offer(self, texts: Sequence[str], *, route: str, request_id: str | None) -> None:
        """Maybe queue ``texts`` for the candidate; never blocks, never raises."""
        if self.model is None or self._draw() >= self.rate:
            return
        try:
            self._queue.put_nowait((list(texts), route, request_id))
        except asyncio.QueueFull:
            self.dropped += 1

    async def _keep_loaded(self) -> None:
        while True:
            try:
                await self._load_if_moved()
            except EmotionClfError as exc:
                logger.warning("shadow model not loaded (shadowing paused): %s", exc)
                self.model = None
            except Exception:  # the live path must not care: log, and try again later
                logger.exception("shadow model load failed (shadowing paused)")
                self.model = None
            await asyncio.sleep(self.recheck_s)

    async def _load_if_moved(self) -> None:
        version = await asyncio.to_thread(self.source.designated_version)
        if version is None:
            self.model = None
            return
        if self.model is not None and self.model.version == version:
            return
        resolved = await asyncio.to_thread(self.source.fetch)
        self.model = None  # no samples are offered while the process swaps candidates
        loop = asyncio.get_running_loop()
        metadata, _, _ = await loop.run_in_executor(
            self._executor,
            lambda: self._child.load(resolved, schema=SCHEMA, warmup_sizes=(1,)),
        )
        version = metadata["version"]
        self.model = ShadowModel(version, f"v{version}" if version else "an unversioned bundle")
        logger.info(
            "shadow traffic: candidate %s loaded in process %s", self.model.label, self._child.pid
        )

    async def _consume(self) -> None:
        while True:
            texts, route, request_id = await self._queue.get()
            model = self.model
            if model is None:
                continue
            started = time.perf_counter()
            try:
                predictions = await asyncio.get_running_loop().run_in_executor(
                    self._executor, self._child.call, "predict", texts
                )
            except EmotionClfError as exc:  # a candidate that fails is a finding
                logger.warning("the shadow model failed on a sample: %s", exc)
                if not self._child.running:  # it died: reloaded at the next check
                    self.model = None
                continue
            except Exception:  # the live path must not care: log, and go on
                logger.exception("shadow prediction failed")
                continue
            latency_ms = (time.perf_counter() - started) * 1000
            now = utc_now()
            self.predlog.put(
                PredictionRecord(
                    time=now,
                    model_version=model.version,
                    route=SHADOW_PREFIX + route,
                    request_id=request_id,
                    text=text,
                    prediction=prediction,
                    latency_ms=latency_ms,
                )
                for text, prediction in zip(texts, predictions, strict=True)
            )
            self.predicted += len(texts)

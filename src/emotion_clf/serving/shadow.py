"""Shadow traffic: the candidate (``dynamic``) predicts a sample of live requests, off the path.

With ``EMOTION_CLF_SHADOW_RATE`` above 0 the server also loads the version designated
``dynamic`` (verified like the served one) and hands it a sampled share of the texts it
predicts. A request never waits for the shadow model: sampling is one random draw and a
``put_nowait`` into a bounded queue (``EMOTION_CLF_SHADOW_QUEUE``; when it is full the sample is
dropped and counted), and one background task predicts the queue in a thread of its own that
runs at the lowest CPU priority (nice 19, with the threads its model starts): on busy cores the
kernel runs the live path first, and the shadow takes what is left. Its
answers go to the prediction log with the route ``shadow:<route>`` and the request id of the
live answer, so :mod:`emotion_clf.monitoring.shadow` can pair them
(``emotion-clf shadow-report``). The candidate is re-read from the registry every
``poll_seconds`` (or 60 s when polling is off); if it cannot be loaded, shadowing pauses and
the live path is untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from emotion_clf.data.schema import SCHEMA
from emotion_clf.errors import EmotionClfError
from emotion_clf.monitoring.predictions import PredictionRecord
from emotion_clf.registry.source import ModelSource
from emotion_clf.serving.loading import LoadedModel, load_verified
from emotion_clf.serving.predlog import PredictionLog, utc_now

logger = logging.getLogger(__name__)

SHADOW_PREFIX = "shadow:"
Sample = tuple[list[str], str, str | None]  # texts, route, request id
LOWEST_PRIORITY = 19


def lower_this_thread() -> None:
    """Run the calling thread (and the threads it starts, which inherit it) at nice 19.

    Linux keeps a nice value per thread; elsewhere this is a no-op.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)
    except (AttributeError, OSError) as exc:  # not Linux, or not allowed: the shadow still runs
        logger.info("shadow thread keeps its priority: %s", exc)


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
        self.model: LoadedModel | None = None
        self.dropped = 0
        self.predicted = 0
        self._draw = draw
        self._queue: asyncio.Queue[Sample] = asyncio.Queue(maxsize=max(1, queue_size))
        self._tasks: list[asyncio.Task[None]] = []
        self._executor: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="shadow", initializer=lower_this_thread
        )
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
        started = time.perf_counter()
        self.model = await asyncio.to_thread(
            load_verified,
            resolved,
            expected_schema=SCHEMA,
            warmup_sizes=(1,),
            started=started,
        )
        logger.info("shadow traffic: candidate %s loaded", self.model.label)

    async def _consume(self) -> None:
        while True:
            texts, route, request_id = await self._queue.get()
            model = self.model
            if model is None:
                continue
            started = time.perf_counter()
            try:
                predictions = await asyncio.get_running_loop().run_in_executor(
                    self._executor, model.predictor.predict_batch, texts
                )
            except Exception:  # a candidate that fails is a finding, not a server error
                logger.exception("the shadow model failed on a sample")
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

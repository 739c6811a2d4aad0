"""Micro-batching: concurrent requests share one call to the model.

Requests put their texts on an asyncio queue, each with the model snapshot it started with.
One collector task takes the first waiting request, adds every other request already queued
for the same model (up to ``max_size`` texts), and, when more requests are on their way
(in flight but not yet queued), waits up to ``max_wait_s`` for them; right after a batch it
also waits, briefly, for the requests that batch answered, which under load come straight back
(:func:`returning_wait`). The batch runs in one
worker thread while the next one gathers, so under load batches grow by themselves, and a
lone request never waits for company it will not get. Some batches run on the event loop's
thread instead (:func:`on_loop`): a lone single text, which has nothing to overlap with, and
a short batch of a model that holds the interpreter lock while it predicts (tfidf), which a
thread would only run in turns with the loop.

A batch only ever holds requests of one model snapshot (requests gathered across a swap run as
one batch per snapshot): a request that started before a swap finishes on the model it started
with.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from emotion_clf.errors import ModelUnavailableError
from emotion_clf.models.base import Prediction, Predictor
from emotion_clf.serving.runtime.metrics import ServingMetrics

logger = logging.getLogger(__name__)


@dataclass
class _Job:
    texts: Sequence[str]
    predictor: Predictor
    future: asyncio.Future[list[Prediction]] = field(repr=False)


def _by_predictor(jobs: list[_Job]) -> list[list[_Job]]:
    """Jobs grouped by model snapshot, oldest first: a batch never mixes two models."""
    groups: dict[int, list[_Job]] = {}
    for job in jobs:
        groups.setdefault(id(job.predictor), []).append(job)
    return list(groups.values())


# the most text a model that holds the interpreter lock predicts on the event loop's thread in
# one call: a few milliseconds of tfidf, well above a full batch of transcript sentences (the
# cost per character: ``python -m benchmarks.tfidf_speed``)
LOOP_CHARS = 4_000


def on_loop(texts: Sequence[str], predictor: Predictor, *, alone: bool) -> bool:
    """Whether a batch runs on the event loop's thread rather than the prediction thread.

    - A model in another process (``Predictor.out_of_process``) never does: a call that
      finds that process dead starts it again, which takes seconds.
    - One text with no other request queued or on its way (``alone``) does: nothing could
      overlap with the call, and the hand-off to the thread and back (waking an idle core each
      way) cost a one-client request more than the call itself.
    - A model that holds the interpreter lock (``Predictor.holds_gil``) does, up to
      :data:`LOOP_CHARS` of text: in the thread it would take turns with the loop for the
      lock, and those hand-offs cost more than they overlap (measured with tfidf, two
      workers, 32 clients: research/README.md).
      A longer batch goes to the thread, where the loop still gets the lock every switch
      interval (5 ms) instead of waiting for the whole call.

    A request that arrives while a batch runs on the loop waits in its socket, as it would
    have waited for the model.
    """
    if predictor.out_of_process:
        return False
    if alone and len(texts) == 1:
        return True
    return predictor.holds_gil and sum(map(len, texts)) <= LOOP_CHARS


# a gathering batch waits for the requests the batch before it answered for at most this share
# of that batch's run time (and never past ``max_wait_s``)
RETURN_SHARE = 0.25


def returning_wait(
    *, expected: int, gathered: int, finished_ago_s: float, last_run_s: float, max_wait_s: float
) -> float:
    """How much longer a gathering batch waits for the requests the last batch answered.

    Under load the clients a batch answers send their next request straight away, but each
    answer leaves at its own moment: a batch that starts on the first of them splits the
    clients into two groups that take turns, each waiting for the other's batch and then its
    own (seen with minilm, one worker, 32 clients: about two batches of latency where one
    would do). Waiting a moment for the rest keeps them in one batch, which also costs less
    than two halves. The wait is bounded by a share (:data:`RETURN_SHARE`) of the last
    batch's run time, so a fast model waits microseconds, and counts from when that batch's
    answers were handed out (``finished_ago_s``), so a server that was idle waits not at all.

    ``expected`` is what the last batch answered plus what was already queued when it
    finished (in the two-group pattern, the other group): those, and not only the queued
    ones, make the next batch. ``expected`` and ``gathered`` count requests, not texts.
    """
    if gathered >= expected:
        return 0.0
    return max(0.0, min(max_wait_s, RETURN_SHARE * last_run_s) - finished_ago_s)


def _run_batch(predictor: Predictor, texts: list[str]) -> list[Prediction]:
    batch = predictor.predict_batch(texts)
    return list(batch)


class MicroBatcher:
    def __init__(
        self,
        *,
        max_size: int,
        max_wait_s: float,
        metrics: ServingMetrics,
        arriving: Callable[[], int] | None = None,
    ) -> None:
        self.max_size = max(1, max_size)
        self.max_wait_s = max(0.0, max_wait_s)
        self.metrics = metrics
        self._arriving = arriving or (lambda: 0)
        self._queue: asyncio.Queue[_Job] | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._pending = 0  # requests queued or running
        self._running: list[_Job] = []  # the batch in the worker thread now
        # the last batch: the requests it answered plus those queued when it finished, how long
        # it ran, when its answers were out
        self._expected = 0
        self._last_run_s = 0.0
        self._finished_at = 0.0

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")
        self._task = asyncio.create_task(self._collect(), name="micro-batcher")

    async def close(self) -> None:
        running = list(self._running)  # cancelling the collector forgets its batch
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # requests still waiting (only if shut-down outran the server's own drain) get a 503
        left = running
        while self._queue is not None and not self._queue.empty():
            left.append(self._queue.get_nowait())
        for job in left:
            if not job.future.done():
                job.future.set_exception(ModelUnavailableError("the server is shutting down"))
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    @property
    def pending(self) -> int:
        return self._pending

    async def predict(self, texts: Sequence[str], predictor: Predictor) -> list[Prediction]:
        """Predictions for ``texts`` on ``predictor``, batched with concurrent requests.

        A request larger than ``max_size`` is cut into chunks, all on the same predictor.
        """
        if self._queue is None:
            raise ModelUnavailableError("the prediction queue is not running")
        loop = asyncio.get_running_loop()
        futures = []
        for start in range(0, len(texts), self.max_size):
            future: asyncio.Future[list[Prediction]] = loop.create_future()
            self._queue.put_nowait(_Job(texts[start : start + self.max_size], predictor, future))
            futures.append(future)
        self._pending += 1
        try:
            if len(futures) == 1:  # the usual case; ``gather`` would cost more a request
                return await futures[0]
            parts = await asyncio.gather(*futures)
        finally:
            self._pending -= 1
        return [p for part in parts for p in part]

    async def _collect(self) -> None:
        assert self._queue is not None
        queue = self._queue
        carry: _Job | None = None
        while True:
            first = carry if carry is not None else await queue.get()
            carry = None
            jobs, size = [first], len(first.texts)
            deadline = time.perf_counter() + self.max_wait_s
            while size < self.max_size:
                job: _Job | None = None
                with contextlib.suppress(asyncio.QueueEmpty):
                    job = queue.get_nowait()
                if job is None:
                    now = time.perf_counter()
                    remaining = deadline - now
                    if self._arriving() <= self._pending:  # nobody else is on the way yet
                        remaining = min(
                            remaining,
                            returning_wait(
                                expected=self._expected,
                                gathered=len(jobs),
                                finished_ago_s=now - self._finished_at,
                                last_run_s=self._last_run_s,
                                max_wait_s=self.max_wait_s,
                            ),
                        )
                    if remaining <= 0:
                        break  # run what we have
                    try:
                        job = await asyncio.wait_for(queue.get(), remaining)
                    except TimeoutError:
                        break
                if size + len(job.texts) > self.max_size:
                    carry = job  # it starts the next batch
                    break
                jobs.append(job)
                size += len(job.texts)
            for group in _by_predictor(jobs):
                await self._execute(group)

    async def _execute(self, jobs: list[_Job]) -> None:
        live = [j for j in jobs if not j.future.done()]  # a cancelled request is skipped
        if not live:
            return
        texts = [t for j in live for t in j.texts]
        self.metrics.batch_size.observe(len(texts))
        loop = asyncio.get_running_loop()
        self._running = live
        queue_empty = self._queue is None or self._queue.empty()
        alone = queue_empty and self._arriving() <= self._pending
        started = time.perf_counter()
        try:
            if on_loop(texts, live[0].predictor, alone=alone):
                predictions = _run_batch(live[0].predictor, texts)
            else:
                predictions = await loop.run_in_executor(
                    self._executor, _run_batch, live[0].predictor, texts
                )
        except Exception as exc:  # handed to every request of the batch, logged there
            for job in live:
                if not job.future.done():
                    job.future.set_exception(exc)
        else:
            offset = 0
            for job in live:
                n = len(job.texts)
                if not job.future.done():
                    job.future.set_result(predictions[offset : offset + n])
                offset += n
        finally:
            self._running = []
            self._last_run_s = time.perf_counter() - started
            self.metrics.batch_duration.observe(self._last_run_s)
            self._expected = len(live) + (self._queue.qsize() if self._queue else 0)
        # the requests just answered write their responses on the loop's next turn, one after
        # another (for 32 minilm clients, most of the time a returning request may be waited
        # for); their clients' next requests can only come after that,
        # so the wait for them (``returning_wait``) counts from when the answers are out
        await asyncio.sleep(0)
        self._finished_at = time.perf_counter()

"""The runtime's parts in one place, and what every prediction does: batch, count by label,
log for drift monitoring, offer to the shadow."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from emotion_clf.models.base import Prediction
from emotion_clf.monitoring.predictions import PredictionRecord
from emotion_clf.serving.runtime.batcher import MicroBatcher
from emotion_clf.serving.runtime.holder import ModelHolder
from emotion_clf.serving.runtime.loading import LoadedModel
from emotion_clf.serving.runtime.metrics import ServingMetrics
from emotion_clf.serving.runtime.predlog import PredictionLog, utc_now
from emotion_clf.serving.runtime.shadow import Shadow
from emotion_clf.serving.runtime.slots import Slots
from emotion_clf.serving.runtime.workers import WorkerGroup
from emotion_clf.speech.transcribe import Transcriber


@dataclass
class ServingState:
    """Everything the HTTP layer runs models with, built by ``create_app`` and started by its
    lifespan."""

    holder: ModelHolder
    batcher: MicroBatcher
    metrics: ServingMetrics
    predlog: PredictionLog
    transcriber: Transcriber  # loads Whisper on the first /predict/media request
    media_executor: ThreadPoolExecutor  # one transcription at a time, off the event loop
    downloads: Slots  # URL downloads at once (async; more are answered 503)
    workers: WorkerGroup | None = None  # the server's other workers (serve --workers N > 1)
    shadow: Shadow | None = None  # the candidate on sampled live traffic (EMOTION_CLF_SHADOW_RATE)

    async def predict(
        self,
        texts: Sequence[str],
        model: LoadedModel,
        *,
        route: str,
        request_id: str | None,
    ) -> list[Prediction]:
        started = time.perf_counter()
        predictions = await self.batcher.predict(texts, model.predictor)
        self.record(texts, predictions, model, route=route, request_id=request_id, started=started)
        if self.shadow is not None:
            self.shadow.offer(texts, route=route, request_id=request_id)
        return predictions

    def record(
        self,
        texts: Sequence[str],
        predictions: Sequence[Prediction],
        model: LoadedModel,
        *,
        route: str,
        request_id: str | None,
        started: float,
    ) -> None:
        latency_ms = (time.perf_counter() - started) * 1000
        self.metrics.count_predictions(predictions)
        now = utc_now()
        self.predlog.put(
            PredictionRecord(
                time=now,
                model_version=model.version,
                route=route,
                request_id=request_id,
                text=text,
                prediction=prediction,
                latency_ms=latency_ms,
            )
            for text, prediction in zip(texts, predictions, strict=True)
        )

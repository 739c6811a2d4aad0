"""The FastAPI application: ``create_app(settings)`` builds it, its lifespan runs it.

Start-up loads the ``baseline`` model (see :mod:`.holder`) before the server reports ready;
with no model it still starts, answers 503 where a model is needed and keeps trying. Shut-down
stops the poll loop, the micro-batcher and the prediction log (which writes what it holds).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from emotion_clf.config import Settings, get_settings
from emotion_clf.registry.source import ModelSource, RegistrySource
from emotion_clf.serving.http.errors import install_handlers
from emotion_clf.serving.http.fastlane import PredictLane
from emotion_clf.serving.http.middleware import InFlight, ServingMiddleware, with_cors
from emotion_clf.serving.http.openapi import install_openapi
from emotion_clf.serving.http.ratelimit import FailureLimiter
from emotion_clf.serving.http.routes import api_router
from emotion_clf.serving.http.routes.media import PATH as MEDIA_PATH
from emotion_clf.serving.runtime.batcher import MicroBatcher
from emotion_clf.serving.runtime.holder import ModelHolder
from emotion_clf.serving.runtime.metrics import METRICS_DIR, ServingMetrics
from emotion_clf.serving.runtime.predlog import PredictionLog
from emotion_clf.serving.runtime.shadow import Shadow
from emotion_clf.serving.runtime.slots import Slots
from emotion_clf.serving.runtime.state import ServingState
from emotion_clf.serving.runtime.workers import WorkerGroup, worker_refresher, worker_state
from emotion_clf.speech.transcribe import Transcriber
from emotion_clf.version import __version__

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Predicts the **emotion** (7), **sub-emotion** (30, always a child of the emotion) and
**intensity** (3) of English text, one text, a batch or a whole transcript (SRT, WebVTT or
JSON segments). The model is the registry's `baseline` version; `POST /refresh-model` (or the
poll loop) swaps in a newly promoted one without failing a request. Every response carries
`X-Model-Version` and `X-Request-ID`.
"""


class ServingApp(FastAPI):
    """FastAPI with the serving middleware and the prediction fast lane in front of it.

    FastAPI wraps every request in its own layers (error, telemetry and body-limit middleware,
    exception handlers, routing) before a route runs; ``front`` sees each HTTP request first
    and hands what it does not answer itself to those layers (:meth:`fastapi_stack`). The
    middleware answers any exception that escapes with a clean 500, as FastAPI's outermost
    layer would.
    """

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.front is not None:
            await self.front(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def fastapi_stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def build_state(settings: Settings, in_flight: InFlight, source: ModelSource) -> ServingState:
    run_dir = settings.serving.serve_run_dir
    metrics = ServingMetrics(multiprocess_dir=run_dir / METRICS_DIR if run_dir else None)
    holder = ModelHolder(settings=settings.serving, metrics=metrics, source=source)
    workers = None
    if run_dir is not None:
        workers = WorkerGroup(
            run_dir,
            expected=settings.serving.serve_workers,
            timeout_s=settings.serving.peer_timeout_s,
            refresh=worker_refresher(holder),
            state=lambda: worker_state(holder),
        )
    predlog = PredictionLog(
        settings.monitoring_dir / "predictions",
        max_queue=settings.serving.prediction_log_queue,
        with_text=settings.serving.log_prediction_text,
        on_drop=metrics.prediction_log_dropped.inc,
        on_write=metrics.prediction_log_written.inc,
    )
    shadow = None
    if settings.serving.shadow_rate > 0:
        shadow = Shadow(
            source=RegistrySource(settings, designation="dynamic"),
            predlog=predlog,
            rate=settings.serving.shadow_rate,
            queue_size=settings.serving.shadow_queue,
            recheck_s=settings.serving.poll_s if settings.serving.poll_s > 0 else 60.0,
        )
    return ServingState(
        holder=holder,
        batcher=MicroBatcher(
            max_size=settings.serving.microbatch_max_size,
            max_wait_s=settings.serving.microbatch_max_wait_s,
            metrics=metrics,
            arriving=in_flight,
        ),
        metrics=metrics,
        transcriber=Transcriber(threads=settings.media.speech_threads),
        media_executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="media"),
        downloads=Slots(settings.media.max_downloads, what="URL downloads"),
        predlog=predlog,
        workers=workers,
        shadow=shadow,
    )


def create_app(settings: Settings | None = None, *, source: ModelSource | None = None) -> FastAPI:
    """The API for ``settings`` (default: the process settings, read from the environment).

    ``source`` is where the model comes from (default: the registry,
    ``settings.serving.serve_model``: ``baseline`` unless set to ``dynamic`` or a pinned
    version).
    """
    settings = settings or get_settings()
    settings.check_server_token()
    in_flight = InFlight()
    state = build_state(
        settings,
        in_flight,
        source or RegistrySource(settings, designation=settings.serving.serve_model),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.predlog.start()
        await state.batcher.start()
        await state.holder.start()
        if state.workers is not None:
            await state.workers.start()
        if state.shadow is not None:
            await state.shadow.start()
        try:
            yield
        finally:
            if state.shadow is not None:
                await state.shadow.close()
            if state.workers is not None:
                await state.workers.close()
            await state.holder.close()
            await state.batcher.close()
            state.holder.stop_model()
            state.media_executor.shutdown(wait=False, cancel_futures=True)
            state.predlog.close()
            state.metrics.close()

    app = ServingApp(
        title="emotion-clf",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load their scripts from a CDN: see .apidocs
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.serving = state
    app.state.refresh_limiter = FailureLimiter(limit=settings.serving.refresh_failures_per_minute)
    install_handlers(app)
    install_openapi(app, settings)
    app.include_router(api_router(settings))
    app.front = with_cors(
        ServingMiddleware(
            PredictLane(app.fastapi_stack, state=state, settings=settings),
            metrics=state.metrics,
            max_body_bytes=settings.serving.max_body_bytes,
            body_limits={MEDIA_PATH: settings.media.max_bytes},
            served_version=lambda: state.holder.served_version,
            in_flight=in_flight,
        ),
        origins=settings.serving.cors_origins,
    )
    return app


def app_from_env() -> FastAPI:
    """The factory uvicorn calls in each worker (``--factory``)."""
    return create_app(get_settings())

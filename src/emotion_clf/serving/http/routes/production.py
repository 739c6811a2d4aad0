"""``GET /production/state``: what the production page shows, polled by it.

Gathered at most once per ``EMOTION_CLF_WEB_POLL_S`` / 2 per worker, however many pages poll
(it reads the registry, the prediction log and the feedback folder), in a thread: none of it
may block the event loop the predictions run on. Live traffic is read on every call, from the
metrics of every worker.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emotion_clf.config import Settings
from emotion_clf.serving.http.web import SECURITY_HEADERS, TrafficWindow, production_state
from emotion_clf.serving.runtime.state import ServingState


class _Cache:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.at = -1e9
        self.value: dict[str, Any] = {}
        self.traffic = TrafficWindow()


def _cache(request: Request) -> _Cache:
    cache = getattr(request.app.state, "production_cache", None)
    if cache is None:
        cache = request.app.state.production_cache = _Cache()
    return cast(_Cache, cache)


async def current_state(request: Request) -> dict[str, Any]:
    settings = cast(Settings, request.app.state.settings)
    serving = cast(ServingState, request.app.state.serving)
    cache = _cache(request)
    async with cache.lock:
        if time.monotonic() - cache.at > settings.serving.web_poll_s / 2:
            model = serving.holder.current
            cache.value = await asyncio.to_thread(
                production_state,
                settings,
                served=model.describe() if model else None,
                served_path=model.path if model else None,
            )
            cache.at = time.monotonic()
        body, _ = await asyncio.to_thread(serving.metrics.exposition)
        traffic = cache.traffic.observe(body.decode("utf-8"))
    workers = serving.workers
    return {
        **cache.value,
        "traffic": traffic,
        "workers": settings.serving.serve_workers if workers is not None else 1,
        "poll_s": settings.serving.web_poll_s,
    }


def production_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/production/state")
    async def state(request: Request) -> JSONResponse:
        headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
        return JSONResponse(await current_state(request), headers=headers)

    return router

"""``GET /production/state``: what the production page shows, polled by it.

Each part is gathered at most once per ``EMOTION_CLF_WEB_POLL_S`` / 2 per worker (and the
slower parts less often: :data:`PARTS`), however many pages poll, in a thread: reading the
registry, the prediction log and the feedback folder must not block the event loop the
predictions run on. Live traffic is read on every call, from the metrics of every worker.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emotion_clf.config import Settings
from emotion_clf.serving.http.web import PARTS, SECURITY_HEADERS, TrafficWindow, gather
from emotion_clf.serving.runtime.state import ServingState


class _Cache:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.at = dict.fromkeys(PARTS, -1e9)
        self.values: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, list[str]] = {}
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
        model = serving.holder.current
        for part, every_s in PARTS.items():
            if time.monotonic() - cache.at[part] > max(settings.serving.web_poll_s / 2, every_s):
                cache.values[part], cache.notes[part] = await asyncio.to_thread(
                    gather, part, settings, served_path=model.path if model else None
                )
                cache.at[part] = time.monotonic()
        body, _ = await asyncio.to_thread(serving.metrics.exposition)
        traffic = cache.traffic.observe(body.decode("utf-8"))
    state: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "served": model.describe() if model else None,
    }
    for part in PARTS:
        state.update(cache.values[part])
    workers = serving.workers
    return {
        **state,
        "notes": [note for part in PARTS for note in cache.notes[part]],
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

"""The API's routers, combined in one place."""

from __future__ import annotations

from fastapi import APIRouter

from emotion_clf.config import Settings
from emotion_clf.serving.http.routes import (
    admin,
    feedback,
    media,
    metrics,
    predict,
    production,
    transcript,
    web,
)


def api_router(settings: Settings) -> APIRouter:
    router = APIRouter()
    router.include_router(predict.router)
    router.include_router(transcript.router)
    router.include_router(media.media_router(settings))
    router.include_router(feedback.router)
    router.include_router(admin.router)
    router.include_router(metrics.router)
    router.include_router(web.web_router(settings))
    if settings.serving.web_app:
        router.include_router(production.production_router())
    if settings.serving.benchmark_routes:
        router.include_router(predict.naive_router)
    return router


__all__ = ["api_router"]

"""The web app's pages and files: ``GET /`` (analyse), ``GET /production``, ``GET /app/...``.

Read-only: the pages call the API's own routes, and the only thing they can change is what
``POST /feedback`` saves. Every answer here carries the content security policy (the server's
own origin only). With ``EMOTION_CLF_WEB_APP=false`` only ``GET /`` stays, redirecting to
``/docs``. These routes are not part of the API, so the OpenAPI document leaves them out.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse, RedirectResponse, Response

from emotion_clf.config import Settings
from emotion_clf.data.schema import SCHEMA
from emotion_clf.serving.http.deps import SettingsDep
from emotion_clf.serving.http.routes.media import speech_available, url_policy
from emotion_clf.serving.http.web import PAGES, SECURITY_HEADERS, asset
from emotion_clf.speech import SPEECH_HINT


def _file(name: str, *, cache: bool) -> Response:
    found = asset(name)
    if found is None:
        raise HTTPException(404, f"no such file of the web app: {name[:100]!r}")
    headers = dict(SECURITY_HEADERS)
    # pages always revalidate (a new version of the server may ship new ones)
    headers["Cache-Control"] = "public, max-age=300" if cache else "no-cache"
    return Response(found.body, media_type=found.media_type, headers=headers)


def app_config(settings: Settings) -> dict[str, Any]:
    """What the pages need to know of this server: labels, limits, speech, URL policy."""
    serving, media = settings.serving, settings.media
    return {
        "labels": {
            "emotion": list(SCHEMA.labels("emotion")),
            "sub_emotion": list(SCHEMA.labels("sub_emotion")),
            "intensity": list(SCHEMA.labels("intensity")),
            "children": {e: list(SCHEMA.children(e)) for e in SCHEMA.labels("emotion")},
        },
        "limits": {
            "max_text_chars": serving.max_text_chars,
            "batch_limit": serving.batch_limit,
            "transcript_max_segments": serving.transcript_max_segments,
            "max_body_bytes": serving.max_body_bytes,
            "media_max_bytes": media.max_bytes,
            "media_max_s": media.max_s,
        },
        "speech": {"available": speech_available(), "hint": SPEECH_HINT},
        "urls": url_policy(media).mode,
        "poll_s": serving.web_poll_s,
    }


def web_router(settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    if not settings.serving.web_app:

        @router.get("/")
        async def to_docs() -> RedirectResponse:
            return RedirectResponse("/docs", status_code=307)

        return router

    @router.get("/")
    async def analyse() -> Response:
        return _file(PAGES["analyse"], cache=False)

    @router.get("/production")
    async def production() -> Response:
        return _file(PAGES["production"], cache=False)

    @router.get("/app/config.json")
    async def config(settings: SettingsDep) -> JSONResponse:
        return JSONResponse(app_config(settings), headers=SECURITY_HEADERS)

    @router.get("/app/{name}")
    async def app_file(name: str) -> Response:
        return _file(name, cache=True)

    return router

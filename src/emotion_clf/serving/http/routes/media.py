"""``POST /predict/media``: speech in an audio or video file (or at a URL), transcribed into
timed sentences off the event loop, then answered like ``/predict/transcript``."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from emotion_clf.batch.inputs import YOUTUBE_HOSTS, download, download_youtube
from emotion_clf.config import Settings
from emotion_clf.data.transcript import Transcript
from emotion_clf.errors import DataError
from emotion_clf.serving.http.deps import CallDep
from emotion_clf.serving.http.errors import UnsupportedMediaTypeError
from emotion_clf.serving.http.routes.transcript import answer_segments
from emotion_clf.serving.http.schemas import TranscriptResponse
from emotion_clf.speech.transcribe import MEDIA_SUFFIXES

PATH = "/predict/media"
RAW_TYPES = ("audio/", "video/", "application/octet-stream")


class MediaURL(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="An http(s) URL of an audio or video file, or a YouTube page")


class MediaInfo(BaseModel):
    duration_s: float
    transcribe_seconds: float
    language: str


class MediaResponse(TranscriptResponse):
    media: MediaInfo


def media_router(settings: Settings) -> APIRouter:
    """The route, with the limits of ``settings`` stated in its OpenAPI document."""
    router = APIRouter(tags=["predict"])
    limits = (
        f"Limits: at most {settings.media.max_bytes:,} bytes (EMOTION_CLF_MEDIA_MAX_BYTES; "
        f"413 above) and {settings.media.max_s:g} seconds of audio "
        "(EMOTION_CLF_MEDIA_MAX_S; 422 above)."
    )
    binary = {"type": "string", "format": "binary", "maxLength": settings.media.max_bytes}
    openapi = {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": binary},
                    }
                },
                "audio/*": {"schema": binary},
                "video/*": {"schema": binary},
                "application/json": {"schema": MediaURL.model_json_schema()},
            },
        }
    }

    @router.post(
        PATH,
        response_model=MediaResponse,
        response_model_exclude_none=True,
        openapi_extra=openapi,
        responses={
            413: {"description": "The file is larger than EMOTION_CLF_MEDIA_MAX_BYTES"},
            415: {"description": "Not an upload, an audio/video body or a JSON URL"},
            422: {"description": "Not decodable media, no speech, too long, or a bad URL"},
            501: {"description": "The server has no speech-to-text (the speech extra)"},
            503: {"description": "No model is loaded yet"},
        },
        summary="Predictions per spoken sentence of an audio or video file",
        description="Send the file as multipart/form-data (field `file`) or as the body "
        '(`Content-Type: audio/...` or `video/...`), or `{"url": ...}` as JSON. The speech '
        "is transcribed into timed sentences (Whisper tiny.en, offline), then each sentence is "
        f"classified as in `/predict/transcript`. {limits}",
    )
    async def predict_media(
        request: Request,
        call: CallDep,
        distributions: Annotated[bool, Query(description="Include full distributions.")] = False,
    ) -> dict[str, Any]:
        workdir = Path(tempfile.mkdtemp(prefix="emotion-clf-media-"))
        try:
            path = await _receive(request, workdir, settings)
            state = call.state
            try:
                result = await asyncio.get_running_loop().run_in_executor(
                    state.media_executor,
                    lambda: state.transcriber.transcribe(path, max_duration_s=settings.media.max_s),
                )
            except DataError as exc:  # its message names the temporary file: not for clients
                raise DataError(exc.reason, field="file") from exc
        finally:
            await asyncio.to_thread(shutil.rmtree, workdir, True)
        if not result.segments:
            raise DataError(f"no speech found in {result.duration_s:.1f} s of audio", field="file")
        answer = await answer_segments(
            call, Transcript("media", result.segments), route=PATH, distributions=distributions
        )
        answer["media"] = {
            "duration_s": round(result.duration_s, 3),
            "transcribe_seconds": round(result.seconds, 3),
            "language": result.language,
        }
        return answer

    return router


async def _receive(request: Request, workdir: Path, settings: Settings) -> Path:
    """The media as a local file: an upload, the raw body, or a download of the URL."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        form = await request.form(max_files=1)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise DataError("the form has no file field 'file'", field="file")
        target = workdir / f"upload{_suffix(upload.filename)}"
        with target.open("wb") as handle:
            await asyncio.to_thread(shutil.copyfileobj, upload.file, handle)
        return target
    if media.startswith(RAW_TYPES):
        target = workdir / "upload.media"
        with target.open("wb") as handle:
            async for chunk in request.stream():
                handle.write(chunk)
        return target
    if media == "application/json":
        try:
            body = MediaURL.model_validate_json(await request.body())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"])) or "body"
            raise DataError(f"{where}: {first['msg']}", field=where) from exc
        return await asyncio.to_thread(_fetch, body.url, workdir, settings)
    raise UnsupportedMediaTypeError(
        f"unsupported Content-Type {media!r}; send multipart/form-data (field 'file'), "
        'an audio/* or video/* body, or application/json {"url": ...}'
    )


def _fetch(url: str, workdir: Path, settings: Settings) -> Path:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise DataError("url: only http(s) URLs are fetched", field="url", value=url)
    if (parsed.hostname or "").lower() in YOUTUBE_HOSTS:
        return download_youtube(url, workdir)
    path, kind = download(url, workdir=workdir, max_bytes=settings.media.max_bytes, timeout_s=60)
    if kind != "media":
        raise DataError(f"url: {url} is not audio or video ({kind})", field="url")
    return path


def _suffix(filename: str | None) -> str:
    suffix = Path(filename or "").suffix.lower()
    return suffix if suffix in MEDIA_SUFFIXES else ".media"

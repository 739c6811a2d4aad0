"""``POST /predict/transcript``: one prediction per cue, with its times, and a summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from emotion_clf.data.timecode import format_timecode
from emotion_clf.data.transcript import Transcript, parse_segments, parse_srt, parse_vtt
from emotion_clf.errors import DataError
from emotion_clf.monitoring.summary import summarise_segments
from emotion_clf.serving.http.deps import CallDep, PredictionCall
from emotion_clf.serving.http.errors import UnsupportedMediaTypeError
from emotion_clf.serving.http.schemas import TranscriptJSON, TranscriptResponse, check_count

router = APIRouter(tags=["predict"])

SRT_TYPES = {"application/x-subrip", "application/srt", "text/srt", "text/x-srt"}
_SEGMENTS_SCHEMA = {
    "type": "object",
    "required": ["segments"],
    "properties": {
        "segments": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["start", "end", "text"],
                "properties": {
                    "start": {"oneOf": [{"type": "number"}, {"type": "string"}]},
                    "end": {"oneOf": [{"type": "number"}, {"type": "string"}]},
                    "text": {"type": "string"},
                },
            },
        }
    },
}
_EXAMPLE_SRT = "1\n00:00:01,000 --> 00:00:03,500\nI can't believe it!\n"
_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _SEGMENTS_SCHEMA},
            "application/x-subrip": {"schema": {"type": "string"}, "example": _EXAMPLE_SRT},
            "text/vtt": {"schema": {"type": "string"}},
        },
    }
}


def parse_body(body: bytes, content_type: str | None) -> Transcript:
    """Dispatch on the media type; ``text/plain`` or none is sniffed (WEBVTT or SRT)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if not body.strip():
        raise DataError(
            "the request body is empty; send an SRT or WebVTT transcript or JSON segments",
            field="body",
        )
    if media == "application/json" or media.endswith("+json"):
        try:
            parsed = TranscriptJSON.model_validate_json(body)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            raise RequestValidationError(errors) from exc
        return parse_segments([(s.start, s.end, s.text) for s in parsed.segments])
    if media not in {"", "text/plain", "text/vtt", *SRT_TYPES}:
        raise UnsupportedMediaTypeError(
            f"unsupported Content-Type {media!r}; send application/json segments, "
            "text/vtt (WebVTT) or application/x-subrip (SRT)"
        )
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"the transcript is not UTF-8 text ({exc.reason} at byte {exc.start})", field="body"
        ) from exc
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if media == "text/vtt" or (media not in SRT_TYPES and text.lstrip().startswith("WEBVTT")):
        return parse_vtt(text)
    return parse_srt(text)


@router.post(
    "/predict/transcript",
    response_model=TranscriptResponse,
    response_model_exclude_none=True,
    openapi_extra=_OPENAPI,
    responses={
        415: {"description": "Unsupported Content-Type"},
        422: {"description": "Malformed transcript; the message names the cue and line"},
        503: {"description": "No model is loaded yet"},
    },
    summary="Predictions per cue of an SRT / WebVTT transcript or JSON segments",
)
async def predict_transcript(
    request: Request,
    call: CallDep,
    distributions: Annotated[bool, Query(description="Include full distributions.")] = False,
) -> dict[str, Any]:
    transcript = parse_body(await request.body(), request.headers.get("content-type"))
    return await answer_segments(
        call,
        transcript,
        route="/predict/transcript",
        distributions=distributions,
    )


async def answer_segments(
    call: PredictionCall, transcript: Transcript, *, route: str, distributions: bool
) -> dict[str, Any]:
    """Predict every segment (within the limits) and answer with times and a summary."""
    settings, model = call.settings, call.model
    segments = transcript.segments
    check_count(
        len(segments),
        limit=settings.serving.transcript_max_segments,
        what="segments",
        setting="EMOTION_CLF_TRANSCRIPT_MAX_SEGMENTS",
    )
    for segment in segments:
        if len(segment.text) > settings.serving.max_text_chars:
            raise DataError(
                f"cue {segment.index} is {len(segment.text)} characters long; the limit is "
                f"{settings.serving.max_text_chars} (EMOTION_CLF_MAX_TEXT_CHARS)",
                field="transcript",
            )
    predictions = await call.state.predict(
        [s.text for s in segments], model, route=route, request_id=call.request_id
    )
    return {
        "model_version": model.version,
        "format": transcript.format,
        "skipped_empty": transcript.skipped_empty,
        "segments": [
            {
                "index": s.index,
                "start": s.start,
                "end": s.end,
                "start_time": format_timecode(s.start, separator="."),
                "end_time": format_timecode(s.end, separator="."),
                "text": s.text,
                **p.to_dict(distributions=distributions),
            }
            for s, p in zip(segments, predictions, strict=True)
        ],
        "summary": summarise_segments(segments, predictions, model.predictor.schema),
    }

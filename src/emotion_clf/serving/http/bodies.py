"""Request bodies of the OpenAPI document that FastAPI cannot derive: what the transcript and
feedback routes read, stated as the server accepts it (see :mod:`.openapi`).

A feedback row that does not fit is kept in quarantine, not refused, so a row is "a
``FeedbackRow``, or anything". SRT and WebVTT bodies are stated by the cues they hold (times in
seconds), with a real file as the example: a client sends the file; a fuzzer writes generated
cues as SRT or WebVTT text. "At least one cue with text" is JSON Schema's ``contains``.
"""

from __future__ import annotations

from typing import Any

from emotion_clf.config import Settings
from emotion_clf.data.schema import EMOTIONS, INTENSITIES, SUB_EMOTION_PARENT
from emotion_clf.data.timecode import MAX_SECONDS
from emotion_clf.serving.http import examples
from emotion_clf.serving.http.schemas import NON_BLANK

LABELS: dict[str, list[str]] = {
    "emotion": list(EMOTIONS),
    "sub_emotion": sorted(SUB_EMOTION_PARENT),
    "intensity": list(INTENSITIES),
}
# a timecode the server reads: [H:]MM:SS[.,mmm], under 7 days
TIMECODE = r"^(?:(?:1[0-5][0-9]|16[0-7]|[0-9]{1,2}):)?[0-5]?[0-9]:[0-5][0-9](?:[.,][0-9]{1,3})?$"


def label_rule(head: str) -> dict[str, Any]:
    return {"type": "string", "enum": LABELS[head]}


def feedback_row_schema() -> dict[str, Any]:
    """A training-ready row: what the triage saves (anything else goes to quarantine)."""
    time = {
        "anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}, {"type": "null"}],
        "description": "Seconds or a timecode (HH:MM:SS[.mmm])",
    }
    return {
        "type": "object",
        "title": "FeedbackRow",
        "description": "A corrected row that is saved for training: labels of the schema "
        "(case and - or _ do not matter; intensity also reads neutral, intense, "
        "overwhelming), the sub-emotion a child of the emotion. `sub-emotion` is read as "
        "`sub_emotion`.",
        "required": ["text", "emotion", "sub_emotion", "intensity"],
        "properties": {
            "text": {"type": "string", "pattern": NON_BLANK, "description": "As classified"},
            "emotion": label_rule("emotion"),
            "sub_emotion": label_rule("sub_emotion"),
            "intensity": label_rule("intensity"),
            "start_time": time,
            "end_time": time,
        },
    }


def feedback_body(example: dict[str, Any]) -> dict[str, Any]:
    """The body of ``/feedback`` and ``/save-feedback``: what the server accepts (2xx).

    Every row is accepted: one that is not a :func:`feedback_row_schema` is kept in quarantine
    with its reason, not refused, so a row's schema is "a FeedbackRow, or anything" (only the
    body as a whole can be refused).
    """
    row = {
        "anyOf": [
            {"$ref": "#/components/schemas/FeedbackRow"},
            {"description": "Any other row: kept in quarantine with the reason, not refused"},
        ]
    }
    rows = {
        "type": "array",
        "minItems": 1,
        "items": row,
        "description": "The corrected rows, at least one",
    }
    source = {"description": "Where the rows come from (any value, kept as text, 500 chars)"}
    legacy_rows = {
        **rows,
        "description": "items, by the origin client's name (read when there is no items)",
    }
    return {
        "schema": {
            "type": "object",
            "description": "`items` (or `feedbackData`, read only where there is no `items`)",
            "properties": {
                "items": rows,
                "source": source,
                "videoTitle": {**source, "description": "source, by the origin client's name"},
            },
            "anyOf": [
                {"required": ["items"]},
                {
                    "required": ["feedbackData"],
                    "properties": {"feedbackData": legacy_rows},
                    "not": {"required": ["items"]},
                },
            ],
        },
        "example": example,
    }


def segments_schema(settings: Settings, *, timecodes: bool) -> dict[str, Any]:
    """The cues of a transcript: what ``/predict/transcript`` reads (``timecodes``: the JSON
    form also takes times as strings)."""
    seconds = {"type": "number", "minimum": 0, "maximum": MAX_SECONDS}
    time = {"anyOf": [seconds, {"type": "string", "pattern": TIMECODE}]} if timecodes else seconds
    limit = settings.serving.transcript_max_segments
    return {
        "type": "object",
        "required": ["segments"],
        "additionalProperties": False,
        "properties": {
            "segments": {
                "type": "array",
                "minItems": 1,
                "maxItems": limit,
                "description": f"1 to {limit} cues (EMOTION_CLF_TRANSCRIPT_MAX_SEGMENTS), each "
                "ending at or after its start (seconds, or HH:MM:SS,mmm / MM:SS.mmm), at least "
                "one with text",
                "items": {
                    "type": "object",
                    "required": ["start", "end", "text"],
                    "properties": {
                        "start": time,
                        "end": time,
                        "text": {
                            "type": "string",
                            "maxLength": settings.serving.max_text_chars,
                            "description": "The cue's text; cues with none are skipped",
                        },
                    },
                },
                "contains": {
                    "type": "object",
                    "required": ["text"],
                    "properties": {"text": {"type": "string", "pattern": NON_BLANK}},
                },
            }
        },
    }


def transcript_body(settings: Settings) -> dict[str, Any]:
    cues = segments_schema(settings, timecodes=False)
    text_form = "{} text; the schema states the cues it holds (times in seconds)"
    return {
        "application/json": {
            "schema": segments_schema(settings, timecodes=True),
            "example": examples.TRANSCRIPT_JSON,
        },
        "application/x-subrip": {
            "schema": {**cues, "description": text_form.format("An SRT file as")},
            "example": examples.TRANSCRIPT_SRT,
        },
        "text/vtt": {
            "schema": {**cues, "description": text_form.format("A WebVTT file as")},
            "example": examples.TRANSCRIPT_VTT,
        },
    }

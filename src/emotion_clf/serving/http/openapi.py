"""The OpenAPI document, made to state every rule the server enforces.

FastAPI derives most of the document from the request models, but some rules live elsewhere:
the limits come from the app's settings (one process may serve apps with different ones), the
non-blank rule is a validator, the label vocabularies are the package's label schema
(:mod:`emotion_clf.data.schema`), and every 4xx/5xx body is this package's own
(:class:`ErrorBody`), not FastAPI's ``HTTPValidationError``. :func:`api_document` takes
FastAPI's document and writes those in, with an example for every route
(:mod:`.examples`), so a generated client or a fuzzer agrees with the server.

Rules JSON Schema cannot state stay in the descriptions: a cue that ends before it starts,
bytes that are not decodable media or hold no speech. The fuzz test's hooks
(``tests/serving/schemathesis_hooks.py``) generate valid data for those two and nothing else.

The bodies of the transcript and feedback routes, which FastAPI cannot derive (they are read
by hand), are in :mod:`.bodies`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from emotion_clf.config import Settings
from emotion_clf.data.schema import HEADS
from emotion_clf.serving.http import examples
from emotion_clf.serving.http.apidocs import install_docs
from emotion_clf.serving.http.bodies import (
    feedback_body,
    feedback_row_schema,
    label_rule,
    transcript_body,
)
from emotion_clf.serving.http.schemas import NON_BLANK

REF = "#/components/schemas/{model}"
ERROR_BODY = "ErrorBody"


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: body, then field names and indices")
    msg: str
    type: str | None = None


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer: a reason and the request id; a 4xx about input names the
    field, and a 422 from validation lists each error."""

    detail: str = Field(description="What was wrong, naming the field")
    request_id: str | None = Field(description="The id in the X-Request-ID header and the log")
    field: str | None = None
    value: Any = None
    allowed: list[str] | None = None
    errors: list[FieldError] | None = Field(default=None, description="Validation errors")


HEAD_SCHEMAS = {
    "emotion": "EmotionOut",
    "sub_emotion": "SubEmotionOut",
    "intensity": "IntensityOut",
}
# a timecode the server reads: [H:]MM:SS[.,mmm], under 7 days
TIMECODE = r"^(?:(?:1[0-5][0-9]|16[0-7]|[0-9]{1,2}):)?[0-5]?[0-9]:[0-5][0-9](?:[.,][0-9]{1,3})?$"
TRANSCRIPT_TYPES = ("application/x-subrip", "text/vtt")


def text_rule(settings: Settings) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": NON_BLANK,
        "maxLength": settings.serving.max_text_chars,
        "description": "Not empty or only whitespace; at most "
        f"{settings.serving.max_text_chars} characters (EMOTION_CLF_MAX_TEXT_CHARS)",
    }


def head_schema(head: str) -> dict[str, Any]:
    """One head's answer, its label one of the vocabulary's."""
    return {
        "type": "object",
        "title": HEAD_SCHEMAS[head],
        "required": ["label", "confidence"],
        "properties": {
            "label": label_rule(head),
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "distribution": {
                "type": "object",
                "description": "Every label's probability (with ?distributions=true)",
                "propertyNames": label_rule(head),
                "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
    }


# (path, request examples by media type, the 2xx answer's example)
_EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {
    "/predict": ({"application/json": examples.PREDICT_REQUEST}, examples.PREDICT_RESPONSE),
    "/predict/batch": ({"application/json": examples.BATCH_REQUEST}, examples.BATCH_RESPONSE),
    "/predict/transcript": ({}, examples.TRANSCRIPT_RESPONSE),
    "/predict/media": ({}, examples.MEDIA_RESPONSE),
    "/feedback": ({}, examples.FEEDBACK_RESPONSE),
    "/save-feedback": ({}, examples.FEEDBACK_RESPONSE),
    "/health": ({}, examples.HEALTH),
    "/ready": ({}, examples.READY),
    "/refresh-model": ({}, examples.REFRESH),
}


def inline_refs(schema: Any, defs: dict[str, Any] | None = None) -> Any:
    """``schema`` with every ``#/$defs/`` reference replaced by its definition (pydantic's
    local references do not resolve inside an OpenAPI document)."""
    if isinstance(schema, dict):
        defs = {**(defs or {}), **schema.get("$defs", {})}
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: inline_refs(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [inline_refs(v, defs) for v in schema]
    return schema


def api_document(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """FastAPI's document for ``app``, with the rules of ``settings`` written in."""
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    text = text_rule(settings)
    schemas["PredictRequest"]["properties"]["text"] = text
    texts = schemas["BatchRequest"]["properties"]["texts"]
    texts.update(
        items=text,
        maxItems=settings.serving.batch_limit,
        description=f"1 to {settings.serving.batch_limit} texts (EMOTION_CLF_BATCH_LIMIT)",
    )
    _write_labels(schemas)
    schemas["FeedbackRow"] = feedback_row_schema()
    for name, model in ErrorBody.model_json_schema(ref_template=REF)["$defs"].items():
        schemas[name] = model
    schemas[ERROR_BODY] = {
        k: v for k, v in ErrorBody.model_json_schema(ref_template=REF).items() if k != "$defs"
    }
    error = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_BODY}"}}}
    for path, operations in doc["paths"].items():
        for operation in operations.values():
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                media["schema"] = inline_refs(media.get("schema", {}))
            if path == "/predict/transcript":
                body.clear()
                body.update(transcript_body(settings))
            elif path in ("/feedback", "/save-feedback"):
                legacy = path == "/save-feedback"
                example = examples.SAVE_FEEDBACK_REQUEST if legacy else examples.FEEDBACK_REQUEST
                body["application/json"] = feedback_body(example)
            if body:  # FastAPI answers a body that is not UTF-8 (or not JSON) with 400
                operation["responses"].setdefault(
                    "400", {"description": "The body is not UTF-8 text, or not JSON"}
                )
                operation["responses"].setdefault(
                    "413",
                    {
                        "description": "The body is larger than "
                        f"{settings.serving.max_body_bytes:,} bytes (EMOTION_CLF_MAX_BODY_BYTES)"
                    },
                )
            for code, response in operation.get("responses", {}).items():
                if code[0] not in "45":
                    continue
                content = response.get("content", {}).get("application/json", {})
                if "HTTPValidationError" in str(content.get("schema", "")) or not content:
                    example = _error(path, code)
                    response["content"] = {
                        "application/json": {**error["application/json"], "example": example}
                    }
            _write_examples(path, operation)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


def _write_labels(schemas: dict[str, Any]) -> None:
    """Each head's answer as its own schema with its labels as an enum, in place of the one
    ``HeadOut`` the Python models share; the transcript summary's keys likewise."""
    for head, name in HEAD_SCHEMAS.items():
        schemas[name] = head_schema(head)
    for schema in schemas.values():
        properties = schema.get("properties", {})
        for head, name in HEAD_SCHEMAS.items():
            if properties.get(head, {}).get("$ref", "").endswith("/HeadOut"):
                properties[head] = {"$ref": f"#/components/schemas/{name}"}
    schemas.pop("HeadOut", None)
    if "TranscriptItem" in schemas:
        for head in HEADS:
            schemas["TranscriptItem"]["properties"][head] = label_rule(head)
    summary = schemas.get("TranscriptSummary", {}).get("properties", {})
    if summary:
        for key in ("dominant_emotion", "dominant_by_duration"):
            summary[key] = {**summary[key], **label_rule("emotion")}
        for key, head in (("emotions", "emotion"), ("sub_emotions", "sub_emotion")):
            summary[key]["propertyNames"] = label_rule(head)
        summary["intensities"]["propertyNames"] = label_rule("intensity")
        summary["mean_confidence"]["propertyNames"] = {"type": "string", "enum": list(HEADS)}
    if "FeedbackRowOutcome" in schemas:
        schemas["FeedbackRowOutcome"]["properties"]["status"]["enum"] = ["saved", "quarantined"]


def _error(path: str, code: str) -> dict[str, Any]:
    if code == "422":
        return examples.VALIDATION_ERROR
    if code == "503":
        return examples.NO_MODEL
    detail = examples.ROUTE_ERRORS.get((path, code)) or examples.ERRORS.get(
        code, "(the reason, naming the field where there is one)"
    )
    return {"detail": detail, "request_id": examples.REQUEST_ID}


def _write_examples(path: str, operation: dict[str, Any]) -> None:
    requests, answer = _EXAMPLES.get(path, ({}, None))
    body = operation.get("requestBody", {}).get("content", {})
    for media_type, example in requests.items():
        if media_type in body:
            body[media_type]["example"] = example
    if answer is None:
        return
    ok = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json")
    if ok is not None:
        ok["example"] = answer
    if path in ("/feedback", "/save-feedback"):
        accepted = operation["responses"].get("202", {}).get("content", {})
        if "application/json" in accepted:
            accepted["application/json"]["example"] = examples.FEEDBACK_QUARANTINED
    if path == "/predict/media" and "422" in operation["responses"]:
        operation["responses"]["422"]["content"]["application/json"]["examples"] = {
            "not fetched": {"value": examples.URL_NOT_FETCHED},
            "invalid": {"value": examples.VALIDATION_ERROR},
        }
        operation["responses"]["422"]["content"]["application/json"].pop("example", None)


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Serve :func:`api_document` at ``/openapi.json`` (built once, on first request), and
    the pages that show it (:func:`.apidocs.install_docs`)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = api_document(app, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    install_docs(app)

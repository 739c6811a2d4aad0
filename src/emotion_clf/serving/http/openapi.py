"""The OpenAPI document, made to state every rule the server enforces.

FastAPI derives most of the document from the request models, but some rules live elsewhere:
the limits come from the app's settings (one process may serve apps with different ones), the
non-blank rule is a validator, and every 4xx/5xx body is this package's own
(:class:`ErrorBody`), not FastAPI's ``HTTPValidationError``. :func:`api_document` takes
FastAPI's document and writes those in, so a generated client or a fuzzer agrees with the
server. Rules JSON Schema cannot state (a cue that ends before it starts, bytes that are not
decodable media, SRT syntax) stay in the descriptions.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from emotion_clf.config import Settings
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


def text_rule(settings: Settings) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": NON_BLANK,
        "maxLength": settings.serving.max_text_chars,
        "description": "Not empty or only whitespace; at most "
        f"{settings.serving.max_text_chars} characters (EMOTION_CLF_MAX_TEXT_CHARS)",
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
                _transcript_rules(body, settings)
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
                    response["content"] = error
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


def _transcript_rules(body: dict[str, Any], settings: Settings) -> None:
    segments = body["application/json"]["schema"]["properties"]["segments"]
    segments["maxItems"] = settings.serving.transcript_max_segments
    segments["items"]["properties"]["text"] = {
        "type": "string",
        "maxLength": settings.serving.max_text_chars,
        "description": "The cue's text; cues with none are skipped",
    }
    segments["description"] = (
        f"1 to {settings.serving.transcript_max_segments} cues "
        "(EMOTION_CLF_TRANSCRIPT_MAX_SEGMENTS), each ending at or after its start, at least one "
        "with text"
    )


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Serve :func:`api_document` at ``/openapi.json`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = api_document(app, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

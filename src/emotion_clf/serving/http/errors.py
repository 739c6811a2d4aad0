"""Errors the HTTP layer raises, and the handlers that turn every error into a JSON answer.

Domain code raises :class:`~emotion_clf.errors.EmotionClfError` subclasses, each with its
``http_status``; one handler maps them all. Validation errors become a 422 naming each field.
Anything unexpected is answered by the middleware (see :mod:`.middleware`) as a 500 with the
request id and nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from emotion_clf.errors import DataError, EmotionClfError
from emotion_clf.serving.http.middleware import context_of, unexpected_answer
from emotion_clf.serving.runtime.errors import public_text

logger = logging.getLogger(__name__)


class AuthError(EmotionClfError):
    """The request lacks a valid bearer token."""

    http_status = 401
    headers: Mapping[str, str] = {"WWW-Authenticate": "Bearer"}


class TooManyRequestsError(EmotionClfError):
    """A client failed too often; it may try again after ``retry_after_s``."""

    http_status = 429

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.headers: Mapping[str, str] = {"Retry-After": str(retry_after_s)}


class RouteDisabledError(EmotionClfError):
    """The route is switched off by configuration."""

    http_status = 403


class PayloadTooLargeError(EmotionClfError):
    """The request body is larger than ``EMOTION_CLF_MAX_BODY_BYTES``."""

    http_status = 413


class UnsupportedMediaTypeError(EmotionClfError):
    """The request body is in a format the route does not read."""

    http_status = 415


def request_id_of(request: Request) -> str | None:
    context = context_of(request.scope)
    return context.request_id if context is not None else None


def _loc(parts: Sequence[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's errors without the echoed input (it can be large, or a secret)."""
    out = []
    for e in errors:
        loc, msg = list(e.get("loc", ())), str(e.get("msg", ""))
        if e.get("type") == "json_invalid" and len(loc) == 2:  # ("body", character offset)
            reason = (e.get("ctx") or {}).get("error")
            msg = f"invalid JSON at character {loc[1]}" + (f": {reason}" if reason else "")
            loc = loc[:1]
        out.append({"loc": loc, "msg": msg, "type": e.get("type")})
    return out


async def handle_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EmotionClfError)
    status = exc.http_status
    body: dict[str, Any] = {"detail": public_text(exc), "request_id": request_id_of(request)}
    if isinstance(exc, DataError):
        body.update(
            {k: v for k, v in exc.to_dict().items() if k in ("field", "value", "allowed") and v}
        )
    details = getattr(exc, "details", None)
    if callable(details):
        body.update(details())
    if status >= 500:
        logger.warning("%s answered %d: %s", request.url.path, status, exc)
    headers = dict(getattr(exc, "headers", {}) or {})
    return JSONResponse(body, status_code=status, headers=headers or None)


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc.errors())
    message = "; ".join(f"{_loc(e['loc'])}: {e['msg']}" for e in errors) or "invalid request"
    return JSONResponse(
        {"detail": message, "errors": errors, "request_id": request_id_of(request)},
        status_code=422,
    )


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):  # FastAPI's "error parsing the body"
        detail = f"body: not UTF-8 text ({cause.reason} at byte {cause.start})"
    return JSONResponse(
        {"detail": detail, "request_id": request_id_of(request)},
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """An exception no handler expected: see :func:`.middleware.unexpected_answer`."""
    return unexpected_answer(exc, request_id_of(request))


def install_handlers(app: FastAPI) -> None:
    # FastAPI's outermost layer answers with this, then raises again for the server to log:
    # the serving middleware logs it, once
    app.add_exception_handler(Exception, handle_unexpected)
    app.add_exception_handler(EmotionClfError, handle_domain_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)

"""One pure-ASGI middleware for what every request needs.

- a request id (``X-Request-ID``: the client's if it is sane, else a new one);
- the body-size limit (413 before the body is read when ``Content-Length`` says so, and while
  reading a body sent without one);
- ``X-Model-Version`` on every response: the version that answered a prediction, else the
  version being served (``none`` before the first load);
- request counts and latency by route and status (Prometheus) and one structured log line;
- a last line of defence: an unexpected exception is logged once, with its traceback and the
  request id, and answered with the documented JSON body: a 500 that shows nothing else, or a
  507 when the disk is full.

:func:`with_cors` puts CORS in front of all of it, where ``EMOTION_CLF_CORS_ORIGINS`` names
origins.
"""

from __future__ import annotations

import errno
import itertools
import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emotion_clf.serving.runtime.metrics import ServingMetrics

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("emotion_clf.serving.access")

CONTEXT_KEY = "emotion_clf.context"
OUT_OF_SPACE = "the server is out of disk space; try again later"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# request ids: a random per-process prefix and a counter (unique across workers and restarts;
# uuid4 reads the OS entropy pool on every request, which shows at high request rates)
_ID_PREFIX = os.urandom(6).hex()
_ID_COUNTER = itertools.count(1)


@dataclass
class RequestContext:
    """What a request carries from the middleware to its route and back."""

    request_id: str
    model_version: str | None = None  # set by a route that used a model snapshot
    route: str | None = None  # the route's template, set where no router matched (fastlane)


def context_of(scope: Scope) -> RequestContext | None:
    context = scope.get(CONTEXT_KEY)
    return context if isinstance(context, RequestContext) else None


class InFlight:
    """How many HTTP requests are being handled now (the micro-batcher reads it)."""

    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        return self.value


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive``; FastAPI lets an ``HTTPException`` through body parsing."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


class ServingMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: ServingMetrics,
        max_body_bytes: int,
        served_version: Callable[[], str | None],
        in_flight: InFlight,
        body_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.body_limits = dict(body_limits or {})  # path -> a limit other than the default
        self.served_version = served_version
        self.in_flight = in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        context = RequestContext(request_id=request_id)
        scope[CONTEXT_KEY] = context
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                version = context.model_version or self.served_version() or "none"
                # appended as raw pairs: no route sets these two headers itself
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"x-request-id", request_id.encode("latin-1")),
                    (b"x-model-version", version.encode("latin-1")),
                ]
            await send(message)

        self.in_flight.value += 1
        limit = self.body_limits.get(scope["path"], self.max_body_bytes)
        try:
            declared = _content_length(scope)
            if declared is not None and declared > limit:
                error = BodyTooLarge(limit)
                await JSONResponse(
                    {"detail": error.detail, "request_id": request_id}, status_code=413
                )(scope, receive, send_with_headers)
            else:
                await self.app(scope, self._limited(receive, limit), send_with_headers)
        except Exception as exc:
            # the one record of an unexpected error, with its traceback: the server's own log
            # never sees it (it would be a second, with the same traceback)
            logger.exception(
                "request %s (%s %s) failed", request_id, scope["method"], scope["path"]
            )
            if not response_started:  # FastAPI's handlers did not answer (the fast lane)
                answer = unexpected_answer(exc, request_id)
                await answer(scope, receive, send_with_headers)
            # else the answer is out (FastAPI's error layer sent it, or a streamed body broke
            # off and the server closes the connection)
        finally:
            self.in_flight.value -= 1
            elapsed = time.perf_counter() - started
            route = context.route or _route_of(scope)
            self.metrics.observe_request(scope["method"], route, status, elapsed)
            if access_logger.isEnabledFor(logging.INFO):
                access_logger.info(
                    "%s",
                    json.dumps(
                        {
                            "event": "request",
                            "request_id": request_id,
                            "method": scope["method"],
                            "route": route,
                            "path": scope["path"],
                            "status": status,
                            "latency_ms": round(elapsed * 1000, 3),
                            "model_version": context.model_version or self.served_version(),
                        }
                    ),
                )

    def _limited(self, receive: Receive, limit: int) -> Receive:
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        return receive_limited


def with_cors(app: ASGIApp, *, origins: Sequence[str]) -> ASGIApp:
    """``app`` behind Starlette's CORS middleware for ``origins`` (none: ``app`` as it is).

    Outermost, in front of the serving middleware and the prediction fast lane: a browser's
    preflight is answered before any route, and every answer to an allowed origin carries the
    CORS headers, the fast lane's and the middleware's own 413 and 500 included, so a page sees
    the error body instead of a bare network error. The headers a page may read are exposed
    (the request id to quote, the model version, Retry-After). No credentials: the API takes
    none from a browser (the refresh token is for operators, and its route allows no origin's
    preflight of an Authorization header).
    """
    if not origins:
        return app
    return CORSMiddleware(
        app,
        allow_origins=list(origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "X-Model-Version", "Retry-After"],
        max_age=600,
    )


def unexpected_answer(exc: Exception, request_id: str | None) -> JSONResponse:
    """The answer to an exception no handler expected: the documented JSON body with the
    request id and nothing of the error (it is logged once, with its traceback, by
    :class:`ServingMiddleware`). A full disk is said plainly: a 507, so that a client knows
    retrying at once will not help."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return JSONResponse(
            {
                "detail": "the server is out of disk space; try again later",
                "request_id": request_id,
            },
            status_code=507,
        )
    return JSONResponse({"detail": "internal error", "request_id": request_id}, status_code=500)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SANE_ID.match(candidate):
                return candidate
            break
    return f"{_ID_PREFIX}{next(_ID_COUNTER):012x}"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _route_of(scope: Scope) -> str:
    """The route's path template (bounded label values), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"

"""The prediction routes' fast lane: a well-formed ``POST /predict`` or ``/predict/batch``
answered without FastAPI's per-request layers.

Under 32 clients with the tfidf model, a profile of the server (py-spy) put far more of a
request's time in FastAPI's layers (exception wrappers, routing, dependency solving, body
parsing, response validation) than in the model: ``GET /health`` alone answered several times
fewer requests a second than a bare ASGI app on the same uvicorn
(``python -m benchmarks.serving_stack_cost``).

The lane does what the routes do, with the same parts: the request model of
:mod:`.schemas` validates the body (pydantic, from the JSON bytes), the same limits apply,
:meth:`ServingState.predict <emotion_clf.serving.runtime.state.ServingState.predict>` batches,
counts and logs, and the response model serialises the answer. Whatever the lane does not take as is
(another content type, a body that breaks a rule, a query parameter other than
``distributions``, no model loaded, a body over the size limit) goes on to the FastAPI route,
body and all, and gets the documented answer from it: error bodies have one source, and the
OpenAPI document still comes from the routes. Tests compare the two paths request by request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emotion_clf.config import Settings
from emotion_clf.contracts import BatchResponse, PredictResponse
from emotion_clf.errors import EmotionClfError
from emotion_clf.models.base import Prediction
from emotion_clf.serving.http.errors import handle_domain_error
from emotion_clf.serving.http.middleware import BodyTooLarge, context_of
from emotion_clf.serving.http.routes.predict import answer_batch, answer_one, check_batch, check_one
from emotion_clf.serving.http.schemas import BatchRequest, PredictRequest
from emotion_clf.serving.runtime.state import ServingState

# the query strings the lane reads itself; FastAPI's bool parsing takes more spellings, and
# any other query string goes to the route
_DISTRIBUTIONS = {
    b"": False,
    b"distributions=false": False,
    b"distributions=true": True,
    b"distributions=0": False,
    b"distributions=1": True,
}


@dataclass(frozen=True)
class _Lane:
    """One route: how to read its body, check it, and shape its answer."""

    texts: Callable[[Any], list[str]]
    check: Callable[[Sequence[str], Settings], None]
    answer: Callable[[str | None, Sequence[Prediction], bool], dict[str, Any]]
    request: type[BaseModel]
    response: TypeAdapter[Any]


LANES: dict[str, _Lane] = {
    "/predict": _Lane(
        texts=lambda body: [body.text],
        check=check_one,
        answer=answer_one,
        request=PredictRequest,
        response=TypeAdapter(PredictResponse),
    ),
    "/predict/batch": _Lane(
        texts=lambda body: list(body.texts),
        check=check_batch,
        answer=answer_batch,
        request=BatchRequest,
        response=TypeAdapter(BatchResponse),
    ),
}


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return False


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("the client went away")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive, error: BaseException | None = None) -> Receive:
    """A ``receive`` that hands the route the body the lane read (or the error it met)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if error is not None:
            raise error
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


class PredictLane:
    """ASGI middleware: the fast lane for the prediction routes, the app for the rest."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        state: ServingState,
        settings: Settings,
    ) -> None:
        self.app = app
        self.state = state
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = LANES.get(scope["path"]) if scope["type"] == "http" else None
        if lane is None or scope["method"] != "POST" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        distributions = _DISTRIBUTIONS.get(scope["query_string"])
        model = self.state.holder.current
        if distributions is None or model is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except BodyTooLarge as exc:
            await self.app(scope, _replay(b"", receive, exc), send)
            return
        texts = self._accepted(lane, body)
        if texts is None:
            await self.app(scope, _replay(body, receive), send)
            return
        context = context_of(scope)
        request_id = context.request_id if context is not None else None
        if context is not None:
            context.model_version = model.version
            context.route = scope["path"]  # the route's template: these paths have no parameters
        try:
            predictions = await self.state.predict(
                texts, model, route=scope["path"], request_id=request_id
            )
        except EmotionClfError as exc:  # as the route's exception handler answers it
            await (await handle_domain_error(Request(scope), exc))(scope, receive, send)
            return
        answer = lane.answer(model.version, predictions, distributions)
        content = lane.response.dump_json(lane.response.validate_python(answer), exclude_none=True)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})

    def _accepted(self, lane: _Lane, body: bytes) -> list[str] | None:
        """The texts of a body the route would take, else ``None`` (the route answers)."""
        try:
            texts = lane.texts(lane.request.model_validate_json(body))
            lane.check(texts, self.settings)
        except (ValidationError, EmotionClfError):
            return None
        return texts

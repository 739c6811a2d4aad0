"""One typed client for an emotion-clf server, used by every caller: ``predict --api``, batch
inference against a server, the health check and the refresh fan-out.

Every answer is read into the same typed models the server writes (:mod:`emotion_clf.contracts`),
and every way a call can fail is one error of :mod:`.errors`: no connection, no answer in
time, an answer that is not JSON (a proxy's 502 page), the server's own error body, or JSON of
another shape. A caller never sees an ``httpx`` exception, a ``KeyError`` on a body or a
traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from emotion_clf.client.errors import (
    ApiAnswerError,
    ApiContractError,
    ApiNotJsonError,
    ApiTimeoutError,
    ApiUnreachableError,
)
from emotion_clf.contracts import (
    BatchResponse,
    ErrorAnswer,
    HealthResponse,
    ModelResponse,
    PredictResponse,
    ReadyResponse,
    RefreshAnswer,
)

Answer = TypeVar("Answer", bound=BaseModel)

DEFAULT_TIMEOUT_S = 60.0
SNIPPET_CHARS = 120


class ApiClient:
    """A connection pool to one server (``base_url``: ``http://host:8000``, or any prefix a
    gateway puts in front of the API's paths). Use it as a context manager, or call
    :meth:`close`.

    ``headers`` go with every request (a gateway's key, say); ``token`` is sent as
    ``Authorization: Bearer`` (the refresh route's). ``transport`` is for tests.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            self._http = httpx.Client(
                base_url=self.base_url, headers=sent, timeout=timeout_s, transport=transport
            )
        except httpx.InvalidURL as exc:
            raise ApiUnreachableError(
                f"{_snippet(base_url)} is not a valid http(s) URL", url=base_url, detail=str(exc)
            ) from exc

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- the API ------------------------------------------------------------------------------
    def predict(self, text: str, *, distributions: bool = False) -> PredictResponse:
        """``POST /predict``."""
        return self._call(
            "POST",
            "/predict",
            PredictResponse,
            json={"text": text},
            params=_distributions(distributions),
        )

    def predict_batch(self, texts: Sequence[str], *, distributions: bool = False) -> BatchResponse:
        """``POST /predict/batch``; a text the server refuses raises :class:`ApiAnswerError`
        whose ``field`` names it (``texts[17]``)."""
        answer = self._call(
            "POST",
            "/predict/batch",
            BatchResponse,
            json={"texts": list(texts)},
            params=_distributions(distributions),
        )
        if len(answer.predictions) != len(texts):
            raise ApiContractError(
                f"{self._url('/predict/batch')} answered {len(answer.predictions)} predictions "
                f"for {len(texts)} texts",
                url=self._url("/predict/batch"),
            )
        return answer

    def health(self) -> HealthResponse:
        return self._call("GET", "/health", HealthResponse)

    def ready(self) -> ReadyResponse:
        """``GET /ready``: a server without a model answers 503 with the same body."""
        return self._call("GET", "/ready", ReadyResponse, answers=(200, 503))

    def model(self) -> ModelResponse:
        return self._call("GET", "/model", ModelResponse)

    def refresh(self, path: str = "/refresh-model") -> RefreshAnswer:
        """``POST /refresh-model`` (``path``: another one, where a gateway maps it; ``""``
        when ``base_url`` already is the refresh route)."""
        return self._call("POST", path, RefreshAnswer)

    # -- raw requests, for probes that judge the answer themselves ------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, answered whatever its status; only a network fault or a timeout
        raises (:class:`ApiUnreachableError`, :class:`ApiTimeoutError`)."""
        url = self._url(path)
        try:
            # "" is the base URL itself: httpx would join it as "<base>/"
            return self._http.request(method, path or self.base_url, **kwargs)
        except httpx.TimeoutException as exc:
            raise ApiTimeoutError(
                f"{url} did not answer within {self.timeout_s:g} s", url=url, detail=str(exc)
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # no usable answer
            raise ApiUnreachableError(
                f"cannot reach {url}: {_network_reason(exc)}", url=url, detail=str(exc)
            ) from exc

    # -- reading answers ----------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        model: type[Answer],
        *,
        answers: Sequence[int] = (200,),
        **kwargs: Any,
    ) -> Answer:
        response = self.request(method, path, **kwargs)
        return read_answer(response, model, url=self._url(path), answers=answers)

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def read_answer(
    response: httpx.Response, model: type[Answer], *, url: str, answers: Sequence[int] = (200,)
) -> Answer:
    """``response`` read as ``model``; every other outcome is an :class:`ApiError`."""
    status = response.status_code
    body = _json_body(response, url=url)
    if status not in answers:
        raise answer_error(status, body, url=url)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "body"
        raise ApiContractError(
            f"{url} answered HTTP {status} with JSON that is not a {model.__name__} "
            f"({where}: {first['msg']}); is it an emotion-clf server of this version?",
            url=url,
        ) from exc


def answer_error(status: int, body: Any, *, url: str) -> ApiAnswerError:
    """The server's error body (``{"detail", "request_id", "field"?}``) as an error."""
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        error = ErrorAnswer.model_validate(body)
        field = body.get("field") if isinstance(body.get("field"), str) else None
        reason = error.detail
    else:  # FastAPI's own shapes, or another service's JSON
        error, field, reason = ErrorAnswer(detail=""), None, _snippet(json.dumps(body))
    return ApiAnswerError(
        f"{url} answered HTTP {status}: {reason}",
        url=url,
        status_code=status,
        reason=reason,
        request_id=error.request_id,
        field=field,
        body=body,
    )


def _json_body(response: httpx.Response, *, url: str) -> Any:
    content_type = response.headers.get("content-type", "")
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        snippet = _snippet(response.text)
        raise ApiNotJsonError(
            f"{url} answered HTTP {response.status_code} with "
            f"{content_type.split(';')[0] or 'no content type'}, not JSON"
            + (f" ({snippet!r})" if snippet else "")
            + "; a proxy or gateway in between, or not an emotion-clf server?",
            url=url,
            status_code=response.status_code,
            content_type=content_type,
            snippet=snippet,
        ) from exc


def _snippet(text: str) -> str:
    """The first line of a body, short: enough to recognise a proxy's page."""
    line = " ".join(text.strip().split())
    return line if len(line) <= SNIPPET_CHARS else line[: SNIPPET_CHARS - 1] + "…"


def _network_reason(exc: httpx.HTTPError | httpx.InvalidURL) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "could not connect (is the server running, and the address right?)"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection closed without a valid HTTP answer"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "not an http(s) URL"
    return type(exc).__name__


def _distributions(on: bool) -> dict[str, str]:
    return {"distributions": "true"} if on else {}

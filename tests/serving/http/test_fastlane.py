"""The prediction fast lane answers exactly as the FastAPI routes do, request by request.

Each request is sent twice to the same running app: once with the lane in front, once with the
lane taken out (every request then reaches the FastAPI route). Status, body (less the request
id), and headers must agree; a counter on the FastAPI stack shows which requests the lane
answered itself, so the comparison is between two different code paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from emotion_clf.errors import ModelUnavailableError
from emotion_clf.serving.http.app import ServingApp
from emotion_clf.serving.http.fastlane import PredictLane
from tests.serving.helpers import build_app

MAX_CHARS = 40
BATCH_LIMIT = 3
MAX_BODY = 1_000
JSON = {"content-type": "application/json"}

# (name, path, request keyword arguments, whether the lane answers it itself)
CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    ("one text", "/predict", {"json": {"text": "  I am so happy for you!  "}}, True),
    ("distributions", "/predict?distributions=true", {"json": {"text": "What a surprise"}}, True),
    ("distributions=0", "/predict?distributions=0", {"json": {"text": "What a day"}}, True),
    (
        "charset",
        "/predict",
        {
            "content": b'{"text":"ok then"}',
            "headers": {"content-type": "application/json; charset=utf-8"},
        },
        True,
    ),
    ("unicode", "/predict", {"json": {"text": "caf\u00e9 \U0001f600 \u00a0tr\u00e8s bien"}}, True),
    ("duplicate key", "/predict", {"content": b'{"text":"a","text":"b c"}', "headers": JSON}, True),
    ("longest allowed", "/predict", {"json": {"text": "y" * MAX_CHARS}}, True),
    ("distributions=yes", "/predict?distributions=yes", {"json": {"text": "fine"}}, False),
    ("distributions=maybe", "/predict?distributions=maybe", {"json": {"text": "fine"}}, False),
    ("other query", "/predict?x=1", {"json": {"text": "fine"}}, False),
    ("blank", "/predict", {"json": {"text": " \u3000\t "}}, False),
    ("too long", "/predict", {"json": {"text": "x" * (MAX_CHARS + 1)}}, False),
    ("not a string", "/predict", {"json": {"text": 5}}, False),
    ("null", "/predict", {"json": {"text": None}}, False),
    ("extra field", "/predict", {"json": {"text": "ok", "lang": "en"}}, False),
    ("no field", "/predict", {"json": {}}, False),
    ("a list", "/predict", {"json": ["text"]}, False),
    ("invalid JSON", "/predict", {"content": b'{"text": "ok"', "headers": JSON}, False),
    ("not UTF-8", "/predict", {"content": b'{"text": "\xff\xfe"}', "headers": JSON}, False),
    ("lone surrogate", "/predict", {"content": b'{"text": "\\ud800 x"}', "headers": JSON}, False),
    ("empty body", "/predict", {"content": b"", "headers": JSON}, False),
    (
        "text/plain",
        "/predict",
        {"content": b'{"text":"ok"}', "headers": {"content-type": "text/plain"}},
        False,
    ),
    ("no content type", "/predict", {"content": b'{"text":"ok"}'}, False),
    # sent in chunks, without Content-Length: the limit trips while the lane reads the body
    (
        "too large",
        "/predict",
        {"chunks": [b'{"text": "', b"z" * MAX_BODY, b'"}'], "headers": JSON},
        False,
    ),
    ("batch", "/predict/batch", {"json": {"texts": ["a good day", "so sad", "ok"]}}, True),
    (
        "batch distributions",
        "/predict/batch?distributions=true",
        {"json": {"texts": ["a good day"]}},
        True,
    ),
    ("batch empty", "/predict/batch", {"json": {"texts": []}}, False),
    ("batch over limit", "/predict/batch", {"json": {"texts": ["ok"] * (BATCH_LIMIT + 1)}}, False),
    ("batch blank item", "/predict/batch", {"json": {"texts": ["ok", " "]}}, False),
    (
        "batch long item",
        "/predict/batch",
        {"json": {"texts": ["ok", "x" * (MAX_CHARS + 1)]}},
        False,
    ),
    ("batch not a list", "/predict/batch", {"json": {"texts": "ok"}}, False),
]

# what the route answers where it is not the 422 of a broken rule
EXPECTED = {
    "distributions=yes": 200,  # FastAPI's bool spellings, beyond the lane's four
    "other query": 200,  # unknown query parameters are ignored
    "lone surrogate": 422,  # valid JSON, not valid Unicode: it could not be logged or stored
    "not UTF-8": 400,
    "too large": 413,
}


class Counting:
    """Counts the requests that reach the FastAPI stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        await self.app(scope, receive, send)


LaneApp = tuple[TestClient, ServingApp, PredictLane, Counting]


@contextmanager
def running_lane_app(home: Path) -> Iterator[LaneApp]:
    app = build_app(
        home, max_text_chars=MAX_CHARS, batch_limit=BATCH_LIMIT, max_body_bytes=MAX_BODY
    )
    assert isinstance(app, ServingApp)
    lane = app.front.app  # type: ignore[union-attr]  # ServingMiddleware -> PredictLane
    assert isinstance(lane, PredictLane)
    counting = Counting(lane.app)
    lane.app = counting
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, app, lane, counting


@pytest.fixture
def lane_app(home: Path) -> Iterator[LaneApp]:
    with running_lane_app(home) as running:
        yield running


@pytest.fixture(scope="module")
def shared_lane_app(shared_home: Path) -> Iterator[LaneApp]:
    """One app for the request-by-request comparisons (each test puts the lane back)."""
    with running_lane_app(shared_home) as running:
        yield running


def _answer(response: Any) -> tuple[int, Any, str, str]:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body.pop("request_id", None)
    return (
        response.status_code,
        body,
        response.headers.get("content-type", ""),
        response.headers.get("x-model-version", ""),
    )


@pytest.mark.parametrize(("name", "path", "kwargs", "in_lane"), CASES, ids=[c[0] for c in CASES])
def test_the_lane_answers_as_the_route_does(
    shared_lane_app: LaneApp, name: str, path: str, kwargs: dict[str, Any], in_lane: bool
) -> None:
    client, app, lane, counting = shared_lane_app
    counting.calls = 0

    def send() -> Any:
        chunks = kwargs.get("chunks")
        if chunks is None:
            return client.post(path, **kwargs)
        return client.post(path, content=iter(chunks), headers=kwargs["headers"])

    via_lane = send()
    reached_route = counting.calls
    app.front.app = counting  # type: ignore[union-attr]  # the lane taken out
    try:
        via_route = send()
    finally:
        app.front.app = lane  # type: ignore[union-attr]
    assert reached_route == (0 if in_lane else 1), f"{name}: the lane took it: {not reached_route}"
    assert _answer(via_lane) == _answer(via_route)
    assert via_lane.headers["x-request-id"] != via_route.headers["x-request-id"]
    assert via_lane.status_code == EXPECTED.get(name, 200 if in_lane else 422)


def test_an_error_while_predicting_is_answered_as_the_route_answers_it(
    lane_app: LaneApp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, app, lane, counting = lane_app

    async def unavailable(*args: Any, **kwargs: Any) -> None:
        raise ModelUnavailableError("the server is shutting down")

    monkeypatch.setattr(lane.state, "predict", unavailable)
    via_lane = client.post("/predict", json={"text": "hello there"})
    assert counting.calls == 0
    app.front.app = counting  # type: ignore[union-attr]
    via_route = client.post("/predict", json={"text": "hello there"})
    assert via_lane.status_code == 503
    assert _answer(via_lane) == _answer(via_route)


def test_lane_requests_are_counted_under_their_route(
    lane_app: LaneApp,
) -> None:
    client, _, _, counting = lane_app
    for _ in range(3):
        assert client.post("/predict", json={"text": "counted"}).status_code == 200
    assert client.post("/predict/batch", json={"texts": ["a", "b"]}).status_code == 200
    assert counting.calls == 0
    metrics = client.get("/metrics").text
    assert 'emotion_clf_http_requests_total{method="POST",route="/predict",status="200"} 3.0' in (
        metrics
    )
    assert 'route="/predict/batch",status="200"} 1.0' in metrics
    assert 'emotion_clf_predictions_total{head="emotion"' in metrics


def test_without_a_model_the_route_answers_503(empty_home: Path) -> None:
    app = build_app(empty_home)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/predict", json={"text": "anyone there?"})
    assert response.status_code == 503
    assert "no model is loaded yet" in response.json()["detail"]

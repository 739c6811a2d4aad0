"""The one middleware every request passes: ids, size limit, version header, metrics, 500s."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from emotion_clf.serving.http.errors import install_handlers
from emotion_clf.serving.http.middleware import InFlight, ServingMiddleware, context_of
from emotion_clf.serving.runtime.metrics import ServingMetrics


def make_app(
    served: str | None = None, *, limit: int = 100
) -> tuple[FastAPI, ServingMetrics, InFlight]:
    app = FastAPI()
    metrics = ServingMetrics()
    in_flight = InFlight()
    seen: list[int] = []
    app.state.seen = seen

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        seen.append(in_flight())
        return {"bytes": len(await request.body())}

    @app.get("/answered-by/{version}")
    async def answered_by(version: str, request: Request) -> dict[str, str]:
        context = context_of(request.scope)
        assert context is not None
        context.model_version = version  # what a prediction route does with its snapshot
        return {"ok": "yes"}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail /srv/models/v3")

    install_handlers(app)
    app.add_middleware(
        ServingMiddleware,
        metrics=metrics,
        max_body_bytes=limit,
        served_version=lambda: served,
        in_flight=in_flight,
    )
    return app, metrics, in_flight


def count(metrics: ServingMetrics, route: str, status: str) -> float:
    value = metrics.registry.get_sample_value(
        "emotion_clf_http_requests_total", {"method": "POST", "route": route, "status": status}
    ) or metrics.registry.get_sample_value(
        "emotion_clf_http_requests_total", {"method": "GET", "route": route, "status": status}
    )
    return value or 0.0


def test_request_ids_are_echoed_when_sane_and_made_otherwise() -> None:
    app, _, _ = make_app()
    with TestClient(app) as client:
        kept = client.post("/echo", content=b"x", headers={"X-Request-ID": "abc-123.4:5_6"})
        assert kept.headers["x-request-id"] == "abc-123.4:5_6"
        made = client.post("/echo", content=b"x", headers={"X-Request-ID": "bad id\twith tab"})
        other = client.post("/echo", content=b"x")
    assert made.headers["x-request-id"] != "bad id\twith tab"
    assert len({made.headers["x-request-id"], other.headers["x-request-id"]}) == 2


def test_the_version_header_names_the_model_that_answered_else_the_served_one() -> None:
    app, _, _ = make_app(served="7")
    with TestClient(app) as client:
        assert client.get("/answered-by/6").headers["x-model-version"] == "6"
        assert client.post("/echo", content=b"").headers["x-model-version"] == "7"
    app, _, _ = make_app(served=None)
    with TestClient(app) as client:
        assert client.post("/echo", content=b"").headers["x-model-version"] == "none"


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read() -> None:
    app, metrics, _ = make_app(limit=100)
    with TestClient(app) as client:
        response = client.post("/echo", content=b"x" * 101)
        assert client.post("/echo", content=b"x" * 100).json() == {"bytes": 100}
    assert response.status_code == 413
    assert "limit of 100 bytes" in response.json()["detail"]
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert app.state.seen == [1]  # the refused request never reached the route
    assert count(metrics, "unmatched", "413") == 1  # refused before routing


def test_a_streamed_body_without_length_is_cut_off_at_the_limit() -> None:
    app, _, _ = make_app(limit=100)

    def chunks() -> object:
        for _ in range(5):
            yield b"x" * 40

    with TestClient(app) as client:
        response = client.post("/echo", content=chunks())  # chunked: no Content-Length
    assert response.status_code == 413


def test_an_unexpected_error_is_a_500_with_only_the_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, metrics, in_flight = make_app()
    with caplog.at_level(logging.ERROR), TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "detail": "internal error",
        "request_id": response.headers["x-request-id"],
    }
    assert "secret" not in response.text
    assert "secret internal detail" in caplog.text  # the log keeps the traceback
    assert response.headers["x-request-id"] in caplog.text
    assert count(metrics, "/boom", "500") == 1
    assert in_flight() == 0


def test_metrics_label_routes_by_template_not_by_path() -> None:
    app, metrics, _ = make_app()
    with TestClient(app) as client:
        client.get("/answered-by/1")
        client.get("/answered-by/2")
        assert client.get("/no-such-route").status_code == 404
    assert count(metrics, "/answered-by/{version}", "200") == 2
    assert count(metrics, "unmatched", "404") == 1

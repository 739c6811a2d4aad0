from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from emotion_clf.data.schema import HEADS, SCHEMA
from tests.serving.helpers import build_app

SRT = (
    "1\n00:00:01,000 --> 00:00:03,000\nI love this, it is wonderful!\n\n"
    "2\n00:00:03,000 --> 00:00:04,500\nWhy would you do that to me?\n\n"
    "3\n00:00:05,000 --> 00:00:05,500\n<i></i>\n"
)
VTT = (
    "WEBVTT\n\n00:01.000 --> 00:03.000\n<v Ann>I love this!\n\n"
    "cue-2\n00:03.000 --> 00:04.000\nNo.\n"
)


def check_prediction(body: dict[str, Any], *, distributions: bool = False) -> None:
    for head in HEADS:
        part = body[head]
        assert part["label"] in SCHEMA.labels(head)
        assert 0.0 <= part["confidence"] <= 1.0
        if distributions:
            assert set(part["distribution"]) == set(SCHEMA.labels(head))
            assert sum(part["distribution"].values()) == pytest.approx(1.0, abs=1e-3)
            assert part["distribution"][part["label"]] == part["confidence"]
        else:
            assert "distribution" not in part
    assert SCHEMA.parent[body["sub_emotion"]["label"]] == body["emotion"]["label"]


def test_predict_one_text(shared_client: TestClient) -> None:
    response = shared_client.post("/predict", json={"text": "  I am so happy for you!  "})
    assert response.status_code == 200, response.text
    body = response.json()
    check_prediction(body)
    assert body["model_version"] == "1"
    assert response.headers["X-Model-Version"] == "1"
    assert re.fullmatch(r"[0-9a-f]{24}", response.headers["X-Request-ID"])


def test_predict_with_distributions(shared_client: TestClient) -> None:
    response = shared_client.post("/predict?distributions=true", json={"text": "What a surprise"})
    assert response.status_code == 200
    check_prediction(response.json(), distributions=True)


def test_a_sane_request_id_is_echoed_and_an_odd_one_replaced(shared_client: TestClient) -> None:
    ok = shared_client.get("/health", headers={"X-Request-ID": "trace-42.a:b"})
    assert ok.headers["X-Request-ID"] == "trace-42.a:b"
    odd = shared_client.get("/health", headers={"X-Request-ID": "x" * 500})
    assert odd.headers["X-Request-ID"] != "x" * 500


def test_batch_predictions_are_in_order_and_match_single_ones(shared_client: TestClient) -> None:
    texts = ["I'm furious about this", "thank you so much", "ok", "that is disgusting"]
    response = shared_client.post("/predict/batch", json={"texts": texts})
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == "1" and body["count"] == 4
    for text, prediction in zip(texts, body["predictions"], strict=True):
        check_prediction(prediction)
        single = shared_client.post("/predict", json={"text": text}).json()
        assert prediction["emotion"] == single["emotion"]
        assert prediction["intensity"] == single["intensity"]


def test_a_batch_larger_than_the_micro_batch_is_served_whole(home: Path) -> None:
    with TestClient(build_app(home, microbatch_max_size=4)) as client:
        texts = [f"sentence {i}" for i in range(11)]
        response = client.post("/predict/batch?distributions=true", json={"texts": texts})
        assert response.status_code == 200
        assert len(response.json()["predictions"]) == 11


@pytest.mark.parametrize(
    ("content", "content_type", "fmt"),
    [
        (SRT, "application/x-subrip", "srt"),
        (SRT, "text/plain; charset=utf-8", "srt"),
        (VTT, "text/vtt", "vtt"),
        (VTT, None, "vtt"),
    ],
)
def test_transcript_subtitles(
    shared_client: TestClient, content: str, content_type: str | None, fmt: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = shared_client.post("/predict/transcript", content=content.encode(), headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["format"] == fmt and body["model_version"] == "1"
    segments = body["segments"]
    assert [s["index"] for s in segments] == [1, 2]
    assert segments[0]["start"] == 1.0 and segments[0]["start_time"] == "00:00:01.000"
    for segment in segments:
        check_prediction(segment)
    summary = body["summary"]
    assert summary["segments"] == 2
    assert sum(e["segments"] for e in summary["emotions"].values()) == 2
    assert summary["dominant_emotion"] in SCHEMA.emotions
    assert body["skipped_empty"] == (1 if fmt == "srt" else 0)


def test_transcript_json_segments_with_distributions(shared_client: TestClient) -> None:
    payload = {
        "segments": [
            {"start": 0, "end": 2.5, "text": "Hello everyone"},
            {"start": "00:00:02,500", "end": "00:04.000", "text": "I'm terrified"},
        ]
    }
    response = shared_client.post("/predict/transcript?distributions=true", json=payload)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["format"] == "json"
    assert [(s["start"], s["end"]) for s in body["segments"]] == [(0.0, 2.5), (2.5, 4.0)]
    check_prediction(body["segments"][1], distributions=True)
    assert body["summary"]["duration_s"] == 4.0


BAD_INPUTS: list[tuple[str, dict[str, Any], int, str]] = [
    ("/predict", {"json": {"text": ""}}, 422, "text is empty or only whitespace"),
    ("/predict", {"json": {"text": " \n\t "}}, 422, "text is empty or only whitespace"),
    ("/predict", {"json": {"text": "x" * 2001}}, 422, "text is 2001 characters long; the limit"),
    ("/predict", {"json": {"text": 42}}, 422, "body.text: Input should be a valid string"),
    ("/predict", {"json": {"text": ["a"]}}, 422, "body.text: Input should be a valid string"),
    ("/predict", {"json": {"text": None}}, 422, "body.text: Input should be a valid string"),
    ("/predict", {"json": {}}, 422, "body.text: Field required"),
    ("/predict", {"json": {"txt": "hi"}}, 422, "body.txt: Extra inputs are not permitted"),
    ("/predict", {"json": ["hi"]}, 422, "Input should be a valid dictionary"),
    (
        "/predict",
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        422,
        "body: invalid JSON at character 1",
    ),
    ("/predict", {}, 422, "body: Field required"),
    (
        "/predict",
        {"content": b'{"text": "\xff\xfe"}', "headers": {"content-type": "application/json"}},
        400,
        "body: not UTF-8 text (invalid start byte at byte 10)",
    ),
    ("/predict/batch", {"json": {"texts": []}}, 422, "body.texts: List should have at least 1"),
    ("/predict/batch", {"json": {"texts": "one"}}, 422, "body.texts: Input should be a valid list"),
    ("/predict/batch", {"json": {"texts": ["ok", " "]}}, 422, "body.texts[1]: Value error"),
    ("/predict/batch", {"json": {"texts": ["ok", 3]}}, 422, "body.texts[1]: Input should be"),
    ("/predict/batch", {"json": {"texts": ["a"] * 257}}, 422, "257 texts is more than the limit"),
    ("/predict/batch", {"json": {"texts": ["a", "b" * 2001]}}, 422, "texts[1] is 2001 characters"),
    (
        "/predict/transcript",
        {"content": b"", "headers": {"content-type": "text/vtt"}},
        422,
        "the request body is empty",
    ),
    (
        "/predict/transcript",
        {"content": b"1\n00:00:01,000 -> 00:00:02,000\nHi\n", "headers": {}},
        422,
        "line 2: cue 1: expected a timing line",
    ),
    (
        "/predict/transcript",
        {"content": b"00:01.000 --> 00:02.000\nHi\n", "headers": {"content-type": "text/vtt"}},
        422,
        "starts with 'WEBVTT'",
    ),
    (
        "/predict/transcript",
        {"content": b"\xff\xfe\x00garbage", "headers": {"content-type": "text/plain"}},
        422,
        "not UTF-8 text",
    ),
    (
        "/predict/transcript",
        {"json": {"segments": [{"start": 0, "end": 1}]}},
        422,
        "body.segments[0].text: Field required",
    ),
    ("/predict/transcript", {"json": {"segments": []}}, 422, "at least 1 item"),
    (
        "/predict/transcript",
        {"json": {"segments": [{"start": 3, "end": 1, "text": "a"}]}},
        422,
        "segments[0] ends before it starts",
    ),
    (
        "/predict/transcript",
        {"content": b"<xml/>", "headers": {"content-type": "application/xml"}},
        415,
        "unsupported Content-Type 'application/xml'",
    ),
    (
        "/predict/transcript",
        {"json": {"segments": [{"start": 0, "end": 1, "text": "y" * 2001}]}},
        422,
        "cue 1 is 2001 characters long",
    ),
]


@pytest.mark.parametrize(("path", "kwargs", "status", "fragment"), BAD_INPUTS)
def test_bad_input_is_a_4xx_naming_the_problem(
    shared_client: TestClient, path: str, kwargs: dict[str, Any], status: int, fragment: str
) -> None:
    response = shared_client.post(path, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert fragment in body["detail"], body
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert response.headers["X-Model-Version"] == "1"


def test_an_oversized_body_is_refused_before_or_while_reading(home: Path) -> None:
    with TestClient(build_app(home, max_body_bytes=1000)) as client:
        big = {"text": "x" * 1500}
        response = client.post("/predict", json=big)
        assert response.status_code == 413
        assert "larger than the limit of 1000 bytes" in response.json()["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
            yield b'{"text": "'
            yield b"y" * 1500
            yield b'"}'

        streamed = client.post(
            "/predict", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        assert "limit of 1000 bytes" in streamed.json()["detail"]
        transcript = client.post(
            "/predict/transcript", content=chunks(), headers={"content-type": "text/plain"}
        )
        assert transcript.status_code == 413
        assert client.post("/predict", json={"text": "small"}).status_code == 200


def test_an_internal_error_is_a_500_with_a_request_id_and_nothing_else(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    model = client.app.state.serving.holder.current  # type: ignore[attr-defined]

    def broken(texts: Any) -> Any:
        raise RuntimeError("secret detail: /srv/models/credentials.txt")

    model.predictor.predict_batch = broken
    response = client.post("/predict", json={"text": "hello"})
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"detail", "request_id"}
    assert body["detail"] == "internal error"
    assert "secret" not in response.text
    assert body["request_id"] == response.headers["X-Request-ID"]
    logged = [r for r in caplog.records if body["request_id"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the log


def test_docs_and_schema(shared_client: TestClient) -> None:
    assert shared_client.get("/docs").status_code == 200
    schema = shared_client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {
        "/predict",
        "/predict/batch",
        "/predict/transcript",
        "/refresh-model",
        "/health",
        "/ready",
        "/model",
        "/metrics",
        "/feedback",
        "/save-feedback",
    } <= paths
    assert "/predict/naive" not in paths
    content = schema["paths"]["/predict/transcript"]["post"]["requestBody"]["content"]
    assert {"application/json", "text/vtt", "application/x-subrip"} <= set(content)
    assert shared_client.post("/predict/naive", json={"text": "hi"}).status_code == 404


def test_the_naive_benchmark_route_is_only_there_when_enabled(home: Path) -> None:
    with TestClient(build_app(home, benchmark_routes=True)) as client:
        response = client.post("/predict/naive", json={"text": "so happy"})
        assert response.status_code == 200
        assert response.json()["model_version"] == "1"
        assert "/predict/naive" not in client.get("/openapi.json").json()["paths"]


def test_every_response_carries_the_model_version(shared_client: TestClient) -> None:
    for response in (
        shared_client.get("/nowhere"),
        shared_client.get("/predict"),
        shared_client.get("/metrics"),
        shared_client.get("/docs"),
        shared_client.post("/predict", json={}),
    ):
        assert response.headers["X-Model-Version"] == "1", response.request.url

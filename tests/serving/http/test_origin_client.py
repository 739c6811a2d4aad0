"""The origin project's web client against a real server: its calls get clear answers.

That client (``frontend/src/api.js`` of the system this project re-implements) is a page on
another origin: it needs CORS, posts ``{"url"}`` to ``/predict``, reads a flat ``transcript``
list, and sends corrections to ``/save-feedback`` as ``feedbackData`` with a ``videoTitle``.
Its calls are replayed here over HTTP, with the headers a browser adds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from emotion_clf.data.schema import EMOTIONS, INTENSITIES, SUB_EMOTION_PARENT
from emotion_clf.urls import PUBLIC_MESSAGE
from tests.http_listeners import Raw, free_port
from tests.serving.helpers import build_app
from tests.serving.server import Server, running_server
from tests.speech.speech_files import say

ORIGIN = "http://localhost:3000"
ROW = {
    "start_time": "00:00:01",
    "end_time": "00:00:03",
    "text": "I am so happy today.",
    "emotion": "happiness",
    "sub_emotion": "joy",
    "intensity": "strong",
}


@pytest.fixture
def speech(tmp_path: Path) -> bytes:
    return say(
        "I am so happy today. But I am also a little scared.", tmp_path / "s.wav"
    ).read_bytes()


@pytest.fixture
def origin_server(home: Path) -> Iterator[Server]:
    env = {
        "EMOTION_CLF_CORS_ORIGINS": f"{ORIGIN},http://127.0.0.1:3121",
        "EMOTION_CLF_MEDIA_URLS": "127.0.0.1:internal,nosuch.invalid:internal",
        "EMOTION_CLF_MEDIA_URL_DEADLINE_S": "2",
        "EMOTION_CLF_MEDIA_MAX_BYTES": "400000",
        "EMOTION_CLF_POLL_S": "0",
    }
    with running_server(home, env=env) as server:
        yield server


def preflight(server: Server, path: str, origin: str) -> httpx.Response:
    return httpx.options(
        f"{server.url}{path}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )


def test_the_origin_clients_four_calls(origin_server: Server, speech: bytes, home: Path) -> None:
    url = origin_server.url
    browser = {"Origin": ORIGIN}

    # 1. the browser's preflight, then its feedback as that client sends it
    allowed = preflight(origin_server, "/save-feedback", ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "content-type" in allowed.headers["access-control-allow-headers"].lower()
    refused = preflight(origin_server, "/save-feedback", "http://elsewhere.example")
    assert "access-control-allow-origin" not in refused.headers
    saved = httpx.post(
        f"{url}/save-feedback",
        json={"videoTitle": "an interview", "feedbackData": [ROW]},
        headers=browser,
        timeout=30,
    )
    assert saved.status_code == 200, saved.text
    assert saved.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in saved.headers["access-control-expose-headers"].lower()
    assert saved.json()["success"] is True and saved.json()["record_count"] == 1
    assert saved.json()["rows"] == [{"index": 0, "status": "saved", "reason": None}]

    # 2. a URL posted to /predict: a 422 that says where URLs go
    with Raw(speech, content_type="audio/wav") as media_host:
        wrong = httpx.post(
            f"{url}/predict", json={"url": f"{media_host.url}/a.wav"}, headers=browser
        )
        assert wrong.status_code == 422
        assert "/predict/media" in wrong.json()["detail"]
        assert wrong.headers["access-control-allow-origin"] == ORIGIN
        assert media_host.requests == []  # /predict fetches nothing

        # 3. the same URL where it belongs: a flat transcript beside the segments
        answer = httpx.post(
            f"{url}/predict/media",
            json={"url": f"{media_host.url}/a.wav"},
            headers=browser,
            timeout=120,
        )
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    body = answer.json()
    assert len(body["transcript"]) == len(body["segments"]) >= 1
    for item, segment in zip(body["transcript"], body["segments"], strict=True):
        assert item["sentence"] == item["text"] == segment["text"]
        assert (item["start_time"], item["end_time"]) == (
            segment["start_time"],
            segment["end_time"],
        )
        assert item["emotion"] == segment["emotion"]["label"] and item["emotion"] in EMOTIONS
        assert item["sub_emotion"] in SUB_EMOTION_PARENT and item["intensity"] in INTENSITIES
        assert item["confidence"] == segment["emotion"]["confidence"]
    assert "happy" in body["transcript"][0]["sentence"].lower()

    # 4. corrections none of which fit the schema: kept, so a 2xx that invites no resubmit
    misfit = [{**ROW, "emotion": "joyful"}, {**ROW, "text": ""}]
    kept = httpx.post(
        f"{url}/save-feedback",
        json={"videoTitle": "an interview", "feedbackData": misfit},
        headers=browser,
        timeout=30,
    )
    assert kept.status_code == 202, kept.text
    assert kept.headers["access-control-allow-origin"] == ORIGIN
    answer = kept.json()
    assert answer["success"] is True and answer["record_count"] == 0
    assert [r["status"] for r in answer["rows"]] == ["quarantined", "quarantined"]
    assert "joyful" in answer["rows"][0]["reason"] and "text" in answer["rows"][1]["reason"]
    quarantined = (home / "feedback" / "quarantine" / answer["quarantine_file"]).read_text()
    assert [json.loads(line)["item"]["emotion"] for line in quarantined.splitlines()] == [
        "joyful",
        "happiness",
    ]


def test_cors_headers_on_the_fast_lane_and_the_middlewares_own_answers(
    origin_server: Server,
) -> None:
    url = origin_server.url
    fast = httpx.post(f"{url}/predict", json={"text": "What a day!"}, headers={"Origin": ORIGIN})
    assert fast.status_code == 200 and fast.headers["access-control-allow-origin"] == ORIGIN
    other = httpx.post(
        f"{url}/predict", json={"text": "What a day!"}, headers={"Origin": "http://127.0.0.1:3121"}
    )
    assert other.headers["access-control-allow-origin"] == "http://127.0.0.1:3121"
    stranger = httpx.post(
        f"{url}/predict", json={"text": "What a day!"}, headers={"Origin": "http://x.example"}
    )
    assert stranger.status_code == 200 and "access-control-allow-origin" not in stranger.headers
    too_big = httpx.post(
        f"{url}/predict",
        content=b"x" * 2_000_000,
        headers={"Origin": ORIGIN, "Content-Type": "application/json"},
    )
    assert too_big.status_code == 413 and too_big.headers["access-control-allow-origin"] == ORIGIN
    assert preflight(origin_server, "/predict", ORIGIN).status_code == 200


def test_without_the_setting_no_origin_is_allowed(home: Path) -> None:
    with TestClient(build_app(home)) as client:
        answer = client.options(
            "/predict",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        )
        plain = client.post("/predict", json={"text": "hi there"}, headers={"Origin": ORIGIN})
    assert answer.status_code == 405 and "access-control-allow-origin" not in answer.headers
    assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers


def test_every_url_not_fetched_gets_one_answer(origin_server: Server, speech: bytes) -> None:
    """Refused by the policy, no DNS answer, connection refused, the deadline, a 404, too
    large, not media: one status and one message, so no answer tells them apart."""
    url = origin_server.url
    with (
        Raw(b"<html>not here</html>", status=404) as missing,
        Raw(speech * 10, content_type="audio/wav") as large,
        Raw(b"<html>a page</html>", content_type="text/html") as page,
        Raw(hang=True) as stuck,
    ):
        targets = {
            "policy": "http://10.1.2.3/a.wav",
            "dns": "http://nosuch.invalid/a.wav",
            "refused": f"http://127.0.0.1:{free_port()}/a.wav",
            "deadline": f"{stuck.url}/a.wav",
            "404": f"{missing.url}/a.wav",
            "too large": f"{large.url}/a.wav",
            "not media": f"{page.url}/a.wav",
        }
        answers = {
            kind: httpx.post(f"{url}/predict/media", json={"url": target}, timeout=30)
            for kind, target in targets.items()
        }
    assert len(speech) * 10 > 400_000  # over EMOTION_CLF_MEDIA_MAX_BYTES
    assert {kind: a.status_code for kind, a in answers.items()} == dict.fromkeys(targets, 422)
    assert {a.json()["detail"] for a in answers.values()} == {PUBLIC_MESSAGE}
    assert {a.json()["field"] for a in answers.values()} == {"url"}


def test_a_server_that_fetches_no_urls_says_so(home: Path) -> None:
    with TestClient(build_app(home)) as client:
        answer = client.post("/predict/media", json={"url": "http://example.org/a.mp3"})
        document = client.get("/openapi.json").json()
    assert answer.status_code == 415
    assert "EMOTION_CLF_MEDIA_URLS=off" in answer.json()["detail"]
    content = document["paths"]["/predict/media"]["post"]["requestBody"]["content"]
    assert "application/json" not in content and "multipart/form-data" in content

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from emotion_clf.promotion import promote
from emotion_clf.registry import open_registry
from tests.http_listeners import free_port
from tests.serving.helpers import (
    TOKEN,
    auth,
    build_app,
    corrupt,
    make_settings,
    register_bundle,
    wait_for,
)


def test_health_ready_and_model(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "ready": True,
        "version": "1",
        "designation": "baseline",
        "offline": False,
        "detail": "serving v1",
    }
    model = client.get("/model").json()
    assert model["version"] == "1" and model["designation"] == "baseline"
    assert model["family"] == "tfidf"
    assert re.fullmatch(r"[0-9a-f]{64}", model["bundle_digest"])
    assert set(model["metrics"]) == {"validation", "test"}
    assert model["loaded_at"].endswith("+00:00")
    assert model["offline"] is False and model["offline_reason"] is None


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({}, "missing bearer token"),
        ({"Authorization": TOKEN}, "missing bearer token"),
        ({"Authorization": "Basic " + TOKEN}, "missing bearer token"),
        (auth("wrong-token"), "invalid bearer token"),
        (auth(TOKEN + "x"), "invalid bearer token"),
    ],
)
def test_refresh_refuses_a_missing_or_wrong_token(
    client: TestClient, headers: dict[str, str], fragment: str
) -> None:
    response = client.post("/refresh-model", headers=headers)
    assert response.status_code == 401
    assert fragment in response.json()["detail"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_refresh_swaps_to_the_promoted_version(client: TestClient, home: Path) -> None:
    unchanged = client.post("/refresh-model", headers=auth())
    assert unchanged.status_code == 200
    assert unchanged.json()["swapped"] is False
    assert unchanged.json()["current_version"] == "1"

    promote(settings=make_settings(home), version="2", force=True, reason="test", refresh=False)
    assert client.post("/predict", json={"text": "hi"}).headers["X-Model-Version"] == "1"
    response = client.post("/refresh-model", headers=auth())
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["previous_version"], body["current_version"], body["swapped"]) == ("1", "2", True)
    assert body["duration_s"] > 0
    predicted = client.post("/predict", json={"text": "hi"})
    assert predicted.json()["model_version"] == "2"
    assert predicted.headers["X-Model-Version"] == "2"
    assert client.get("/model").json()["version"] == "2"
    metrics = client.get("/metrics").text
    assert 'emotion_clf_model_refreshes_total{outcome="swapped",trigger="api"} 1.0' in metrics
    assert "emotion_clf_model_version 2.0" in metrics


def test_refresh_is_disabled_without_a_token_unless_dev_mode(home: Path) -> None:
    with TestClient(build_app(home, refresh_token=None)) as client:
        response = client.post("/refresh-model", headers=auth())
        assert response.status_code == 403
        assert "EMOTION_CLF_REFRESH_TOKEN" in response.json()["detail"]
    with TestClient(build_app(home, refresh_token=None, dev_mode=True)) as client:
        assert client.post("/refresh-model").status_code == 200
    with TestClient(build_app(home, dev_mode=True)) as client:  # a set token is always required
        assert client.post("/refresh-model").status_code == 401


def test_a_corrupt_new_bundle_keeps_the_old_model_and_says_why(
    client: TestClient, home: Path, tfidf_bundle: Path
) -> None:
    registry = open_registry(make_settings(home))
    bad = register_bundle(registry, tfidf_bundle)
    corrupt(bad)
    registry.set_designation("baseline", bad.version)  # as if it was damaged after promotion

    response = client.post("/refresh-model", headers=auth())
    assert response.status_code == 409, response.text
    body = response.json()
    assert f"loading v{bad.version} failed, still serving v1" in body["detail"]
    assert "checksum mismatch for vocabulary.json" in body["detail"]
    assert str(home) not in body["detail"]  # no server paths in answers
    assert (body["previous_version"], body["current_version"], body["swapped"]) == ("1", "1", False)
    predicted = client.post("/predict", json={"text": "still here"})
    assert predicted.status_code == 200 and predicted.headers["X-Model-Version"] == "1"
    assert client.get("/ready").json()["version"] == "1"
    metrics = client.get("/metrics").text
    assert 'emotion_clf_model_refreshes_total{outcome="failed",trigger="api"} 1.0' in metrics


def test_unreachable_registry_serves_the_cached_version_and_says_so(home: Path) -> None:
    # the template fetched baseline once: this home's cache remembers baseline -> v1
    down = f"http://127.0.0.1:{free_port()}"
    with TestClient(build_app(home, tracking_uri=down)) as client:
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json()["offline"] is True
        assert "served from cache because the registry is unreachable" in ready.json()["detail"]
        model = client.get("/model").json()
        assert model["version"] == "1" and model["offline"] is True
        assert model["offline_reason"] == "served from cache because the registry is unreachable"
        predicted = client.post("/predict", json={"text": "hello"})
        assert predicted.status_code == 200 and predicted.headers["X-Model-Version"] == "1"
        refreshed = client.post("/refresh-model", headers=auth())
        assert refreshed.status_code == 503
        assert "registry cannot be reached" in refreshed.json()["detail"]
        assert "emotion_clf_model_info{digest=" in client.get("/metrics").text


def test_with_no_model_at_all_it_starts_answers_503_and_keeps_trying(empty_home: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    with TestClient(build_app(empty_home, tracking_uri=down)) as client:
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["ready"] is False
        detail = ready.json()["detail"]
        assert "no model is loaded yet" in detail and "cannot be reached" in detail
        assert "no cached copy of 'baseline'" in detail
        for response in (
            client.post("/predict", json={"text": "hi"}),
            client.post("/predict/batch", json={"texts": ["hi"]}),
            client.post(
                "/predict/transcript", json={"segments": [{"start": 0, "end": 1, "text": "a"}]}
            ),
            client.get("/model"),
        ):
            assert response.status_code == 503
            assert "no model is loaded yet" in response.json()["detail"]
            assert response.headers["X-Model-Version"] == "none"
        # it keeps trying in the background (every 0.2 s here), and counts the attempts
        assert wait_for(lambda: 'outcome="failed",trigger="retry"' in client.get("/metrics").text)
        assert client.get("/ready").status_code == 503


def test_no_baseline_yet_then_promoted_becomes_ready(empty_home: Path) -> None:
    with TestClient(build_app(empty_home)) as client:
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert "no version is designated 'baseline' yet" in ready.json()["detail"]
        assert client.post("/predict", json={"text": "hi"}).status_code == 503

        promote(
            settings=make_settings(empty_home), version="1", force=True, reason="t", refresh=False
        )
        assert wait_for(lambda: client.get("/ready").status_code == 200)
        response = client.post("/predict", json={"text": "hi"})
        assert response.status_code == 200 and response.json()["model_version"] == "1"


def test_the_poll_loop_converges_without_a_refresh_call(home: Path) -> None:
    with TestClient(build_app(home, poll_s=0.2)) as client:
        assert client.get("/model").json()["version"] == "1"
        promote(settings=make_settings(home), version="2", force=True, reason="t", refresh=False)
        assert wait_for(lambda: client.get("/model").json()["version"] == "2")
        metrics = client.get("/metrics").text
        assert 'emotion_clf_model_refreshes_total{outcome="swapped",trigger="poll"} 1.0' in metrics


def test_metrics_exposition(client: TestClient) -> None:
    for text in ("I love it", "I hate it", "hmm"):
        client.post("/predict", json={"text": text})
    client.post("/predict", json={"text": ""})
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'emotion_clf_http_requests_total{method="POST",route="/predict",status="200"} 3.0' in text
    )
    assert (
        'emotion_clf_http_requests_total{method="POST",route="/predict",status="422"} 1.0' in text
    )
    assert re.search(
        r'emotion_clf_http_request_duration_seconds_bucket\{le="0\.1",method="POST",'
        r'route="/predict",status="200"\} 3\.0',
        text,
    )
    counts = re.findall(r'emotion_clf_predictions_total\{head="emotion",label="\w+"\} (\S+)', text)
    assert sum(float(c) for c in counts) == 3.0
    assert "emotion_clf_model_version 1.0" in text
    assert 'emotion_clf_model_refreshes_total{outcome="swapped",trigger="startup"} 1.0' in text
    assert "emotion_clf_prediction_log_dropped_total 0.0" in text
    assert "emotion_clf_model_batch_size_count" in text
    # one model time per batch: as many as batch sizes, each more than nothing
    batches = float(re.findall(r"^emotion_clf_model_batch_size_count (\S+)$", text, re.M)[0])
    timed = dict(
        re.findall(r"^emotion_clf_model_batch_duration_seconds_(count|sum) (\S+)$", text, re.M)
    )
    assert batches >= 3 and timed and float(timed["count"]) == batches
    assert float(timed["sum"]) > 0

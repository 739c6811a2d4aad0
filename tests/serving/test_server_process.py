"""The real server as a subprocess on 127.0.0.1: start-up, zero-downtime swaps under load."""

from __future__ import annotations

import json
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from emotion_clf.checks.load import LoadGenerator
from emotion_clf.data.loader import load_dataset
from emotion_clf.promotion import promote
from emotion_clf.promotion.fanout import fan_out
from emotion_clf.registry import open_registry
from emotion_clf.training import train_model
from tests.cli.helpers import run_cli
from tests.serving.helpers import TOKEN, auth, corrupt, make_settings, register_bundle
from tests.serving.server import running_server

SERVER_ENV = {"EMOTION_CLF_REFRESH_TOKEN": TOKEN, "EMOTION_CLF_POLL_S": "0"}


def test_the_serve_command_starts_serves_and_stops_cleanly(home: Path) -> None:
    with running_server(home, env=SERVER_ENV) as server:
        ready = httpx.get(f"{server.url}/ready").json()
        assert ready["ready"] is True and ready["version"] == "1"
        response = httpx.post(f"{server.url}/predict", json={"text": "hello"})
        assert response.status_code == 200 and response.headers["x-model-version"] == "1"
        assert httpx.post(f"{server.url}/refresh-model").status_code == 401
        assert httpx.post(f"{server.url}/refresh-model", headers=auth("nope")).status_code == 401
        assert httpx.post(f"{server.url}/refresh-model", headers=auth()).status_code == 200
    # uvicorn finishes the graceful shut-down, then exits by the signal it caught
    assert server.process.returncode in (0, -signal.SIGTERM), server.log_tail()
    log = server.log.read_text()
    assert "Application shutdown complete" in log
    assert '"route": "/predict", "path": "/predict", "status": 200' in log  # the latency line
    lines = (home / "monitoring" / "predictions").glob("*.jsonl")
    assert [json.loads(x)["route"] for f in lines for x in f.read_text().splitlines()] == [
        "/predict"
    ]


def test_zero_failed_requests_across_a_swap_and_a_corrupt_bundle(
    home: Path, small_data: Path, tmp_path: Path, tfidf_bundle: Path
) -> None:
    with running_server(home, env=SERVER_ENV) as server:
        settings = make_settings(home, refresh_endpoints=[f"{server.url}/refresh-model"])
        registry = open_registry(settings)
        load = LoadGenerator(server.url, clients=16).start()
        try:
            load.wait_for_count(300)
            # register and promote a new version while the clients keep going
            trained = train_model("tfidf", data=small_data, out=tmp_path / "new", seed=7)
            new = registry.register(trained)
            result = promote(settings=settings, version=new.version, force=True, reason="test")
            [refresh] = result.refresh
            assert refresh.ok, refresh.error
            assert refresh.answer is not None and refresh.answer.swapped is True
            assert refresh.answer.current_version == new.version
            after_swap = load.marks()
            load.wait_for_count(load.count + 300)
            # a request in flight during the swap may finish on the old model: skip one each
            assert load.versions_since(after_swap, skip=1) == {new.version}

            # a version whose stored bundle was damaged after registration: promote() would
            # refuse it (it verifies), so the designation is moved directly
            bad = register_bundle(registry, tfidf_bundle)
            corrupt(bad)
            registry.set_designation("baseline", bad.version)
            before_refresh = load.marks()
            [failed] = fan_out([f"{server.url}/refresh-model"], token=TOKEN, retries=0)
            assert not failed.ok and failed.status_code == 409
            assert "checksum mismatch" in (failed.error or "")
            assert failed.failure is not None
            assert failed.failure.current_version == new.version
            load.wait_for_count(load.count + 300)
            assert load.versions_since(before_refresh, skip=0) == {new.version}
        finally:
            load.stop()
        assert httpx.get(f"{server.url}/ready").json()["version"] == new.version

    failures = [a for answers in load.answers for a in answers if a.status != 200]
    assert failures == [], failures[:10]
    for answers in load.answers:  # each client: old version, then only the new one
        versions = [a.version for a in answers]
        first_new = versions.index(new.version)
        assert set(versions[:first_new]) == {"1"} and set(versions[first_new:]) == {new.version}
    assert load.count >= 900


def test_concurrent_feedback_against_the_real_server_lands_row_for_row(home: Path) -> None:
    def submit(i: int) -> int:
        items = [
            {
                "text": f"real server feedback {i}.{j}",
                "emotion": "sadness",
                "sub_emotion": "grief",
                "intensity": "moderate",
            }
            for j in range(i % 5 + 1)
        ]
        response = httpx.post(f"{server.url}/feedback", json={"items": items}, timeout=30)
        assert response.status_code == 200, response.text
        return len(items)

    with running_server(home, env=SERVER_ENV) as server, ThreadPoolExecutor(32) as pool:
        sent = sum(pool.map(submit, range(50)))
    data = load_dataset(home / "feedback")
    assert len(list((home / "feedback").glob("*.csv"))) == 50  # and each one's JSON copy
    assert len(data) == sent
    assert set(data.texts) == {
        f"real server feedback {i}.{j}" for i in range(50) for j in range(i % 5 + 1)
    }


def test_serve_refuses_bad_options_with_a_message(home: Path) -> None:
    result = run_cli("serve", "--workers", "0", home=home, process=True)
    assert result.returncode == 2
    assert "--workers must be at least 1" in result.stderr
    result = run_cli("serve", "--log-level", "loud", home=home, process=True)
    assert result.returncode == 2
    assert "--log-level must be one of" in result.stderr

"""Registry faults on a real server process: a model verified before keeps serving.

Each fault is made before start-up, on a home whose cache holds a verified copy of the
baseline (v1). The server must serve it and say ``offline`` with the reason, answer clients
without internal text, never create a registry, keep its poll loop alive, and recover by
itself once the registry is repaired.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from emotion_clf.registry import open_registry
from tests.http_listeners import free_port
from tests.registry.test_readonly import FAULTS, store_of
from tests.serving.helpers import (
    TOKEN,
    auth,
    corrupt,
    make_settings,
    register_bundle,
    wait_for,
)
from tests.serving.server import running_server

ENV = {
    "EMOTION_CLF_REFRESH_TOKEN": TOKEN,
    "EMOTION_CLF_POLL_S": "0",
    "EMOTION_CLF_MODEL_RETRY_S": "0.3",
    "EMOTION_CLF_POLL_BACKOFF_MAX_S": "1",
}
INTERNAL = ("SELECT", "sqlite", "sqlalchemy", "mlflow.db", "http://", "https://", "Traceback")


def assert_offline_on_v1(url: str, reason: str) -> None:
    ready = httpx.get(f"{url}/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["offline"] is True and ready.json()["version"] == "1"
    model = httpx.get(f"{url}/model").json()
    assert model["offline"] is True and reason in model["offline_reason"]
    predicted = httpx.post(f"{url}/predict", json={"text": "still serving"})
    assert predicted.status_code == 200 and predicted.headers["x-model-version"] == "1"


def assert_public(answer: httpx.Response, home: Path) -> None:
    body = answer.json()
    assert body["request_id"]
    for text in (*INTERNAL, str(home)):
        assert text not in body["detail"], body


# the store faults (missing, corrupt, another schema, not a registry); the default suite runs
# one of them on a real server (all four with -m slow), the registry tests cover all four
SLOW_FAULTS = {"corrupt", "another schema", "not a registry"}


@pytest.mark.parametrize(
    "fault",
    [pytest.param(f, marks=[pytest.mark.slow] if f in SLOW_FAULTS else []) for f in FAULTS],
)
def test_a_store_fault_at_start_up_serves_the_cached_baseline_and_recovers(
    home: Path, tmp_path: Path, fault: str
) -> None:
    damage, reason = FAULTS[fault]
    store = store_of(home)
    saved = shutil.copy(store, tmp_path / "saved.db")
    damage(store)
    after_damage = store.read_bytes() if store.exists() else None
    with running_server(home, env=ENV) as server:
        assert_offline_on_v1(server.url, reason)
        refreshed = httpx.post(f"{server.url}/refresh-model", headers=auth())
        assert refreshed.status_code == 503
        assert_public(refreshed, home)
        assert (store.read_bytes() if store.exists() else None) == after_damage  # not created

        shutil.copy(saved, store)  # the registry comes back: the server goes online by itself
        assert wait_for(lambda: httpx.get(f"{server.url}/ready").json()["offline"] is False)
        assert httpx.get(f"{server.url}/model").json()["offline_reason"] is None
    log = server.log.read_text()
    assert reason in log  # the log keeps the detail: the path of the store
    assert str(store) in log
    assert "Traceback" not in log  # every fault was expected, and handled


def test_a_baseline_that_no_longer_verifies_at_start_up_serves_the_cached_copy(
    home: Path, tfidf_bundle: Path
) -> None:
    settings = make_settings(home)
    registry = open_registry(settings)
    bad = register_bundle(registry, tfidf_bundle)
    corrupt(bad)
    registry.set_designation("baseline", bad.version)
    with running_server(home, env=ENV) as server:
        assert_offline_on_v1(server.url, "the registry's baseline cannot be loaded")
        # the loop keeps trying v3 (backing off), and goes back online once baseline is good
        registry.set_designation("baseline", "2")
        assert wait_for(lambda: httpx.get(f"{server.url}/ready").json()["version"] == "2")
        assert httpx.get(f"{server.url}/ready").json()["offline"] is False
    assert "checksum mismatch" in server.log.read_text()


def test_an_unreachable_registry_at_start_up_serves_the_cached_baseline(home: Path) -> None:
    env = {**ENV, "EMOTION_CLF_TRACKING_URI": f"http://127.0.0.1:{free_port()}"}
    with running_server(home, env=env) as server:
        assert_offline_on_v1(server.url, "the registry is unreachable")
        refreshed = httpx.post(f"{server.url}/refresh-model", headers=auth())
        assert refreshed.status_code == 503
        assert_public(refreshed, home)
        # the poll loop is alive: it keeps counting failed checks without dying
        metrics = httpx.get(f"{server.url}/metrics").text
        assert "emotion_clf_model_info" in metrics
    assert "Traceback" not in server.log.read_text()

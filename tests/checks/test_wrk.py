"""The wrk engine of the load generator, against real HTTP listeners on 127.0.0.1."""

from __future__ import annotations

import shutil

import pytest

from emotion_clf.checks.load import Request, run_load
from emotion_clf.checks.wrk import lua_string
from tests.http_listeners import listeners

pytestmark = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (.ci/run installs it)"
)


def test_wrk_sends_every_payload_and_reports_like_the_thread_engine() -> None:
    requests = [
        Request("/predict", {"text": 'quotes " and \\ and ünïcode ✓'}),
        Request("/predict/batch", {"texts": ["a", "b"]}),
    ]
    with listeners((200, None)) as [listener]:
        report = run_load(
            listener.url,
            clients=2,
            duration_s=1,
            requests=requests,
            headers={"Authorization": "Bearer abc"},
            engine="wrk",
        )
    assert report.engine == "wrk"
    assert report.requests > 10 and report.failures == 0, report.to_dict()
    assert 0 < report.latency_ms["p50"] <= report.latency_ms["p99"]
    assert 0.5 < report.seconds < 3
    assert {r["path"] for r in listener.requests} == {"/predict", "/predict/batch"}
    assert {r["authorization"] for r in listener.requests} == {"Bearer abc"}
    assert report.to_dict()["engine"] == "wrk"


def test_wrk_counts_error_statuses_as_failures() -> None:
    with listeners((500, None)) as [listener]:
        report = run_load(listener.url, clients=1, duration_s=1, engine="wrk")
    assert report.requests > 0 and report.failures == report.requests
    assert report.statuses["4xx/5xx"] == report.requests


def test_wrk_refuses_what_it_cannot_do() -> None:
    with pytest.raises(ValueError, match="duration"):
        run_load("http://127.0.0.1:1", clients=1, max_requests=5, engine="wrk")
    with pytest.raises(ValueError, match="unknown load engine"):
        run_load("http://127.0.0.1:1", clients=1, duration_s=1, engine="ab")


def test_lua_strings_escape_every_byte_that_could_quote() -> None:
    assert lua_string('a "b"\n') == '"a \\034b\\034\\010"'
    assert lua_string("é") == '"\\195\\169"'

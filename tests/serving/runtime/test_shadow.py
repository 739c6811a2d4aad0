"""Shadow traffic: the candidate answers sampled live requests off the path, both are logged,
and ``shadow-report`` pairs them."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from fastapi.testclient import TestClient

from emotion_clf.monitoring.predictions import read_prediction_log
from emotion_clf.monitoring.shadow import shadow_agreement
from tests.cli.helpers import run_cli
from tests.serving.helpers import build_app, wait_for

TEXTS = ["I love this", "This is awful", "What a surprise", "I am scared", "fine, I guess"]


def test_the_candidate_answers_sampled_requests_and_the_report_pairs_them(home: Path) -> None:
    app = build_app(home, shadow_rate=1.0, log_prediction_text=True)
    state = app.state.serving
    with TestClient(app) as client:
        assert wait_for(lambda: state.shadow.model is not None, timeout=30)
        assert state.shadow.model.version == "2"  # dynamic, beside baseline v1
        for text in TEXTS:
            answer = client.post("/predict", json={"text": text})
            assert answer.status_code == 200 and answer.headers["X-Model-Version"] == "1"
        batch = client.post("/predict/batch", json={"texts": TEXTS[:3]})
        assert batch.status_code == 200
        assert wait_for(lambda: state.shadow.predicted == 8, timeout=30)
        # the candidate predicts in a process of its own, at the lowest CPU priority
        pid = state.shadow.process_pid
        assert pid is not None and pid != os.getpid()
        assert os.getpriority(os.PRIO_PROCESS, pid) == 19
        assert os.getpriority(os.PRIO_PROCESS, os.getpid()) < 19
    read = read_prediction_log(home / "monitoring" / "predictions")
    routes = sorted(r.route for r in read.records)
    assert routes.count("shadow:/predict") == 5 and routes.count("/predict") == 5
    assert routes.count("shadow:/predict/batch") == 3
    report = shadow_agreement(read.records)
    assert report.pairs == 8 and report.unpaired == 0
    assert report.served_versions == {"1": 8} and report.candidate_versions == {"2": 8}
    for head, tally in report.heads.items():
        assert tally.total == 8
        assert sum(n for _, n in tally.per_label.values()) == 8
        wrong = [e for e in report.examples if e.head == head]
        assert len(wrong) == min(8 - tally.agree, 10)
        assert all(e.served != e.candidate and e.text in TEXTS for e in wrong)

    result = run_cli("shadow-report", "--json", home=home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pairs"] == 8
    shown = run_cli("shadow-report", home=home)
    assert shown.returncode == 0 and "agreement per head" in shown.stdout


def test_a_dead_shadow_process_pauses_shadowing_and_comes_back(home: Path) -> None:
    app = build_app(home, shadow_rate=1.0, poll_s=0.5)
    state = app.state.serving
    with TestClient(app) as client:
        assert wait_for(lambda: state.shadow.model is not None, timeout=60)
        first = state.shadow.process_pid
        os.kill(first, signal.SIGKILL)
        # the live path does not notice; the shadow restarts its process and reloads
        for text in TEXTS:
            assert client.post("/predict", json={"text": text}).status_code == 200
        assert wait_for(
            lambda: state.shadow.model is not None and state.shadow.process_pid != first,
            timeout=60,
        )
        done = state.shadow.predicted
        assert client.post("/predict", json={"text": "again"}).status_code == 200
        # at least one more: samples queued before the kill may also run once it is back
        assert wait_for(lambda: state.shadow.predicted >= done + 1, timeout=30)
    assert state.shadow.process_pid is None  # closed with the server


def test_without_a_rate_there_is_no_shadow(home: Path) -> None:
    app = build_app(home)
    assert app.state.serving.shadow is None
    with TestClient(app) as client:
        assert client.post("/predict", json={"text": "hi"}).status_code == 200
    records = read_prediction_log(home / "monitoring" / "predictions").records
    assert [r.route for r in records] == ["/predict"]
    result = run_cli("shadow-report", home=home)
    assert result.returncode == 0 and "no shadow answers" in result.stderr

"""The health check and the load test, against a real server and against one that misbehaves."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from emotion_clf.checks.health import check_health
from emotion_clf.checks.load import LoadGenerator, Request, run_load
from emotion_clf.checks.scenarios import scenarios
from tests.cli.helpers import run_cli
from tests.http_listeners import down_url, serving
from tests.serving.helpers import TOKEN
from tests.serving.server import running_server

SERVER_ENV = {"EMOTION_CLF_REFRESH_TOKEN": TOKEN, "EMOTION_CLF_POLL_S": "0"}


def test_a_healthy_server_passes_every_scenario_and_a_load_run_sees_the_switch(
    home: Path,
) -> None:
    with running_server(home, env=SERVER_ENV) as server:
        report = check_health(server.url, token=TOKEN)
        assert [r.name for r in report.failures] == []
        assert len(report.results) == len(scenarios(token=TOKEN)) >= 25
        statuses = {r.name: r.status for r in report.results}
        assert statuses["body over the size limit"] == 413
        assert statuses["10,000 characters"] == 422  # the default EMOTION_CLF_MAX_TEXT_CHARS
        assert statuses["refresh with the token"] == 200

        cli = run_cli("health-check", "--url", server.url, "--json", home=home)
        assert cli.returncode == 0, cli.stdout[-2000:]
        assert json.loads(cli.stdout)["failures"] == 0

        loaded = run_cli(
            "health-check", "--url", server.url, "--load", "--concurrency", "4",
            "--duration", "15", "--switch-at", "2", "--switch", "promote", "--version", "2",
            "--json",
            home=home, env=SERVER_ENV,
        )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    run = json.loads(loaded.stdout)
    assert run["requests"] > 100 and run["failures"] == 0
    assert set(run["latency_ms"]) == {"mean", "p50", "p95", "p99"}
    assert run["throughput_rps"] > 0
    switch = run["switch"]
    assert switch["ok"], switch["detail"]
    assert "baseline v1 -> v2" in switch["detail"] and "swapped: True" in switch["detail"]
    assert set(switch["versions_before"]) == {"1"}
    assert set(switch["versions_after"]) == {"2"}  # requests sent after the refresh answered
    assert set(run["versions"]) == {"1", "2"}


class Misbehaving(BaseHTTPRequestHandler):
    """Healthy-looking on GET; a 500 with a traceback for predictions; 200 for everything else."""

    def _answer(self, status: int, body: object) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._answer(200, {"status": "ok", "ready": True})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path == "/predict":
            self._answer(500, {"detail": "Traceback (most recent call last): ..."})
        else:
            self._answer(200, {"ok": True})

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_misbehaving_server_fails_with_the_reasons(tmp_path: Path) -> None:
    with serving(Misbehaving) as url:
        report = check_health(url)
        cli = run_cli("health-check", "--url", url, home=tmp_path, env={"COLUMNS": "200"})
        load = run_load(
            url, clients=2, max_requests=20, requests=[Request("/predict", {"text": "x"})]
        )
    failed = {r.name: r for r in report.failures}
    assert not report.passed and report.reachable
    assert {"liveness", "readiness"} - set(failed) == {"liveness", "readiness"}
    assert failed["valid text"].status == 500 and "Traceback" in failed["valid text"].detail
    assert "no emotion label" in failed["batch of three"].detail or "expected 3" in (
        failed["batch of three"].detail
    )
    assert failed["empty batch"].detail.startswith("answered 200")  # accepted what it must refuse
    assert failed["refresh without a token"].status == 200
    assert cli.returncode == 1 and "FAIL" in cli.stdout
    assert load.requests == 20 and load.failures == 20 and load.statuses == {"500": 20}


def test_no_server_is_exit_code_2_and_says_why(tmp_path: Path) -> None:
    url = down_url().removesuffix("/refresh-model")
    report = check_health(url, timeout_s=2)
    assert not report.reachable
    assert all(
        r.detail.startswith("no answer: cannot reach") and "could not connect" in r.detail
        for r in report.results
    )
    cli = run_cli("health-check", "--url", url, "--json", home=tmp_path)
    assert cli.returncode == 2 and json.loads(cli.stdout)["passed"] is False
    bad = run_cli("health-check", "--url", url, "--load", home=tmp_path)
    assert bad.returncode == 2 and "--duration S or --requests N" in bad.stderr


def test_a_load_generator_stops_at_its_budget_and_keeps_each_clients_order() -> None:
    with serving(Misbehaving) as url:
        generator = LoadGenerator(url, clients=3, max_requests=30).start()
        generator.join(30)
    assert generator.count == 30
    assert all(
        [a.started_s for a in answers] == sorted(a.started_s for a in answers)
        for answers in generator.answers
    )

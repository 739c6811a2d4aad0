"""The refresh token: long enough to start, failed attempts rate limited per client, and
never written to a log."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from emotion_clf.config import MIN_REFRESH_TOKEN_CHARS
from emotion_clf.errors import ConfigError
from emotion_clf.promotion import promote
from tests.cli.helpers import run_cli
from tests.serving.helpers import TOKEN, auth, build_app, make_settings
from tests.serving.server import running_server


def test_a_short_token_stops_start_up_with_a_clear_message(home: Path) -> None:
    short = "s3cret-but-only-31-characters-x"
    assert len(short) == MIN_REFRESH_TOKEN_CHARS - 1
    with pytest.raises(ConfigError, match="31 characters long; a server needs at least 32"):
        build_app(home, refresh_token=short)
    result = run_cli(
        "serve",
        "--port",
        "1",
        home=home,
        env={"EMOTION_CLF_REFRESH_TOKEN": short},
        process=True,  # a server, if it started, would stay up
    )
    assert result.returncode != 0
    assert "a server needs at least 32" in result.stderr
    assert "secrets.token_urlsafe" in result.stderr  # how to make a good one
    assert short not in result.stderr + result.stdout
    assert len(TOKEN) >= MIN_REFRESH_TOKEN_CHARS
    build_app(home, refresh_token="x" * MIN_REFRESH_TOKEN_CHARS)  # 32 is enough


def test_failed_refresh_attempts_are_rate_limited_per_client(home: Path) -> None:
    app = build_app(home, refresh_failures_per_minute=3)
    with TestClient(app) as client:
        assert client.post("/refresh-model", headers=auth()).status_code == 200
        for _ in range(3):
            assert client.post("/refresh-model", headers=auth("wrong")).status_code == 401
        limited = client.post("/refresh-model", headers=auth("wrong"))
        assert limited.status_code == 429, limited.text
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert "too many failed refresh attempts" in limited.json()["detail"]
        assert limited.json()["request_id"]
        # even the right token waits: guessing must not get a free try per minute
        assert client.post("/refresh-model", headers=auth()).status_code == 429
        # another client is not affected
        other = TestClient(app, client=("10.0.0.9", 40000))
        assert other.post("/refresh-model", headers=auth()).status_code == 200
        metrics = client.get("/metrics").text
        assert 'route="/refresh-model",status="429"} 2.0' in metrics


def test_a_success_clears_the_clients_failures(home: Path) -> None:
    with TestClient(build_app(home, refresh_failures_per_minute=2)) as client:
        assert client.post("/refresh-model", headers=auth("wrong")).status_code == 401
        assert client.post("/refresh-model", headers=auth()).status_code == 200
        assert client.post("/refresh-model", headers=auth("wrong")).status_code == 401
        assert client.post("/refresh-model", headers=auth()).status_code == 200


def test_the_token_never_appears_in_the_log(home: Path) -> None:
    wrong = "wrong-token-" + TOKEN[::-1]
    env = {
        "EMOTION_CLF_REFRESH_TOKEN": TOKEN,
        "EMOTION_CLF_POLL_S": "0",
        "EMOTION_CLF_REFRESH_FAILURES_PER_MINUTE": "2",
    }
    with running_server(home, env=env) as server:
        refresh = f"{server.url}/refresh-model"
        promote(settings=make_settings(home), version="2", force=True, reason="t", refresh=False)
        assert httpx.post(refresh, headers=auth()).status_code == 200
        assert httpx.post(refresh, headers=auth(wrong)).status_code == 401
        assert httpx.post(refresh, headers={"Authorization": TOKEN}).status_code == 401
        assert httpx.post(refresh, headers=auth(wrong)).status_code == 429
        assert httpx.post(f"{server.url}/predict", json={"text": TOKEN[:5]}).status_code == 200
    log = server.log.read_text()
    assert "refused POST /refresh-model" in log  # the failures are logged, without the token
    assert "now serving v2" in log
    for secret in (TOKEN, wrong, TOKEN[:16], TOKEN[-16:]):
        assert secret not in log
    predictions = (home / "monitoring" / "predictions").glob("*.jsonl")
    assert not any(TOKEN in p.read_text() for p in predictions)

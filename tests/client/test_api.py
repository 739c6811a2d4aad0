"""The API client against a real server, and against servers that fail in every way a caller
meets: nobody listening, no answer in time, a proxy's HTML page, JSON of another service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from emotion_clf.client import (
    ApiAnswerError,
    ApiClient,
    ApiContractError,
    ApiNotJsonError,
    ApiTimeoutError,
    ApiUnreachableError,
)
from emotion_clf.errors import DataError
from tests.cli.helpers import run_cli
from tests.conftest import Homes, copy_home
from tests.http_listeners import Raw, free_port
from tests.serving.helpers import TOKEN
from tests.serving.server import running_server

PROXY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@pytest.fixture(scope="module")
def server_url(registry_homes: Homes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real ``emotion-clf serve`` (v1 baseline) for the module's read-only calls."""
    with pytest.MonkeyPatch.context() as mp:
        home = copy_home(registry_homes.promoted, tmp_path_factory.mktemp("client"), mp)
        env = {"EMOTION_CLF_REFRESH_TOKEN": TOKEN, "EMOTION_CLF_MAX_TEXT_CHARS": "50"}
        with running_server(home, env=env) as server:
            yield server.url


def test_every_route_answers_in_the_servers_own_types(server_url: str) -> None:
    with ApiClient(server_url) as client:
        one = client.predict("What a lovely surprise!", distributions=True)
        assert one.model_version == "1"
        assert one.emotion.distribution is not None
        assert abs(sum(one.emotion.distribution.values()) - 1) < 1e-6
        batch = client.predict_batch(["so happy", "so sad", "so angry"])
        assert batch.count == 3 and len(batch.predictions) == 3
        assert batch.predictions[0].emotion.distribution is None
        assert client.health().status == "ok"
        ready = client.ready()
        assert ready.ready and ready.version == "1"
        assert client.model().family == "tfidf"
    with ApiClient(server_url, token=TOKEN) as client:
        refreshed = client.refresh()
        assert refreshed.current_version == "1" and not refreshed.swapped


def test_the_servers_refusal_names_the_field_and_keeps_its_request_id(server_url: str) -> None:
    with ApiClient(server_url) as client, pytest.raises(ApiAnswerError) as caught:
        client.predict_batch(["short", "x" * 60])
    error = caught.value
    assert error.status_code == 422 and error.field == "texts[1]"
    assert "limit is 50" in error.reason and error.request_id
    assert not isinstance(error, DataError)  # a server's answer is not a bad input row
    with ApiClient(server_url) as client, pytest.raises(ApiAnswerError) as refused:
        client.refresh()  # no token
    assert refused.value.status_code == 401


def test_nobody_listening_is_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with ApiClient(url) as client, pytest.raises(ApiUnreachableError) as caught:
        client.predict("hello")
    assert caught.value.message == f"cannot reach {url}/predict: could not connect (is the " \
        "server running, and the address right?)"  # fmt: skip


def test_no_answer_in_time_is_a_timeout() -> None:
    with Raw(hang=True) as hung, ApiClient(hung.url, timeout_s=0.5) as client:
        with pytest.raises(ApiTimeoutError, match="did not answer within 0.5 s"):
            client.predict_batch(["hello"])
        assert hung.requests == [("POST", "/predict/batch")]


def test_a_proxys_error_page_is_not_json_and_says_so() -> None:
    with (
        Raw(PROXY_PAGE, status=502) as proxy,
        ApiClient(proxy.url) as client,
        pytest.raises(ApiNotJsonError) as caught,
    ):
        client.predict_batch(["hello"])
    error = caught.value
    assert error.status_code == 502 and error.content_type == "text/html"
    assert "502 Bad Gateway" in error.snippet
    assert "answered HTTP 502 with text/html, not JSON" in error.message
    assert "proxy or gateway" in error.message


def test_json_of_another_shape_breaks_the_contract() -> None:
    other = json.dumps({"result": "ok"}).encode()
    with Raw(other, content_type="application/json") as service, ApiClient(service.url) as c:
        with pytest.raises(ApiContractError, match="not a BatchResponse"):
            c.predict_batch(["hello"])
        assert c.request("GET", "/").json() == {"result": "ok"}  # raw: answered as it is
    error = json.dumps({"error": "quota exceeded"}).encode()
    with (
        Raw(error, status=429, content_type="application/json") as gateway,
        ApiClient(gateway.url) as c,
        pytest.raises(ApiAnswerError) as caught,
    ):
        c.predict("hello")
    assert caught.value.status_code == 429 and "quota exceeded" in caught.value.reason


def test_a_url_that_is_not_one_is_refused_before_any_request() -> None:
    with pytest.raises(ApiUnreachableError, match="not a valid http"):
        ApiClient("http://[::1/x")


def test_the_command_line_says_what_went_wrong_in_one_line(tmp_path: Path) -> None:
    """``predict --api`` on a proxy's page, a server that is down, and ``--input-file`` of a
    URL that is not one: a clear message, a non-zero exit, no traceback."""
    with Raw(PROXY_PAGE, status=502) as proxy:
        proxied = run_cli("predict", "hello", "--api", proxy.url, home=tmp_path)
    down = run_cli("predict", "hello", "--api", f"http://127.0.0.1:{free_port()}", home=tmp_path)
    for result in (proxied, down):
        assert result.returncode != 0
        assert "Traceback" not in result.stderr + result.stdout
    assert "answered HTTP 502 with text/html, not JSON" in proxied.stderr
    assert "could not connect" in down.stderr

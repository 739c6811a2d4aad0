"""Errors nobody expected get the documented JSON body with the request id, are logged once
with one traceback, and a full disk says so; a server without speech-to-text says so before it
fetches anything."""

from __future__ import annotations

import errno
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from emotion_clf.serving.runtime.loading import LoadedModel
from tests.http_listeners import Raw
from tests.security.conftest import ProbeLog
from tests.serving.helpers import build_app


def _explode(error: BaseException):  # type: ignore[no-untyped-def]
    def describe(self: LoadedModel) -> dict[str, object]:
        raise error

    return describe


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (RuntimeError("secret internals /srv/x"), 500, "internal error"),
        (OSError(errno.ENOSPC, "No space left on device"), 507, "out of disk space"),
    ],
)
def test_an_unexpected_error_is_one_json_answer_and_one_logged_traceback(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: BaseException,
    status: int,
    detail: str,
    probes: ProbeLog,
) -> None:
    monkeypatch.setattr(LoadedModel, "describe", _explode(error))
    # raise_server_exceptions=True: an exception that left the app would fail the test here
    with TestClient(build_app(home)) as client:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            answer = client.get("/model", headers={"X-Request-ID": "probe-1"})
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert detail in body["detail"] and body["request_id"] == "probe-1"
    assert "secret" not in answer.text and "Traceback" not in answer.text
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    probes.record(
        "an error nobody expected (a bug; a full disk)",
        expected="JSON 500 (507 for a full disk) with the request id, one logged traceback",
        observed=f"{answer.status_code} {answer.headers['content-type']}, "
        f"{len(tracebacks)} traceback(s)",
        ok=answer.status_code == status and len(tracebacks) == 1,
    )
    assert len(tracebacks) == 1 and "probe-1" in tracebacks[0].getMessage()


def test_without_speech_to_text_no_url_is_fetched(
    home: Path, monkeypatch: pytest.MonkeyPatch, probes: ProbeLog
) -> None:
    monkeypatch.setattr("emotion_clf.serving.http.routes.media.speech_available", lambda: False)
    with Raw(b"RIFF", content_type="audio/wav") as inside:
        app = build_app(home, media_urls="127.0.0.1:internal")
        with TestClient(app) as client:
            answer = client.post("/predict/media", json={"url": f"{inside.url}/a.wav"})
        reached = len(inside.requests)
    probes.record(
        "a media URL where speech-to-text is not installed",
        expected="501, listener untouched",
        observed=f"{answer.status_code}, {reached} request(s) at the listener",
        ok=answer.status_code == 501 and reached == 0,
    )
    assert reached == 0
    assert answer.status_code == 501 and "speech" in answer.json()["detail"]

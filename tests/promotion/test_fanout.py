from __future__ import annotations

import time

from emotion_clf.promotion.fanout import fan_out
from tests.http_listeners import down_url, listeners


def test_each_endpoint_gets_the_token_and_its_own_result() -> None:
    with listeners((200, None), (500, None)) as (ok, failing):
        down = down_url()
        started = time.perf_counter()
        results = fan_out(
            [ok.url, failing.url, down], token="s3cret", timeout_s=2, retries=2, backoff_s=0.05
        )
        elapsed = time.perf_counter() - started
    assert [r.ok for r in results] == [True, False, False]
    assert ok.requests == [{"path": "/refresh-model", "authorization": "Bearer s3cret"}]
    answer = results[0].answer
    assert answer is not None and answer.current_version == "2"
    assert "swapped: True" in results[0].describe()
    assert len(failing.requests) == 3 and results[1].attempts == 3  # 5xx is retried
    assert "HTTP 500" in (results[1].error or "")
    assert results[2].attempts == 3 and "could not connect" in (results[2].error or "")
    assert elapsed < 5


def test_a_client_error_is_not_retried() -> None:
    with listeners((401, None)) as (refusing,):
        [result] = fan_out([refusing.url], token="wrong", timeout_s=2, retries=3, backoff_s=0.05)
    assert not result.ok and result.status_code == 401 and result.attempts == 1
    assert len(refusing.requests) == 1


def test_no_endpoints_means_no_calls() -> None:
    assert fan_out([], token=None) == []


def test_an_answer_that_is_not_a_refresh_answer_is_a_failure() -> None:
    with listeners((200, {"status": "ok"})) as (other,):
        [result] = fan_out([other.url], token=None, timeout_s=2, retries=2, backoff_s=0.01)
    assert not result.ok and result.answer is None
    assert "not a refresh answer" in (result.error or "")
    assert len(other.requests) == 1  # not retried: another server will not answer otherwise

"""The per-client volume limit of /feedback: a sliding minute, bounded memory."""

from __future__ import annotations

import pytest

from emotion_clf.serving.http.ratelimit import VolumeLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_submissions_a_minute_slide_and_a_refusal_costs_nothing() -> None:
    clock = Clock()
    limiter = VolumeLimiter(max_requests=3, max_bytes=0, clock=clock)
    for _ in range(3):
        assert limiter.admit("a", 10) is None
        clock.now += 10
    assert limiter.admit("a", 10) == pytest.approx(30.0)  # the first leaves at 1060
    assert limiter.admit("b", 10) is None  # another client is not held back
    clock.now = 1059.9
    assert limiter.admit("a", 10) == pytest.approx(0.1)  # the refusals were not counted
    clock.now = 1060.0
    assert limiter.admit("a", 10) is None
    assert limiter.admit("a", 10) is not None


def test_bytes_a_minute_and_one_big_body_on_an_empty_window() -> None:
    clock = Clock()
    limiter = VolumeLimiter(max_requests=0, max_bytes=1000, clock=clock)
    assert limiter.admit("a", 600) is None
    clock.now += 5
    assert limiter.admit("a", 300) is None
    assert limiter.admit("a", 200) == pytest.approx(55.0)  # once the 600 bytes have left
    assert limiter.retry_after("a", 100) is None  # 100 more still fit
    clock.now += 60
    assert limiter.admit("a", 5000) is None  # over the limit alone, but the minute was empty
    assert limiter.admit("a", 1) == pytest.approx(60.0)


def test_memory_is_bounded_in_clients_and_per_client() -> None:
    clock = Clock()
    limiter = VolumeLimiter(max_requests=10_000, max_bytes=0, max_clients=2, clock=clock)
    for second in range(300):
        clock.now = 1000.0 + second / 2
        limiter.admit("a", 1)
    assert len(limiter._clients["a"]) <= 60  # one bucket a second, one minute of them
    limiter.admit("b", 1)
    limiter.admit("c", 1)
    assert list(limiter._clients) == ["b", "c"]  # the client seen longest ago is forgotten


def test_zero_turns_a_limit_off() -> None:
    limiter = VolumeLimiter(max_requests=0, max_bytes=0)
    assert all(limiter.admit("a", 10**9) is None for _ in range(1000))
    assert not limiter._clients

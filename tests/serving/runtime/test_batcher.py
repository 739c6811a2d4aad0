from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from emotion_clf.errors import ModelUnavailableError
from emotion_clf.models.base import Predictor
from emotion_clf.models.bundle import load_bundle
from emotion_clf.serving.runtime.batcher import (
    LOOP_CHARS,
    RETURN_SHARE,
    MicroBatcher,
    on_loop,
    returning_wait,
)
from emotion_clf.serving.runtime.metrics import ServingMetrics

Calls = list[tuple[str, list[str]]]


def spied(bundle: Path, name: str, calls: Calls) -> Predictor:
    """A real model whose calls are recorded (name, texts)."""
    predictor = load_bundle(bundle)
    original = predictor.predict_batch

    def predict_batch(texts: Any) -> Any:
        calls.append((name, list(texts)))
        return original(texts)

    predictor.predict_batch = predict_batch  # type: ignore[method-assign]
    return predictor


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def with_batcher(body: Any, **options: Any) -> Any:
    batcher = MicroBatcher(
        max_size=options.pop("max_size", 64),
        max_wait_s=options.pop("max_wait_s", 0.005),
        metrics=ServingMetrics(),
        **options,
    )
    await batcher.start()
    try:
        return await body(batcher)
    finally:
        await batcher.close()


def test_concurrent_requests_share_one_model_call_and_get_their_own_rows(
    tfidf_bundle: Path,
) -> None:
    calls: Calls = []
    model = spied(tfidf_bundle, "a", calls)
    texts = [f"text number {i}, {'great' if i % 2 else 'awful'}" for i in range(20)]

    async def body(batcher: MicroBatcher) -> Any:
        return await asyncio.gather(*(batcher.predict([t], model) for t in texts))

    results = run(with_batcher(body))
    assert calls == [("a", texts)]  # one call for twenty requests
    direct = load_bundle(tfidf_bundle).predict(texts)
    assert [r[0] for r in results] == direct  # each request got its own row


def test_a_batch_never_mixes_model_snapshots(tfidf_bundle: Path) -> None:
    calls: Calls = []
    old, new = spied(tfidf_bundle, "old", calls), spied(tfidf_bundle, "new", calls)

    async def body(batcher: MicroBatcher) -> Any:
        jobs = [(old, "o1"), (new, "n1"), (old, "o2"), (new, "n2")]
        return await asyncio.gather(*(batcher.predict([t], m) for m, t in jobs))

    run(with_batcher(body))
    assert calls == [("old", ["o1", "o2"]), ("new", ["n1", "n2"])]


def test_large_requests_are_cut_to_the_batch_size_in_order(tfidf_bundle: Path) -> None:
    calls: Calls = []
    model = spied(tfidf_bundle, "a", calls)
    texts = [f"t{i}" for i in range(10)]

    async def body(batcher: MicroBatcher) -> Any:
        return await batcher.predict(texts, model)

    result = run(with_batcher(body, max_size=4))
    assert [len(c[1]) for c in calls] == [4, 4, 2]
    assert result == load_bundle(tfidf_bundle).predict(texts)


def test_a_lone_request_does_not_wait_but_expected_ones_are_waited_for(
    tfidf_bundle: Path,
) -> None:
    calls: Calls = []
    model = spied(tfidf_bundle, "a", calls)

    async def alone(batcher: MicroBatcher) -> float:
        started = time.perf_counter()
        await batcher.predict(["hello"], model)
        return time.perf_counter() - started

    assert run(with_batcher(alone, max_wait_s=2.0)) < 1.0  # nobody else in flight: no wait

    calls.clear()
    in_flight = {"n": 2}  # the middleware says two requests are being handled

    async def pair(batcher: MicroBatcher) -> Any:
        first = asyncio.create_task(batcher.predict(["one"], model))
        await asyncio.sleep(0.05)  # the second request is still being parsed
        second = asyncio.create_task(batcher.predict(["two"], model))
        return await asyncio.gather(first, second)

    run(with_batcher(pair, max_wait_s=2.0, arriving=lambda: in_flight["n"]))
    assert calls == [("a", ["one", "two"])]


def test_the_wait_for_returning_requests_is_bounded_by_the_last_batch() -> None:
    def wait(**kw: Any) -> float:
        case = {"expected": 8, "gathered": 4, "finished_ago_s": 0.0, "last_run_s": 0.04}
        return returning_wait(**{**case, **kw}, max_wait_s=0.005)

    assert wait() == 0.005  # a slow model: up to max_wait
    assert wait(finished_ago_s=0.002) == pytest.approx(0.003)  # counted from its answers
    assert wait(last_run_s=0.001) == pytest.approx(RETURN_SHARE * 0.001)  # a fast model
    assert wait(gathered=8) == 0.0  # everyone expected is here
    assert wait(finished_ago_s=1.0) == 0.0  # an idle server never waits


def test_clients_that_take_turns_end_up_in_one_batch(
    tfidf_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight clients, each sending its next request as soon as it has its answer, the second
    four starting while the first four's batch runs. Without the wait for returning requests
    the two groups take turns for good (each batch holds four); with it they merge."""
    predictor = load_bundle(tfidf_bundle)
    monkeypatch.setattr(type(predictor), "holds_gil", False)  # in the thread, as minilm
    sizes: list[int] = []
    original = predictor.predict_batch

    def slow(texts: Any) -> Any:  # a batch costs 100 ms (minilm's: 30-60), so it may wait 25
        sizes.append(len(texts))
        time.sleep(0.1)
        return original(texts)

    predictor.predict_batch = slow  # type: ignore[method-assign]

    async def client(i: int, start_s: float) -> None:
        await asyncio.sleep(start_s)
        for _ in range(6):
            await batcher_ref[0].predict([f"client {i}"], predictor)

    batcher_ref: list[MicroBatcher] = []

    async def body(batcher: MicroBatcher) -> None:
        batcher_ref.append(batcher)
        await asyncio.gather(*(client(i, 0.0 if i < 4 else 0.05) for i in range(8)))

    run(with_batcher(body, max_wait_s=0.05))
    # the first four alone; from then on all eight (the second four's last request alone)
    assert sizes == [4, 8, 8, 8, 8, 8, 4], sizes


def test_the_wait_for_returning_requests_starts_when_the_answers_are_out(
    tfidf_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answering takes the loop time: each answer holds it a while (a server's JSON and socket
    write), and each client's next request comes a little after its answer. The eighth client
    is back 8 x 6 + 5 = 53 ms after the model returned, past the 50 ms wait counted from there;
    counted from when the answers are out, it is 5 ms into the wait, in time. (A server's
    figures are ten times smaller: 0.6 ms, 0.5 ms, 5 ms; scaled up so a loaded machine's
    scheduling jitter cannot decide the test.)"""
    predictor = load_bundle(tfidf_bundle)
    monkeypatch.setattr(type(predictor), "holds_gil", False)  # in the thread, as minilm
    sizes: list[int] = []
    original = predictor.predict_batch

    def slow(texts: Any) -> Any:  # 200 ms a batch: a returning request may be waited 50 ms
        sizes.append(len(texts))
        time.sleep(0.2)
        return original(texts)

    predictor.predict_batch = slow  # type: ignore[method-assign]

    async def client(batcher: MicroBatcher, i: int) -> None:
        for _ in range(6):
            await batcher.predict([f"client {i}"], predictor)
            time.sleep(0.006)  # writing the answer: the loop is busy
            await asyncio.sleep(0.005)  # the client's next request on its way

    async def body(batcher: MicroBatcher) -> None:
        await asyncio.gather(*(client(batcher, i) for i in range(8)))

    run(with_batcher(body, max_wait_s=0.05))
    assert sizes == [8] * 6, sizes


def threads_of(predictor: Predictor) -> list[tuple[int, int]]:
    """(texts, thread id) of every call to ``predictor`` from now on."""
    original = predictor.predict_batch
    threads: list[tuple[int, int]] = []

    def predict_batch(texts: Any) -> Any:
        threads.append((len(texts), threading.get_ident()))
        return original(texts)

    predictor.predict_batch = predict_batch  # type: ignore[method-assign]
    return threads


def test_a_lone_text_runs_on_the_loop_and_concurrent_ones_in_the_worker_thread(
    tfidf_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    predictor = load_bundle(tfidf_bundle)
    monkeypatch.setattr(type(predictor), "holds_gil", False)  # as minilm: torch lets go of it
    threads = threads_of(predictor)

    async def body(batcher: MicroBatcher) -> Any:
        await batcher.predict(["alone"], predictor)
        await asyncio.gather(*(batcher.predict([f"t{i}"], predictor) for i in range(8)))
        await batcher.predict(["two", "texts"], predictor)

    run(with_batcher(body))
    loop_thread = threading.get_ident()  # asyncio.run runs the loop on this thread
    assert threads[0] == (1, loop_thread)
    assert threads[1][0] == 8 and threads[1][1] != loop_thread
    assert threads[2][0] == 2 and threads[2][1] != loop_thread


def test_a_model_that_holds_the_lock_runs_short_batches_on_the_loop(tfidf_bundle: Path) -> None:
    predictor = load_bundle(tfidf_bundle)
    assert predictor.holds_gil  # tfidf counts its n-grams in Python
    threads = threads_of(predictor)
    long_text = "a rather long sentence about feelings " * 50  # 1,900 characters
    assert 2 * len(long_text) <= LOOP_CHARS < 3 * len(long_text)

    async def body(batcher: MicroBatcher) -> Any:
        await asyncio.gather(*(batcher.predict([f"t{i}"], predictor) for i in range(8)))
        await batcher.predict([long_text, long_text], predictor)
        await batcher.predict([long_text] * 3, predictor)

    run(with_batcher(body))
    loop_thread = threading.get_ident()
    assert threads[0] == (8, loop_thread)
    assert threads[1] == (2, loop_thread)
    assert threads[2][0] == 3 and threads[2][1] != loop_thread  # over LOOP_CHARS


def test_where_a_batch_runs_is_decided_by_the_model_and_the_batch(
    tfidf_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tfidf = load_bundle(tfidf_bundle)
    assert on_loop(["one"], tfidf, alone=True)
    assert on_loop(["one", "two"], tfidf, alone=False)
    assert on_loop(["x" * LOOP_CHARS], tfidf, alone=False)
    assert not on_loop(["x" * LOOP_CHARS, "y"], tfidf, alone=False)
    monkeypatch.setattr(type(tfidf), "holds_gil", False)
    assert on_loop(["one"], tfidf, alone=True)
    assert not on_loop(["one"], tfidf, alone=False)  # others are on their way: overlap them
    assert not on_loop(["one", "two"], tfidf, alone=True)


def test_a_failing_batch_fails_its_requests_and_the_batcher_carries_on(
    tfidf_bundle: Path,
) -> None:
    model = load_bundle(tfidf_bundle)
    broken = load_bundle(tfidf_bundle)

    def explode(texts: Any) -> Any:
        raise RuntimeError("model exploded")

    broken.predict_batch = explode  # type: ignore[method-assign]

    async def body(batcher: MicroBatcher) -> Any:
        with pytest.raises(RuntimeError, match="exploded"):
            await batcher.predict(["x"], broken)
        return await batcher.predict(["y"], model)

    assert len(run(with_batcher(body))) == 1


def test_predicting_before_start_is_a_clear_error(tfidf_bundle: Path) -> None:
    batcher = MicroBatcher(max_size=8, max_wait_s=0, metrics=ServingMetrics())
    with pytest.raises(ModelUnavailableError, match="not running"):
        run(batcher.predict(["x"], load_bundle(tfidf_bundle)))


def test_closing_answers_requests_still_waiting(
    tfidf_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = load_bundle(tfidf_bundle)
    monkeypatch.setattr(type(model), "holds_gil", False)  # its batches go to the thread
    original = model.predict_batch

    running = threading.Event()

    def slow(texts: Any) -> Any:
        running.set()
        time.sleep(1.0)
        return original(texts)

    model.predict_batch = slow  # type: ignore[method-assign]

    async def scenario() -> list[Any]:
        batcher = MicroBatcher(max_size=1, max_wait_s=0, metrics=ServingMetrics())
        await batcher.start()
        requests = [asyncio.create_task(batcher.predict([t], model)) for t in ("a", "b")]
        # "a" is in the worker thread (for a second), "b" is queued: waited for, not timed
        assert await asyncio.to_thread(running.wait, 10)
        await batcher.close()
        return await asyncio.gather(*requests, return_exceptions=True)

    outcomes = run(scenario())
    assert all(isinstance(o, ModelUnavailableError) for o in outcomes), outcomes

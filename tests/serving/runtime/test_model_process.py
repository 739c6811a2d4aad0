"""The served model in a process of its own (``model_process``): same answers, swaps, a child
that dies, a bundle that does not verify."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

from emotion_clf.promotion import promote
from emotion_clf.registry import open_registry
from emotion_clf.serving.runtime.batcher import on_loop
from emotion_clf.serving.runtime.model_process import ProcessPredictor
from tests.serving.helpers import auth, build_app, corrupt, make_settings, register_bundle, wait_for

TEXTS = ["I am so happy for you!", "This is terrible and I hate it.", "ok", "what a surprise"]


def _answers(client: TestClient) -> list[dict[str, object]]:
    out = []
    for text in TEXTS:
        answer = client.post("/predict?distributions=true", json={"text": text})
        assert answer.status_code == 200, answer.text
        out.append(answer.json())
    batch = client.post("/predict/batch", json={"texts": TEXTS})
    assert batch.status_code == 200, batch.text
    out.append(batch.json())
    return out


def _state(pid: int) -> tuple[str, int] | None:
    """A process's state letter and parent pid (Linux ``/proc``), ``None`` once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    return fields[0], int(fields[1])


def _gone(pid: int) -> bool:
    """Reaped, or a zombie whose every thread has exited (so ``waitpid`` can reap it: the main
    thread of a killed process shows ``Z`` while its other threads are still exiting, and
    until they have, the parent still sees it alive; CI's busy cores showed that window)."""
    state = _state(pid)
    if state is None:
        return True
    try:
        threads = len(os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return True
    return state[0] == "Z" and threads <= 1


def _predictor(client: TestClient) -> ProcessPredictor:
    model = client.app.state.serving.holder.current  # type: ignore[attr-defined]
    assert isinstance(model.predictor, ProcessPredictor)
    return model.predictor


def test_a_model_in_its_own_process_answers_exactly_as_in_the_worker(home: Path) -> None:
    with TestClient(build_app(home)) as client:
        expected = _answers(client)
        described = client.get("/model").json()
    with TestClient(build_app(home, model_process=True)) as client:
        child = _predictor(client).pid
        assert child is not None and _state(child) is not None
        # never on the event loop (a dead child takes seconds to start again), even a tfidf
        assert not on_loop(["one"], _predictor(client), alone=True)
        assert _state(child)[1] == os.getpid()  # type: ignore[index]
        assert _answers(client) == expected
        model = client.get("/model").json()
        assert {k: v for k, v in model.items() if k not in ("loaded_at", "load_seconds")} == {
            k: v for k, v in described.items() if k not in ("loaded_at", "load_seconds")
        }
    assert wait_for(lambda: _gone(child))  # the app's shutdown stopped it


def test_a_swap_starts_a_new_process_and_stops_the_old_one(home: Path) -> None:
    with TestClient(build_app(home, model_process=True)) as client:
        old = _predictor(client).pid
        assert old is not None
        promote(settings=make_settings(home), version="2", force=True, reason="t", refresh=False)
        answer = client.post("/refresh-model", headers=auth())
        assert answer.status_code == 200, answer.text
        new = _predictor(client)
        assert new.pid != old
        assert client.post("/predict", json={"text": "so happy"}).headers["x-model-version"] == "2"
        # the old model's process goes once nothing holds the old predictor
        assert wait_for(lambda: _gone(old))


def test_a_model_process_that_dies_is_started_again(home: Path) -> None:
    with TestClient(build_app(home, model_process=True), raise_server_exceptions=False) as client:
        predictor = _predictor(client)
        first = predictor.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)  # between two calls: the next call starts a new one
        assert wait_for(lambda: _gone(first))
        again = client.post("/predict/batch", json={"texts": ["a", "b"]})
        assert again.status_code == 200, again.text
        second = predictor.pid
        assert second not in (None, first) and predictor.restarts == 1

        # during a call: that call fails with a 503, the next one starts a new process
        assert second is not None
        os.kill(second, signal.SIGSTOP)  # the call waits on a process that then dies
        batcher = client.app.state.serving.batcher  # type: ignore[attr-defined]

        def kill_once_the_batch_runs() -> None:
            # killed before the call reaches the child, it would be found dead and restarted
            # (the first case); so only once the batch is in the prediction thread
            wait_for(lambda: bool(batcher._running))
            time.sleep(0.3)
            os.kill(second, signal.SIGKILL)

        killer = threading.Thread(target=kill_once_the_batch_runs)
        killer.start()
        failed = client.post("/predict/batch", json={"texts": ["a", "b"]})
        killer.join()
        assert failed.status_code == 503, failed.text
        assert "model process stopped" in failed.json()["detail"]
        assert client.post("/predict/batch", json={"texts": ["a", "b"]}).status_code == 200
        assert predictor.pid not in (None, first, second) and predictor.restarts == 2


def test_a_bundle_that_does_not_verify_in_the_child_keeps_the_old_model(
    home: Path, tfidf_bundle: Path
) -> None:
    registry = open_registry(make_settings(home))
    bad = register_bundle(registry, tfidf_bundle)
    corrupt(bad)
    with TestClient(build_app(home, model_process=True)) as client:
        serving = _predictor(client).pid
        registry.set_designation("baseline", bad.version)
        answer = client.post("/refresh-model", headers=auth())
        assert answer.status_code == 409, answer.text
        assert "checksum mismatch" in answer.json()["detail"]
        assert _predictor(client).pid == serving
        assert client.post("/predict", json={"text": "fine"}).headers["x-model-version"] == "1"

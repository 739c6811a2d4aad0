"""``serve --workers N``: a refresh answer means every worker swapped; one scrape sees all."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from emotion_clf.promotion import promote
from emotion_clf.promotion.fanout import fan_out
from tests.serving.helpers import TOKEN, make_settings
from tests.serving.server import running_server

ENV = {"EMOTION_CLF_REFRESH_TOKEN": TOKEN, "EMOTION_CLF_POLL_S": "0"}


def versions_seen(url: str, n: int) -> list[str]:
    """The versions ``n`` requests got, each on a new connection (so either worker answers)."""
    return [
        httpx.post(f"{url}/predict", json={"text": f"x{i}"}).headers["x-model-version"]
        for i in range(n)
    ]


def test_a_refresh_answer_means_every_worker_serves_the_new_version(home: Path) -> None:
    with running_server(home, env=ENV, workers=2) as server:
        assert set(versions_seen(server.url, 20)) == {"1"}
        promote(settings=make_settings(home), version="2", force=True, reason="t", refresh=False)
        # polling is off: only the refresh call moves the workers
        [refresh] = fan_out([f"{server.url}/refresh-model"], token=TOKEN, retries=0)
        assert refresh.ok, refresh.error
        assert refresh.answer is not None and refresh.answer.current_version == "2"
        workers = refresh.answer.workers
        assert len(workers) == 2 and len({w.pid for w in workers}) == 2
        assert all(w.ok and w.version == "2" and w.swapped for w in workers), workers
        seen = versions_seen(server.url, 60)
        assert seen == ["2"] * 60  # 100% on the new version, right after the answer

        # one scrape sees the whole server: request counts summed over both workers
        metrics = httpx.get(f"{server.url}/metrics").text
        counted = re.search(
            r'emotion_clf_http_requests_total\{method="POST",route="/predict",status="200"\} '
            r"([0-9.]+)",
            metrics,
        )
        assert counted is not None and float(counted.group(1)) == 80.0
        # the model gauges: one series per worker, both on v2
        pids = {str(w.pid) for w in workers}
        for pid in pids:
            assert re.search(rf'emotion_clf_model_version\{{pid="{pid}"\}} 2\.0', metrics), metrics
        assert 'emotion_clf_model_refreshes_total{outcome="swapped",trigger="peer"} 1.0' in metrics
        assert 'emotion_clf_model_refreshes_total{outcome="swapped",trigger="api"} 1.0' in metrics
    log = server.log.read_text()
    assert log.count("startup refresh: now serving v1") == 2
    assert log.count("refresh: now serving v2") == 2  # the one asked, then its peer


@pytest.mark.slow
def test_a_refresh_lists_the_workers_that_did_not_swap(home: Path, tfidf_bundle: Path) -> None:
    from emotion_clf.registry import open_registry
    from tests.serving.helpers import corrupt, register_bundle

    with running_server(home, env=ENV, workers=2) as server:
        registry = open_registry(make_settings(home))
        bad = register_bundle(registry, tfidf_bundle)
        corrupt(bad)
        registry.set_designation("baseline", bad.version)
        [refresh] = fan_out([f"{server.url}/refresh-model"], token=TOKEN, retries=0)
        # the worker asked fails first and does not ask the others: all still serve v1
        assert not refresh.ok and refresh.status_code == 409
        assert set(versions_seen(server.url, 20)) == {"1"}


def _group(run_dir: Path, pid: int, expected: int, timeout_s: float = 5.0):
    from emotion_clf.contracts import WorkerAnswer
    from emotion_clf.serving.runtime.workers import WorkerGroup

    async def refresh() -> WorkerAnswer:
        return WorkerAnswer(pid=pid, version="2", swapped=True, ok=True)

    group = WorkerGroup(
        run_dir,
        expected=expected,
        timeout_s=timeout_s,
        refresh=refresh,
        state=lambda: WorkerAnswer(pid=pid, version="2", ok=True),
    )
    group.pid = pid  # two workers of one server, in one test process
    return group


def test_a_refresh_waits_for_a_worker_still_loading_its_first_model(tmp_path: Path) -> None:
    """The race CI hit: ``/ready`` answered by one worker while the other still loaded."""
    import asyncio
    import os

    async def scenario() -> list:
        asked = _group(tmp_path, os.getpid(), expected=2)
        # the late worker needs a live pid of its own: this test's parent process
        late = _group(tmp_path, os.getppid(), expected=2)

        async def join_later() -> None:
            await asyncio.sleep(0.5)
            await late.start()

        await asked.start()
        joining = asyncio.create_task(join_later())
        try:
            return await asked.refresh_peers()
        finally:
            await joining
            await late.close()
            await asked.close()

    [answer] = asyncio.run(scenario())
    assert answer.ok and answer.pid == os.getppid() and answer.version == "2"


def test_a_worker_that_never_joins_is_named_after_the_grace(tmp_path: Path) -> None:
    import asyncio
    import os

    async def scenario() -> list:
        group = _group(tmp_path, os.getpid(), expected=3, timeout_s=0.3)
        await group.start()
        try:
            return await group.refresh_peers()
        finally:
            await group.close()

    answers = asyncio.run(scenario())
    assert [a.detail for a in answers] == ["worker not registered after 0.3 s"] * 2
    assert not any(a.ok for a in answers)


def test_serve_gives_each_worker_its_share_of_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """N workers each running torch on every core fought over them: cores/N threads each,
    unless the user set OMP_NUM_THREADS."""
    import os

    from emotion_clf.cli.serve import worker_run_dir

    # worker_run_dir writes these: set then delete each, so monkeypatch restores them after
    # (delenv alone of a variable that is not set records nothing, and the run folder leaked
    # into the tests after this one)
    for name in (
        "OMP_NUM_THREADS",
        "EMOTION_CLF_SERVE_RUN_DIR",
        "PROMETHEUS_MULTIPROC_DIR",
        "EMOTION_CLF_SERVE_WORKERS",
    ):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    with worker_run_dir(1) as run_dir:
        assert run_dir is None and "OMP_NUM_THREADS" not in os.environ
    with worker_run_dir(2) as run_dir:
        assert run_dir is not None and run_dir.is_dir()
        assert os.environ["OMP_NUM_THREADS"] == "2"
    assert not run_dir.exists()
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    with worker_run_dir(8):
        assert os.environ["OMP_NUM_THREADS"] == "3"

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

ENV = {"EMOTION_CLF_REFRESH_TOKEN": TOKEN, "EMOTION_CLF_POLL_SECONDS": "0"}


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

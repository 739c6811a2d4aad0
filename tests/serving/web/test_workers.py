"""The production page's traffic is the whole server's, whichever worker answers its poll."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.serving.server import running_server


def test_traffic_counts_every_workers_requests(home: Path) -> None:
    with running_server(home, workers=2, env={"EMOTION_CLF_WEB_POLL_S": "1"}) as server:
        for i in range(30):  # a new connection each: both workers get some
            answer = httpx.post(f"{server.url}/predict", json={"text": f"I am glad {i}"})
            assert answer.status_code == 200
        seen = set()
        for _ in range(6):
            state = httpx.get(f"{server.url}/production/state", timeout=10).json()
            seen.add(state["traffic"]["total_requests"])
            assert state["workers"] == 2
    # every poll counts all 30 predictions (plus the start-up's readiness probes), not the
    # share of the worker that answered it
    assert min(seen) >= 30

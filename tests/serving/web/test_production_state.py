"""What the production page shows, gathered from the files and registry of a home."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from emotion_clf.monitoring.predictions import LoggedPrediction
from emotion_clf.serving.http.web.production import (
    MIN_ROWS,
    drift_signal,
    production_state,
    recent_records,
)
from tests.serving.helpers import make_settings


def logged(emotion: str, *, route: str = "/predict", request_id: str = "r") -> LoggedPrediction:
    return LoggedPrediction(
        time=datetime.now(UTC),
        model_version="1",
        route=route,
        request_id=request_id,
        text=None,
        text_sha256=f"sha-{request_id}",
        text_chars=10,
        labels={"emotion": emotion, "sub_emotion": emotion, "intensity": "mild"},
        confidences={"emotion": 0.9, "sub_emotion": 0.9, "intensity": 0.9},
        latency_ms=1.0,
    )


def test_the_drift_signal_is_the_distance_between_emotion_shares() -> None:
    reference = ["neutral"] * 80 + ["happiness"] * 20
    same = drift_signal([logged("neutral")] * 40 + [logged("happiness")] * 10, reference)
    assert same["distance"] == 0.0 and same["verdict"] == "steady"
    angry = drift_signal([logged("anger")] * 30 + [logged("neutral")] * 20, reference)
    # shares now: anger .6, neutral .4; reference neutral .8, happiness .2
    assert angry["distance"] == pytest.approx((0.6 + 0.4 + 0.2) / 2)
    assert angry["verdict"] == "shift"
    few = drift_signal([logged("anger")] * (MIN_ROWS - 1), reference)
    assert few["verdict"].startswith("too few") and few["distance"] == pytest.approx(0.8 + 0.2)
    assert drift_signal([], None)["verdict"] == "no reference profile"


def test_the_state_reads_the_log_the_feedback_and_says_what_it_could_not_read(
    home: Path,
) -> None:
    settings = make_settings(home)
    log = settings.monitoring_dir / "predictions"
    log.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    lines = []
    for i, (text, emotion) in enumerate([("I love it", "happiness"), ("so sad", "sadness")]):
        record = {
            "time": now.isoformat(),
            "model_version": "1",
            "route": "/predict",
            "request_id": f"r{i}",
            "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "text_chars": len(text),
            "emotion": emotion,
            "sub_emotion": "joy" if emotion == "happiness" else "grief",
            "intensity": "mild",
            "emotion_confidence": 0.9,
            "sub_emotion_confidence": 0.8,
            "intensity_confidence": 0.7,
        }
        lines.append(json.dumps(record))
    old = dict(json.loads(lines[0]), time=(now - timedelta(hours=3)).isoformat(), request_id="o")
    lines.append(json.dumps(old))  # outside the hour: not in the drift signal
    (log / f"{now:%Y-%m-%d}.jsonl").write_text("\n".join(lines) + "\n")
    feedback = settings.feedback_dir
    feedback.mkdir(parents=True, exist_ok=True)
    (feedback / "web.csv").write_text(
        "start_time,end_time,text,emotion,sub-emotion,intensity\n"
        ",,I love it,happiness,joy,mild\n,,so sad,happiness,joy,mild\n"
    )
    state = production_state(settings, served=None, served_path=None)
    assert state["drift"]["rows"] == 2 and state["drift"]["verdict"] == "no reference profile"
    perf = state["performance"]
    assert perf["rows"] == 2 and perf["live_rows"] == 2
    assert perf["live"]["emotion"]["accuracy"] == 0.5  # one of the two answers was right
    assert state["registry"]["baseline"]["version"] == "1"
    assert state["notes"] == []

    broken = make_settings(home, tracking_uri="http://127.0.0.1:9", registry_uri=None)
    unread = production_state(broken, served=None, served_path=None)
    assert unread["registry"] is None
    assert any(n.startswith("the registry could not be read") for n in unread["notes"])


def test_the_drift_signal_reads_only_the_newest_part_of_a_large_log(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    lines = []
    for i in range(200):
        record = {
            "time": (now - timedelta(minutes=200 - i)).isoformat(),
            "route": "/predict",
            "request_id": f"r{i}",
            "text_chars": 5,
            "emotion": "anger" if i < 150 else "fear",
            "sub_emotion": "anger" if i < 150 else "fear",
            "intensity": "mild",
            "emotion_confidence": 0.5,
            "sub_emotion_confidence": 0.5,
            "intensity_confidence": 0.5,
        }
        lines.append(json.dumps(record))
    lines.insert(100, "{not json")
    (tmp_path / f"{now:%Y-%m-%d}.jsonl").write_text("\n".join(lines) + "\n")
    since = now - timedelta(hours=1)
    every, bad = recent_records(tmp_path, since, tail_bytes=10**9)
    assert len(every) == 60 and bad == 1  # the last hour: records 140..199
    size = len(lines[-1]) + 1
    tail, bad = recent_records(tmp_path, since, tail_bytes=20 * size + size // 2)
    # about twenty lines: the cut first one is not read as a broken record
    assert 18 <= len(tail) <= 20 and bad == 0
    assert {r.labels["emotion"] for r in tail} == {"fear"}
    assert [r.request_id for r in tail] == [f"r{i}" for i in range(200 - len(tail), 200)]

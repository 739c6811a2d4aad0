from __future__ import annotations

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
    ("payload", "status", "fragment"),
    [
        ({"items": [row(0, emotion="joyful")]}, 422, "allowed values: anger, disgust"),
        ({"items": []}, 422, "items: List should have at least 1 item"),
        ({"items": [row(0, text="   ")]}, 422, "text is empty or only whitespace"),
        ({"items": [row(0, text="x" * 2001)]}, 422, "items[0].text is 2001 characters long"),
        ({"items": [{"text": "only text"}]}, 422, "body.items[0].emotion: Field required"),
        ({"items": [row(0, intensity=3)]}, 422, "intensity: Input should be a valid string"),
        ({}, 422, "body.items: Field required"),
    ],
)
def test_bad_feedback_is_refused_with_the_reason(
    client: TestClient, home: Path, payload: dict[str, object], status: int, fragment: str
) -> None:
    response = client.post("/feedback", json=payload)
    assert response.status_code == status
    assert fragment in response.json()["detail"]
    assert not (home / "feedback").exists() or not list((home / "feedback").iterdir())


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

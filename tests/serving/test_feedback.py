from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from emotion_clf.data.loader import load_dataset
from emotion_clf.errors import DataError
from emotion_clf.serving.feedback import FeedbackRow, validate_row, write_feedback


def row(i: int, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "text": f'Feedback number {i}, with "quotes", commas\nand a newline',
        "emotion": "happiness",
        "sub_emotion": "joy",
        "intensity": "strong",
        "start_time": "00:00:01,500",
        "end_time": 3.25,
    }
    values.update(overrides)
    return values


def test_rows_are_normalised_and_times_accept_every_spelling() -> None:
    got = validate_row(
        0,
        text="so good",
        emotion=" Happiness ",
        sub_emotion="JOY",
        intensity="intense",
        start_time="181.5",
        end_time="00:03:05",
    )
    assert got == FeedbackRow("so good", "happiness", "joy", "strong", 181.5, 185.0)
    assert validate_row(
        1,
        text="x",
        emotion="fear",
        sub_emotion="fear",
        intensity="mild",
        start_time=None,
        end_time="",
    ) == FeedbackRow("x", "fear", "fear", "mild", None, None)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"emotion": "joyful"}, "items[3].emotion", "unknown emotion 'joyful'"),
        ({"sub_emotion": "glee"}, "items[3].sub_emotion", "unknown sub-emotion 'glee'"),
        ({"intensity": "huge"}, "items[3].intensity", "unknown intensity 'huge'"),
        ({"sub_emotion": "grief"}, "items[3].sub_emotion", "belongs to emotion 'sadness'"),
        ({"start_time": "soon"}, "items[3].start_time", "not a timestamp"),
        ({"start_time": 9, "end_time": 2}, "items[3].end_time", "before start_time"),
    ],
)
def test_bad_rows_name_the_item_field_and_allowed_values(
    overrides: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(DataError, match=message) as caught:
        validate_row(3, **row(3, **overrides))  # type: ignore[arg-type]
    assert caught.value.field == field
    if field.endswith(("emotion", "intensity")):
        assert caught.value.allowed


def test_each_submission_is_one_complete_csv_the_loader_reads(tmp_path: Path) -> None:
    rows = [validate_row(i, **row(i)) for i in range(3)]  # type: ignore[arg-type]
    path = write_feedback(rows, folder=tmp_path)
    assert path.parent == tmp_path and path.suffix == ".csv"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left
    data = load_dataset(tmp_path)
    assert data.texts == [r.text for r in rows]
    assert data.frame["start_s"].tolist() == [1.5, 1.5, 1.5]
    assert data.frame["end_s"].tolist() == [3.25, 3.25, 3.25]
    assert set(data.frame["intensity"]) == {"strong"}


def test_concurrent_writes_never_collide(tmp_path: Path) -> None:
    def submit(i: int) -> Path:
        return write_feedback(
            [validate_row(j, **row(i * 100 + j)) for j in range(i % 3 + 1)],  # type: ignore[arg-type]
            folder=tmp_path,
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        paths = list(pool.map(submit, range(60)))
    assert len(set(paths)) == 60
    assert len(load_dataset(tmp_path)) == sum(i % 3 + 1 for i in range(60))


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

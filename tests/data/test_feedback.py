from __future__ import annotations

import errno
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from emotion_clf.data import submission as submission_module
from emotion_clf.data.feedback import FeedbackRow, render_csv, triage, validate_row, write_feedback
from emotion_clf.data.loader import load_dataset
from emotion_clf.data.submission import raw_item, save_submission, write_submission
from emotion_clf.errors import DataError


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


@pytest.mark.parametrize(
    ("start", "fragment"),
    [
        (1e308, "start_time must be a finite number of seconds from 0 to 604800"),
        ("1e308", "start_time must be a finite number"),
        ("nan", "start_time must be a finite number"),
        (10**60, "start_time must be a finite number"),
        ("9" * 5000 + ":00:00", "is beyond 7 days"),
    ],
)
def test_times_beyond_reason_are_a_row_reason_not_a_crash(start: object, fragment: str) -> None:
    triaged = triage([row(0, start_time=start, end_time=None), row(1)], max_chars=2000)
    [kept] = triaged.quarantined
    assert kept.index == 0 and kept.field == "items[0].start_time"
    assert kept.reason.startswith("items[0].start_time") and fragment in kept.reason
    assert len(kept.reason) < 200
    assert render_csv(triaged.rows)  # the row that was taken formats without overflow


def test_a_submission_is_stored_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [row(0, text="  =1+1 "), row(1, emotion="joyful")]
    stored = save_submission(items, folder=tmp_path, name="s.csv", source="v", max_chars=2000)
    assert (stored.csv, stored.submission, stored.quarantine) == (
        tmp_path / "s.csv",
        tmp_path / "s.json",
        tmp_path / "quarantine" / "s.jsonl",
    )
    assert json.loads(stored.submission.read_text())["items"] == items  # exactly as sent
    assert load_dataset(tmp_path).texts == ["=1+1"]

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(submission_module, "write_feedback", full)
    with pytest.raises(OSError, match="No space left"):
        save_submission(items, folder=tmp_path, name="t.csv", source=None, max_chars=2000)
    assert sorted(p.name for p in tmp_path.rglob("t.*")) == []  # what was written is removed


def test_text_that_is_not_valid_unicode_is_still_written_exactly(tmp_path: Path) -> None:
    items = [{"text": "half a pair \ud800"}]
    path = write_submission(items, folder=tmp_path, name="s.csv")
    assert json.loads(path.read_text(encoding="ascii"))["items"] == items
    assert raw_item(b"\xff\x00") == {"base64": "/wA="}

"""Feedback: corrected labels, validated against the label schema, one CSV file per submission.

Each file is written atomically: a temp file in the same folder, flushed and fsynced, then
renamed into place (and the folder fsynced), so a crash leaves either the whole file or none.
Names are a UTC timestamp plus a random suffix, so concurrent submissions never collide. The
CSV has the data's header, so :func:`emotion_clf.data.loader.load_dataset` reads it back.
"""

from __future__ import annotations

import csv
import io
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from emotion_clf.data.loader import CSV_HEADER, validate_labels
from emotion_clf.data.timecode import format_timecode
from emotion_clf.data.transcript import parse_timestamp
from emotion_clf.errors import DataError
from emotion_clf.files import write_atomic

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedbackRow:
    text: str
    emotion: str
    sub_emotion: str
    intensity: str
    start_s: float | None = None
    end_s: float | None = None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None  # a timestamp, not a number


def _seconds(value: float | str | None, *, field: str) -> float | None:
    """Seconds from a number, a numeric string or a timestamp; None when absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        number = _number(value)  # seconds sent as a string ("181.5")
        if number is None:
            return parse_timestamp(value, what=field, field=field)
        value = number
    if not (value >= 0 and value != float("inf")):
        raise DataError(f"{field} must be a finite number of seconds >= 0", field=field)
    return float(value)


def validate_row(
    index: int,
    *,
    text: str,
    emotion: str,
    sub_emotion: str,
    intensity: str,
    start_time: float | str | None,
    end_time: float | str | None,
) -> FeedbackRow:
    """Normalise one submitted row; a DataError names ``items[index].<field>``."""
    where = f"items[{index}]"
    try:
        emo, sub, inten = validate_labels(emotion, sub_emotion, intensity, file=where, line=0)
    except DataError as exc:
        raise DataError(
            f"{where}.{exc.field}: {exc.reason}",
            field=f"{where}.{exc.field}",
            value=exc.value,
            allowed=exc.allowed,
        ) from exc
    try:
        start = _seconds(start_time, field="start_time")
        end = _seconds(end_time, field="end_time")
    except DataError as exc:
        raise DataError(f"{where}.{exc.field}: {exc.reason}", field=f"{where}.{exc.field}") from exc
    if start is not None and end is not None and end < start:
        raise DataError(f"{where}: end_time is before start_time", field=f"{where}.end_time")
    return FeedbackRow(text, emo, sub, inten, start, end)


def _time_cell(seconds: float | None) -> str:
    return "" if seconds is None else format_timecode(seconds)


def render_csv(rows: Sequence[FeedbackRow]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            [
                _time_cell(row.start_s),
                _time_cell(row.end_s),
                row.text,
                row.emotion,
                row.sub_emotion,
                row.intensity,
            ]
        )
    return buffer.getvalue().encode("utf-8")


def new_name(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"feedback-{stamp}-{uuid.uuid4().hex[:12]}.csv"


def write_feedback(rows: Sequence[FeedbackRow], *, folder: Path) -> Path:
    """Write one submission as its own CSV file, atomically; returns the file's path."""
    if not rows:
        raise DataError("a feedback submission needs at least one row", field="items")
    target = write_atomic(folder / new_name(), render_csv(rows))
    logger.info("feedback: %d row(s) written to %s", len(rows), target.name)
    return target

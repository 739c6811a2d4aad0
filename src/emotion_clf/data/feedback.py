"""Feedback: corrected labels, one CSV file per submission, and a quarantine for the rest.

A submission's rows are triaged one by one (:func:`triage`): a row that fits the label schema
is training-ready and goes to the submission's CSV file, which has the data's header, so
:func:`emotion_clf.data.loader.load_dataset` (and so training) reads it back; any other row
(an unknown sub-emotion, a sub-emotion under another parent, an empty text, a time that is not
finite or beyond 7 days) goes, as it was sent and with the reason, to a JSON-lines file of the
same name under ``quarantine/``. No row a person sent is ever dropped; the whole submission,
exactly as sent, is kept beside them (:mod:`emotion_clf.data.submission`).

The CSV file is for training and for people: every cell is guarded against spreadsheet
formulas (:func:`~emotion_clf.data.cells.guard_cell`: ``=HYPERLINK(...)`` is written
``'=HYPERLINK(...)``) and the loader removes the guard again. Its text is the text as the
models see it, stripped of surrounding whitespace like every prediction route strips it: a
leading TAB a client put in front of ``=...`` to protect it is dropped, because the guard now
protects the cell, and the exact text, TAB included, stays in the submission's JSON form.

Each file is written atomically: a temp file in the same folder, flushed and fsynced, then
renamed into place (and the folder fsynced), so a crash leaves either the whole file or none.
Names are a UTC timestamp plus a random suffix, so concurrent submissions never collide.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emotion_clf.data.cells import guard_cell
from emotion_clf.data.loader import CSV_HEADER, validate_labels
from emotion_clf.data.timecode import checked_seconds, format_timecode
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
    """Seconds from a number, a numeric string or a timestamp; None when absent. Finite and
    within 7 days, or a DataError naming ``field`` (``1e308`` once overflowed in the writer)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        number = _number(value)  # seconds sent as a string ("181.5")
        if number is None:
            return parse_timestamp(value, what=field, field=field)
        value = number
    try:
        return checked_seconds(value)
    except ValueError as exc:
        raise DataError(f"{field} {exc}", field=field) from exc


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
    except DataError as exc:  # its reason starts with the field's name
        raise DataError(f"{where}.{exc.reason}", field=f"{where}.{exc.field}") from exc
    if start is not None and end is not None and end < start:
        raise DataError(f"{where}: end_time is before start_time", field=f"{where}.end_time")
    return FeedbackRow(text, emo, sub, inten, start, end)


def _time_cell(seconds: float | None) -> str:
    return "" if seconds is None else format_timecode(seconds)


def render_csv(rows: Sequence[FeedbackRow]) -> bytes:
    """The data's CSV format, every cell guarded against spreadsheet formulas."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for row in rows:
        cells = (
            _time_cell(row.start_s),
            _time_cell(row.end_s),
            row.text,
            row.emotion,
            row.sub_emotion,
            row.intensity,
        )
        writer.writerow([guard_cell(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8")


def new_name(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"feedback-{stamp}-{uuid.uuid4().hex[:12]}.csv"


def write_feedback(rows: Sequence[FeedbackRow], *, folder: Path, name: str | None = None) -> Path:
    """Write one submission as its own CSV file, atomically; returns the file's path."""
    if not rows:
        raise DataError("a feedback submission needs at least one row", field="items")
    target = write_atomic(folder / (name or new_name()), render_csv(rows))
    logger.info("feedback: %d row(s) written to %s", len(rows), target.name)
    return target


QUARANTINE = "quarantine"
LABEL_FIELDS = {"emotion": ("emotion",), "sub_emotion": ("sub_emotion", "sub-emotion"),
                "intensity": ("intensity",)}  # fmt: skip


@dataclass(frozen=True)
class Quarantined:
    """A row that is not training-ready, kept as it was sent, with why."""

    index: int  # its place in the submission's items; -1: the whole body
    item: Any
    reason: str
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "reason": self.reason, "field": self.field, "item": self.item}


@dataclass(frozen=True)
class Triage:
    rows: tuple[FeedbackRow, ...]  # training-ready, in the order sent
    accepted: tuple[int, ...]  # the index of each in the submission
    quarantined: tuple[Quarantined, ...]

    def outcome(self, count: int) -> list[dict[str, Any]]:
        """One ``{index, status, reason}`` per item sent."""
        reasons = {q.index: q.reason for q in self.quarantined}
        return [
            {"index": i, "status": "quarantined", "reason": reasons[i]}
            if i in reasons
            else {"index": i, "status": "saved", "reason": None}
            for i in range(count)
        ]


def _item_row(index: int, item: Any, *, max_chars: int) -> FeedbackRow:
    where = f"items[{index}]"
    if not isinstance(item, Mapping):
        raise DataError(f"{where} is not an object", field=where)
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}.text is empty or missing", field=f"{where}.text")
    if len(text) > max_chars:
        raise DataError(
            f"{where}.text is {len(text)} characters long; the limit is {max_chars} "
            "(EMOTION_CLF_MAX_TEXT_CHARS)",
            field=f"{where}.text",
        )
    labels: dict[str, str] = {}
    for name, keys in LABEL_FIELDS.items():
        value = next((item[k] for k in keys if k in item), None)
        if not isinstance(value, str) or not value.strip():
            raise DataError(f"{where}.{name} is missing or not text", field=f"{where}.{name}")
        labels[name] = value
    times: dict[str, float | str | None] = {}
    for name in ("start_time", "end_time"):
        value = item.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float | str)
        ):
            raise DataError(
                f"{where}.{name} must be seconds or a timecode", field=f"{where}.{name}"
            )
        times[name] = value
    return validate_row(
        index,
        text=text.strip(),
        emotion=labels["emotion"],
        sub_emotion=labels["sub_emotion"],
        intensity=labels["intensity"],
        start_time=times["start_time"],
        end_time=times["end_time"],
    )


def triage(items: Sequence[Any], *, max_chars: int) -> Triage:
    """Split a submission's items into training-ready rows and quarantined ones, with reasons."""
    rows: list[FeedbackRow] = []
    accepted: list[int] = []
    quarantined: list[Quarantined] = []
    for index, item in enumerate(items):
        try:
            rows.append(_item_row(index, item, max_chars=max_chars))
        except DataError as exc:
            quarantined.append(Quarantined(index, item, str(exc), exc.field))
            continue
        accepted.append(index)
    return Triage(tuple(rows), tuple(accepted), tuple(quarantined))


def write_quarantine(
    entries: Sequence[Quarantined], *, folder: Path, name: str, source: str | None = None
) -> Path:
    """The quarantined rows of one submission, as JSON lines in ``<folder>/quarantine/``."""
    received = datetime.now(UTC).isoformat(timespec="seconds")
    lines = [json_text({**q.to_dict(), "source": source, "received_at": received}) for q in entries]
    target = write_atomic(folder / QUARANTINE / name, "\n".join(lines) + "\n")
    logger.info("feedback: %d row(s) quarantined in %s", len(entries), target.name)
    return target


def json_text(value: Any, *, indent: int | None = None) -> str:
    """JSON as readable UTF-8; with ASCII escapes where the value holds text UTF-8 cannot
    encode (a lone surrogate), so that what was sent is still written exactly."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, indent=indent)
    return text


def quarantine_name(csv_name: str) -> str:
    return csv_name.removesuffix(".csv") + ".jsonl"


def read_quarantine(folder: Path) -> list[dict[str, Any]]:
    """Every quarantined row under ``<folder>/quarantine/`` (for reports), oldest file first."""
    out: list[dict[str, Any]] = []
    for path in sorted((folder / QUARANTINE).glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                out.append({"file": path.name, "line": number, **json.loads(line)})
            except json.JSONDecodeError as exc:
                out.append({"file": path.name, "line": number, "reason": f"unreadable: {exc.msg}"})
    return out

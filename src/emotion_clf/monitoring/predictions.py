"""The prediction log: one JSON line per prediction the API made, one file per UTC day.

The server writes it (:class:`emotion_clf.serving.runtime.predlog.PredictionLog`, off the request
path); drift checks read it back with :func:`read_prediction_log`. The format lives here, in
one place: :meth:`PredictionRecord.to_json` writes a line and :meth:`LoggedPrediction.from_json`
reads one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from emotion_clf.data.schema import HEADS
from emotion_clf.models.base import Prediction

logger = logging.getLogger(__name__)

_ENCODER = json.JSONEncoder(ensure_ascii=False)
_CHUNK_BYTES = 64 * 1024  # one write() per chunk of whole lines: appends from several
# workers to the same file never interleave inside a line


@dataclass(frozen=True)
class PredictionRecord:
    """A prediction as the server made it (kept cheap: the line is built by the writer)."""

    time: datetime
    model_version: str | None
    route: str
    request_id: str | None
    text: str
    prediction: Prediction
    latency_ms: float

    def to_json(self, *, with_text: bool) -> str:
        """The record as one JSON line: what ``json`` makes of a dict of these fields.

        Built piece by piece: a server writes thousands a second, and the ``json`` module took
        a large share of a line's cost through a dict (the writer holds the GIL the event loop
        needs). Each string goes through ``json``'s own escaping, each number through its
        own formatting; a test holds this equal to ``json``'s encoding of the dict.
        """
        p = self.prediction
        text = (
            f'"text": {_string(self.text)}'
            if with_text
            else f'"text_sha256": "{hashlib.sha256(self.text.encode("utf-8")).hexdigest()}"'
        )
        heads = "".join(
            f'"{head}": {_string(h.label)}, '
            f'"{head}_confidence": {_number(round(h.confidence, 6))}, '
            for head in HEADS
            for h in (getattr(p, head),)
        )
        return (
            f'{{"time": "{self.time.isoformat(timespec="milliseconds")}", '
            f'"model_version": {_string(self.model_version)}, "route": {_string(self.route)}, '
            f'"request_id": {_string(self.request_id)}, {text}, "text_chars": {len(self.text)}, '
            f'{heads}"latency_ms": {_number(round(self.latency_ms, 3))}}}'
        )


def _string(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _number(value: float) -> str:
    """``json``'s spelling of a float (``NaN`` and ``Infinity`` included)."""
    value = float(value)
    return float.__repr__(value) if math.isfinite(value) else _ENCODER.encode(value)


@dataclass(frozen=True)
class LoggedPrediction:
    """One line of the prediction log, read back."""

    time: datetime
    model_version: str | None
    route: str
    request_id: str | None
    text: str | None  # None unless the server logs texts (EMOTION_CLF_LOG_PREDICTION_TEXT)
    text_sha256: str | None
    text_chars: int
    labels: Mapping[str, str]  # head -> label
    confidences: Mapping[str, float]  # head -> confidence
    latency_ms: float

    @classmethod
    def from_json(cls, line: str) -> LoggedPrediction:
        """Raises ValueError (with the reason) for a line that is not a prediction record."""
        try:
            data: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON ({exc.msg})") from exc
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        try:
            text = data.get("text")
            return cls(
                time=datetime.fromisoformat(data["time"]),
                model_version=data.get("model_version"),
                route=str(data["route"]),
                request_id=data.get("request_id"),
                text=str(text) if text is not None else None,
                text_sha256=data.get("text_sha256"),
                text_chars=int(data["text_chars"]),
                labels={head: str(data[head]) for head in HEADS},
                confidences={head: float(data[f"{head}_confidence"]) for head in HEADS},
                latency_ms=float(data.get("latency_ms", 0.0)),
            )
        except KeyError as exc:
            raise ValueError(f"field {exc.args[0]!r} is missing") from exc
        except (TypeError, ValueError) as exc:
            raise ValueError(f"a field has the wrong type ({exc})") from exc


def log_path(folder: Path, day: datetime | date) -> Path:
    """The file of one UTC day: ``<folder>/YYYY-MM-DD.jsonl``."""
    return folder / f"{day:%Y-%m-%d}.jsonl"


def append_lines(path: Path, lines: list[str]) -> None:
    """Append whole lines with ``O_APPEND``, in chunks that never split a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        chunk: list[bytes] = []
        size = 0
        for line in lines:
            data = line.encode("utf-8")
            if chunk and size + len(data) > _CHUNK_BYTES:
                _write_all(fd, b"".join(chunk))
                chunk, size = [], 0
            chunk.append(data)
            size += len(data)
        if chunk:
            _write_all(fd, b"".join(chunk))
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


@dataclass
class PredictionLogRead:
    """What :func:`read_prediction_log` found: the records, and each line it could not read."""

    records: list[LoggedPrediction] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)  # "file, line N: reason"


def read_prediction_log(
    folder: Path, *, since: datetime | None = None, until: datetime | None = None
) -> PredictionLogRead:
    """Every record of the log in ``folder`` with ``since <= time < until`` (UTC), oldest
    file first. A line that cannot be read (a crash mid-write, a hand edit) is reported in
    ``bad_lines``, never silently dropped."""
    out = PredictionLogRead()
    if not folder.is_dir():
        return out
    # a record near midnight may sit in the previous day's file: look one day earlier
    first_day = since.astimezone(UTC).date() - timedelta(days=1) if since else date.min
    for path in sorted(folder.glob("*.jsonl")):
        try:
            day = date.fromisoformat(path.stem)
        except ValueError:
            out.bad_lines.append(f"{path.name}: not a prediction log file (YYYY-MM-DD.jsonl)")
            continue
        if day < first_day:
            continue
        out.files.append(path)
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = LoggedPrediction.from_json(line)
                except ValueError as exc:
                    out.bad_lines.append(f"{path.name}, line {number}: {exc}")
                    continue
                if (since is None or record.time >= since) and (
                    until is None or record.time < until
                ):
                    out.records.append(record)
    if out.bad_lines:
        logger.warning("prediction log: %d line(s) could not be read", len(out.bad_lines))
    return out

"""The prediction log for drift monitoring, written off the request path.

A request puts one small record per prediction on a bounded queue (``put_nowait``); a writer
thread appends them as JSON lines to ``<monitoring>/predictions/YYYY-MM-DD.jsonl`` (UTC day).
A full queue drops the record and counts it: logging never slows or fails a prediction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from emotion_clf.models.base import Prediction

logger = logging.getLogger(__name__)

_STOP = object()
_CHUNK_BYTES = 64 * 1024  # one write() per chunk of whole lines: appends from several
# workers to the same file never interleave inside a line


@dataclass(frozen=True)
class PredictionRecord:
    time: datetime
    model_version: str | None
    route: str
    request_id: str | None
    text: str
    prediction: Prediction
    latency_ms: float

    def to_json(self, *, with_text: bool) -> str:
        p = self.prediction
        data: dict[str, object] = {
            "time": self.time.isoformat(timespec="milliseconds"),
            "model_version": self.model_version,
            "route": self.route,
            "request_id": self.request_id,
        }
        if with_text:
            data["text"] = self.text
        else:
            data["text_sha256"] = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
        data["text_chars"] = len(self.text)
        for head in ("emotion", "sub_emotion", "intensity"):
            h = getattr(p, head)
            data[head] = h.label
            data[f"{head}_confidence"] = round(h.confidence, 6)
        data["latency_ms"] = round(self.latency_ms, 3)
        return json.dumps(data, ensure_ascii=False)


class PredictionLog:
    """A bounded queue and one writer thread; ``start`` and ``close`` bracket its life."""

    def __init__(
        self,
        folder: Path,
        *,
        max_queue: int,
        with_text: bool,
        on_drop: Callable[[int], None] | None = None,
        on_write: Callable[[int], None] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.with_text = with_text
        self.dropped = 0
        self.written = 0
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, max_queue))
        self._on_drop = on_drop
        self._on_write = on_write
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def put(self, records: Iterable[PredictionRecord]) -> None:
        """Queue records without ever blocking; what does not fit is dropped and counted."""
        dropped = 0
        for record in records:
            try:
                self._queue.put_nowait(record)
            except queue.Full:
                dropped += 1
        if dropped:
            self.dropped += dropped
            if self._on_drop is not None:
                self._on_drop(dropped)

    def close(self, timeout_s: float = 5.0) -> None:
        """Write what is queued, then stop the writer."""
        if self._thread is None:
            return
        try:
            self._queue.put(_STOP, timeout=timeout_s)
        except queue.Full:
            logger.warning("prediction log queue stayed full; stopping without flushing it")
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            logger.warning("prediction log writer did not stop within %.1f s", timeout_s)
        self._thread = None

    def path_for(self, day: datetime) -> Path:
        return self.folder / f"{day:%Y-%m-%d}.jsonl"

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch: list[object] = [item]
            while len(batch) < 1000:  # drain what is already there, then write it at once
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            records = [r for r in batch if isinstance(r, PredictionRecord)]
            if records:
                self._write(records)
            if any(r is _STOP for r in batch):
                return

    def _write(self, records: list[PredictionRecord]) -> None:
        by_day: dict[Path, list[str]] = {}
        for record in records:
            by_day.setdefault(self.path_for(record.time), []).append(
                record.to_json(with_text=self.with_text) + "\n"
            )
        for path, lines in by_day.items():
            try:
                _append_lines(path, lines)
            except OSError as exc:
                logger.error(
                    "could not write %d prediction log line(s) to %s: %s", len(lines), path, exc
                )
                self.dropped += len(lines)
                if self._on_drop is not None:
                    self._on_drop(len(lines))
                continue
            self.written += len(lines)
            if self._on_write is not None:
                self._on_write(len(lines))


def _append_lines(path: Path, lines: list[str]) -> None:
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


def utc_now() -> datetime:
    return datetime.now(UTC)

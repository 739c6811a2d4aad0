"""Writing the prediction log for drift monitoring, off the request path.

A request puts one small record per prediction on a bounded queue (``put_nowait``); a writer
thread appends them as JSON lines to ``<monitoring>/predictions/YYYY-MM-DD.jsonl`` (UTC day;
the format is :mod:`emotion_clf.monitoring.predictions`), at most one write per
``flush_interval_s``. A full queue drops the record and counts it: logging never slows or fails
a prediction.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from emotion_clf.monitoring.predictions import PredictionRecord, append_lines, log_path

logger = logging.getLogger(__name__)

_STOP = object()
FLUSH_INTERVAL_S = 0.1
MAX_WRITE = 10_000


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
        flush_interval_s: float = FLUSH_INTERVAL_S,
    ) -> None:
        self.folder = Path(folder)
        self.flush_interval_s = flush_interval_s
        self._stopping = threading.Event()  # cuts the flush wait short at close
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
        self._stopping.set()
        try:
            self._queue.put(_STOP, timeout=timeout_s)
        except queue.Full:
            logger.warning("prediction log queue stayed full; stopping without flushing it")
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            logger.warning("prediction log writer did not stop within %.1f s", timeout_s)
        self._thread = None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is not _STOP and self.flush_interval_s > 0:
                # let records gather: one write per interval, not one per request (a write
                # per request cost the server a sixth of a core in file calls at 1,000/s, all
                # of it holding the GIL the event loop needs)
                self._stopping.wait(self.flush_interval_s)
            batch: list[object] = [item]
            while len(batch) < MAX_WRITE:  # drain what is already there, then write it at once
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            records = [r for r in batch if isinstance(r, PredictionRecord)]
            if records:
                self._write(records)
            if any(r is _STOP for r in batch):
                return

    def _dropped(self, count: int) -> None:
        self.dropped += count
        if self._on_drop is not None:
            self._on_drop(count)

    def _write(self, records: list[PredictionRecord]) -> None:
        by_day: dict[date, list[str]] = {}
        for record in records:
            try:
                line = record.to_json(with_text=self.with_text)
                line.encode("utf-8")
            except (ValueError, TypeError) as exc:  # one odd record never stops the writer
                logger.error("prediction log record %s not written: %s", record.request_id, exc)
                self._dropped(1)
                continue
            by_day.setdefault(record.time.date(), []).append(line + "\n")
        for day, lines in by_day.items():
            path = log_path(self.folder, day)
            try:
                append_lines(path, lines)
            except OSError as exc:
                logger.error(
                    "could not write %d prediction log line(s) to %s: %s", len(lines), path, exc
                )
                self._dropped(len(lines))
                continue
            self.written += len(lines)
            if self._on_write is not None:
                self._on_write(len(lines))


def utc_now() -> datetime:
    return datetime.now(UTC)

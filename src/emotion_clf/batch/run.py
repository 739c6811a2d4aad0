"""Batch inference: many rows from files, URLs or media, classified in chunks.

:func:`run_batch` streams every row of every source (:mod:`.inputs`) through a
:class:`Scorer` (a loaded model, or a running API server) in chunks, appends one output row
per input row (:mod:`.outputs`), and summarises each source as it goes: counts and shares of
each emotion, mean intensity, and shares by duration where times are known. Bad rows are
skipped and counted (each one kept, with its line, in a ``.rejected.csv`` beside the output),
or stop the run, per ``on_error``.
"""

from __future__ import annotations

import csv
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np

from emotion_clf.batch.inputs import BadRow, InputRow, SourceReader, expand_sources
from emotion_clf.batch.outputs import AtomicOutput
from emotion_clf.client import ApiAnswerError, ApiClient
from emotion_clf.contracts import BatchResponse
from emotion_clf.data.schema import HEADS, SCHEMA
from emotion_clf.errors import DataError
from emotion_clf.models.base import Predictor

logger = logging.getLogger(__name__)

ON_ERROR = ("skip", "fail")
BAD_ROWS_KEPT = 100  # listed in the summary; all of them go to the .rejected.csv file


@dataclass(frozen=True)
class Scored:
    """Labels and confidences per head for a list of texts, and which texts were refused."""

    labels: dict[str, list[str]]
    confidences: dict[str, np.ndarray]
    model: str
    refused: dict[int, str] = field(default_factory=dict)  # index in the texts -> reason


class Scorer(Protocol):
    label: str

    def score(self, texts: list[str]) -> Scored: ...


class LocalScorer:
    """A loaded model; the whole chunk goes to ``predict_batch`` at once."""

    def __init__(self, predictor: Predictor, *, label: str, version: str | None) -> None:
        self.predictor = predictor
        self.label = label
        self.version = version or label

    def score(self, texts: list[str]) -> Scored:
        batch = self.predictor.predict_batch(texts)
        return Scored(
            labels={h: batch.labels(h) for h in HEADS},
            confidences={h: np.asarray(batch.confidences(h)) for h in HEADS},
            model=self.version,
        )


class ApiScorer:
    """A running server: ``POST /predict/batch`` with at most ``limit`` texts a request.

    A text the server refuses (too long, say) is reported as a bad row and the rest of its
    request is sent again; any other failure stops the run with the client's error
    (:mod:`emotion_clf.client.errors`: the server unreachable, no answer in time, an answer
    that is not JSON, or the server's own error), never as a bad row of the input.
    """

    def __init__(
        self, url: str, *, limit: int = 256, headers: dict[str, str] | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.label = self.url
        self.limit = limit
        self.client = ApiClient(self.url, headers=headers, timeout_s=120)

    def score(self, texts: list[str]) -> Scored:
        labels: dict[str, list[str]] = {h: [""] * len(texts) for h in HEADS}
        confidences = {h: np.zeros(len(texts)) for h in HEADS}
        refused: dict[int, str] = {}
        model = ""
        for start in range(0, len(texts), self.limit):
            pending = list(range(start, min(start + self.limit, len(texts))))
            while pending:
                answer, rejected = self._post([texts[i] for i in pending])
                if answer is None:
                    assert rejected is not None
                    index, reason = rejected
                    refused[pending[index]] = f"the server refused it: {reason}"
                    del pending[index]
                    continue
                model = answer.model_version or ""
                for i, prediction in zip(pending, answer.predictions, strict=True):
                    for head in HEADS:
                        labels[head][i] = getattr(prediction, head).label
                        confidences[head][i] = getattr(prediction, head).confidence
                pending = []
        return Scored(labels, confidences, model, refused)

    def _post(self, texts: list[str]) -> tuple[BatchResponse | None, tuple[int, str] | None]:
        """The answer, or which text the server refused and why."""
        try:
            return self.client.predict_batch(texts), None
        except ApiAnswerError as exc:
            field_name = exc.field or ""  # "texts[17]"
            if exc.status_code == 422 and field_name.startswith("texts[") and field_name[-1] == "]":
                return None, (int(field_name[6:-1]), exc.reason)
            raise


@dataclass
class SourceSummary:
    source: str
    rows: int = 0
    bad: int = 0
    emotions: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)  # per emotion, timed rows only
    intensity_total: float = 0.0

    def add(
        self, emotions: Sequence[str], intensities: Sequence[str], rows: Sequence[InputRow]
    ) -> None:
        levels = {name: i + 1 for i, name in enumerate(SCHEMA.intensities)}
        self.rows += len(rows)
        self.emotions.update(emotions)
        self.intensity_total += sum(levels[i] for i in intensities)
        for emotion, row in zip(emotions, rows, strict=True):
            if row.start_s is not None and row.end_s is not None and row.end_s >= row.start_s:
                self.seconds[emotion] = self.seconds.get(emotion, 0.0) + row.end_s - row.start_s

    def to_dict(self) -> dict[str, Any]:
        timed = sum(self.seconds.values())
        out: dict[str, Any] = {
            "source": self.source,
            "rows": self.rows,
            "bad_rows": self.bad,
            "dominant_emotion": self.emotions.most_common(1)[0][0] if self.emotions else None,
            "emotions": {e: self.emotions.get(e, 0) for e in SCHEMA.emotions},
            "shares": {
                e: round(self.emotions.get(e, 0) / self.rows, 4) if self.rows else 0.0
                for e in SCHEMA.emotions
            },
            "mean_intensity": round(self.intensity_total / self.rows, 3) if self.rows else None,
            "intensity_scale": {name: i + 1 for i, name in enumerate(SCHEMA.intensities)},
        }
        if timed > 0:
            out["duration_s"] = round(timed, 3)
            out["duration_shares"] = {
                e: round(self.seconds.get(e, 0.0) / timed, 4) for e in SCHEMA.emotions
            }
        return out


@dataclass
class BatchSummary:
    output: Path
    model: str
    sources: dict[str, SourceSummary] = field(default_factory=dict)
    bad_rows: list[BadRow] = field(default_factory=list)  # the first BAD_ROWS_KEPT
    bad_count: int = 0
    rejected: Path | None = None
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.sources.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "model": self.model,
            "rows": self.rows,
            "bad_rows": self.bad_count,
            "rejected": str(self.rejected) if self.rejected else None,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows / self.seconds, 1) if self.seconds else None,
            "sources": [s.to_dict() for s in self.sources.values()],
            "bad_row_samples": [b.describe() for b in self.bad_rows],
        }


def run_batch(
    sources: Sequence[str],
    *,
    scorer: Scorer,
    output: Path,
    reader: SourceReader,
    on_error: str = "skip",
    chunk_size: int = 1024,
    progress: Callable[[int], None] | None = None,
) -> BatchSummary:
    """Classify every row of ``sources`` into ``output``; returns the summary.

    ``on_error="fail"`` stops at the first bad row with a :class:`DataError` naming its
    source and line, and writes nothing.
    """
    if on_error not in ON_ERROR:
        raise DataError(f"unknown --on-error {on_error!r}", field="on_error", allowed=ON_ERROR)
    started = time.perf_counter()
    summary = BatchSummary(output=output, model=scorer.label)
    sink = AtomicOutput(output)
    rejected = RejectedRows(output)
    buffer: list[InputRow] = []

    def reject(bad: BadRow) -> None:
        if on_error == "fail":
            raise DataError(bad.reason, file=bad.source, line=bad.line or None)
        summary.bad_count += 1
        summary.sources.setdefault(bad.source, SourceSummary(bad.source)).bad += 1
        if len(summary.bad_rows) < BAD_ROWS_KEPT:
            summary.bad_rows.append(bad)
        rejected.add(bad)

    def flush() -> None:
        scored = scorer.score([row.text for row in buffer])
        for index, reason in scored.refused.items():
            reject(BadRow(buffer[index].source, buffer[index].line, reason))
        keep = [i for i in range(len(buffer)) if i not in scored.refused]
        rows = []
        by_source: dict[str, list[int]] = {}
        for i in keep:
            row = buffer[i]
            out: dict[str, Any] = {
                "source": row.source,
                "line": row.line,
                "text": row.text,
                "start_s": row.start_s,
                "end_s": row.end_s,
            }
            for head in HEADS:
                out[head] = scored.labels[head][i]
                out[f"{head}_confidence"] = round(float(scored.confidences[head][i]), 6)
            out["model"] = scored.model
            rows.append(out)
            by_source.setdefault(row.source, []).append(i)
        sink.write(rows)
        for source, indices in by_source.items():
            summary.sources.setdefault(source, SourceSummary(source)).add(
                [scored.labels["emotion"][i] for i in indices],
                [scored.labels["intensity"][i] for i in indices],
                [buffer[i] for i in indices],
            )
        if progress is not None:
            progress(len(buffer))
        buffer.clear()

    try:
        for source in expand_sources(list(sources)):
            summary.sources.setdefault(source, SourceSummary(source))
            for item in reader.read(source):
                if isinstance(item, BadRow):
                    reject(item)
                    continue
                buffer.append(item)
                if len(buffer) >= chunk_size:
                    flush()
        if buffer:
            flush()
    except BaseException:
        sink.discard()
        rejected.discard()
        raise
    summary.output = sink.commit()
    summary.rejected = rejected.commit()
    summary.seconds = time.perf_counter() - started
    logger.info(
        "batch: %d rows, %d bad, in %.1f s", summary.rows, summary.bad_count, summary.seconds
    )
    return summary


class RejectedRows:
    """The bad rows of a run, streamed to ``<output stem>.rejected.csv`` as they come (so a run
    with many of them stays in bounded memory); the file appears on :meth:`commit`, only if
    there was a bad row."""

    def __init__(self, output: Path) -> None:
        self.path = output.with_name(f"{output.stem}.rejected.csv")
        self.temp = self.path.with_name(f".{self.path.name}.tmp")
        self._handle: IO[str] | None = None
        self._writer: Any = None

    def add(self, bad: BadRow) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.temp.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["source", "line", "reason"])
        self._writer.writerow([bad.source, bad.line, bad.reason])

    def commit(self) -> Path | None:
        if self._handle is None:
            return None
        self._handle.close()
        os.replace(self.temp, self.path)
        return self.path

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self.temp.unlink(missing_ok=True)

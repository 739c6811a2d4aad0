"""Azure ML's model data collection, both ends: what ``score.py`` hands the collector, and
what the collector stored, read back for the drift check.

``score.py`` (loaded by Azure ML's inference server) hands each scored request to
:class:`TrafficCollector`: ``azureml-ai-monitoring``'s ``Collector``, which posts to a sidecar
the deployment runs when its ``data_collector`` is enabled, two collections joined by a
correlation id: ``model_inputs`` (:func:`input_rows`) and ``model_outputs``
(:func:`output_rows`). Collection never fails a request: a full queue, a sidecar that is
down, collection switched off all end in one log line. (This module lives here, not under
``emotion_clf.azure``, because ``score.py`` must not import the Azure SDKs.)

Azure ML writes each collection as JSON lines in the workspace's blob store
(``.../modelDataCollector/<endpoint>/<deployment>/<collection>/YYYY/MM/DD/HH/*.jsonl``;
download a range with ``az storage blob download-batch``). Each line is one request:
``{"type": "azureml.inference.model_inputs", "correlationid": ..., "data": [rows], ...}``.
``model_inputs`` rows hold the text and its length, ``model_outputs`` rows each head's label
and confidence; a request's two lines share a correlation id. :func:`read_collected` pairs
them into the rows the drift check compares with the reference profile, the same rows the
prediction log gives it for the FastAPI server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotion_clf.batch.lines import read_lines
from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError

logger = logging.getLogger(__name__)

INPUTS = "model_inputs"
OUTPUTS = "model_outputs"


def input_rows(texts: Sequence[str]) -> list[dict[str, Any]]:
    return [{"text": t, "length": len(t)} for t in texts]


def output_rows(predictions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per prediction: ``<head>`` and ``<head>_confidence`` for each head."""
    rows = []
    for p in predictions:
        row: dict[str, Any] = {}
        for head in HEADS:
            row[head] = p[head]["label"]
            row[f"{head}_confidence"] = float(p[head]["confidence"])
        rows.append(row)
    return rows


class TrafficCollector:
    """Both collections of one deployment; a no-op where the collector is not installed."""

    def __init__(self) -> None:
        self._warned = False
        try:
            from azureml.ai.monitoring import Collector
        except ImportError:
            self._inputs = self._outputs = None
            logger.info("azureml-ai-monitoring is not installed: no data collection")
            return
        self._inputs = Collector(name=INPUTS, on_error=self._error)
        self._outputs = Collector(name=OUTPUTS, on_error=self._error)

    def _error(self, exc: Exception) -> None:
        if not self._warned:  # "not enabled" repeats for every request otherwise
            logger.warning("data collection is off or failing: %s", exc)
            self._warned = True

    def collect(self, texts: Sequence[str], predictions: Sequence[Mapping[str, Any]]) -> None:
        if self._inputs is None or self._outputs is None:
            return
        try:
            import pandas as pd

            context = self._inputs.collect(pd.DataFrame(input_rows(texts)))
            self._outputs.collect(pd.DataFrame(output_rows(predictions)), context)
        except Exception as exc:
            self._error(exc)


@dataclass
class CollectedRead:
    """Rows paired from both collections, and what could not be used (with where)."""

    texts: list[str] = field(default_factory=list)
    labels: dict[str, list[str]] = field(default_factory=lambda: {h: [] for h in HEADS})
    confidences: dict[str, list[float]] = field(default_factory=lambda: {h: [] for h in HEADS})
    bad_lines: list[str] = field(default_factory=list)
    unpaired: int = 0


def _collection(line: Mapping[str, Any], path: Path) -> str | None:
    kind = str(line.get("type", ""))
    for name in (INPUTS, OUTPUTS):
        if kind.endswith(name) or (not kind and name in path.parts):
            return name
    return None


def pair(
    inputs: Iterable[Mapping[str, Any]], outputs: Iterable[Mapping[str, Any]], read: CollectedRead
) -> CollectedRead:
    """Join input and output lines by correlation id, rows by position, into ``read``."""
    by_id: dict[str, list[Any]] = {}
    for line in inputs:
        by_id.setdefault(str(line.get("correlationid")), []).extend(line.get("data") or [])
    for line in outputs:
        rows = line.get("data") or []
        given = by_id.pop(str(line.get("correlationid")), None)
        if given is None or len(given) != len(rows):
            read.unpaired += len(rows)
            continue
        for text_row, row in zip(given, rows, strict=True):
            try:
                labels = {h: str(row[h]) for h in HEADS}
                confidences = {h: float(row[f"{h}_confidence"]) for h in HEADS}
                text = str(text_row["text"])
            except (KeyError, TypeError, ValueError) as exc:
                read.bad_lines.append(f"correlation id {line.get('correlationid')}: {exc!r}")
                continue
            read.texts.append(text)
            for h in HEADS:
                read.labels[h].append(labels[h])
                read.confidences[h].append(confidences[h])
    read.unpaired += sum(len(rows) for rows in by_id.values())
    return read


def read_collected(folder: Path, *, max_line_bytes: int = 64 * 1024 * 1024) -> CollectedRead:
    """Every ``*.jsonl`` under ``folder`` (both collections, any depth), paired. A line over
    ``max_line_bytes`` (one request's rows) is counted as unusable, never held whole."""
    if not folder.exists():
        raise DataError(f"{folder} does not exist", field="azure-collected")
    files = sorted(folder.rglob("*.jsonl")) if folder.is_dir() else [folder]
    found: dict[str, list[Mapping[str, Any]]] = {INPUTS: [], OUTPUTS: []}
    read = CollectedRead()
    for path in files:
        with path.open("rb") as handle:
            for line in read_lines(handle, max_bytes=max_line_bytes):
                where = f"{path}:{line.number}"
                if line.data is None:  # read past in constant memory, not held
                    read.bad_lines.append(f"{where}: longer than {max_line_bytes:,} bytes")
                    continue
                if not line.data.strip():
                    continue
                try:
                    record = json.loads(line.data)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    read.bad_lines.append(f"{where}: not JSON ({exc})")
                    continue
                name = _collection(record, path) if isinstance(record, dict) else None
                if name is None:
                    read.bad_lines.append(f"{where}: neither {INPUTS} nor {OUTPUTS}")
                    continue
                found[name].append(record)
    if not found[INPUTS] or not found[OUTPUTS]:
        raise DataError(
            f"{folder} holds {len(found[INPUTS])} {INPUTS} and {len(found[OUTPUTS])} "
            f"{OUTPUTS} lines; the drift check needs both collections",
            field="azure-collected",
        )
    return pair(found[INPUTS], found[OUTPUTS], read)

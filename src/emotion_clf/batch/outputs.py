"""Writing batch predictions: CSV, JSONL or Parquet, chosen by the output's suffix.

Rows arrive in chunks and are appended as they come (Parquet: one row group per chunk), so
memory stays bounded. Everything goes to a temporary file next to the output, renamed into
place only when the run completes: a failed or interrupted run leaves no half-written output.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError
from emotion_clf.files import fsync_folder

COLUMNS: tuple[str, ...] = (
    "source",
    "line",
    "text",
    "start_s",
    "end_s",
    *(name for head in HEADS for name in (head, f"{head}_confidence")),
    "model",
)
FORMATS = (".csv", ".jsonl", ".parquet")


class RowWriter(Protocol):
    def write(self, rows: Sequence[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


class _CsvWriter:
    def __init__(self, path: Path) -> None:
        self.handle = path.open("w", encoding="utf-8", newline="")
        self.writer = csv.DictWriter(self.handle, fieldnames=COLUMNS)
        self.writer.writeheader()

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        self.writer.writerows(rows)

    def close(self) -> None:
        self.handle.close()


class _JsonlWriter:
    def __init__(self, path: Path) -> None:
        self.handle = path.open("w", encoding="utf-8")

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        self.handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)

    def close(self) -> None:
        self.handle.close()


class _ParquetWriter:
    def __init__(self, path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {"line": pa.int64(), "start_s": pa.float64(), "end_s": pa.float64()}
        types.update({f"{h}_confidence": pa.float64() for h in HEADS})
        self.schema = pa.schema([(c, types.get(c, pa.string())) for c in COLUMNS])
        self.writer = pq.ParquetWriter(str(path), self.schema)
        self._pa = pa

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.writer.write_table(self._pa.Table.from_pylist(list(rows), schema=self.schema))

    def close(self) -> None:
        self.writer.close()


class AtomicOutput:
    """A writer to a temporary file that becomes ``path`` on :meth:`commit`."""

    def __init__(self, path: Path) -> None:
        suffix = path.suffix.lower()
        if suffix not in FORMATS:
            raise DataError(
                f"cannot write {path.name}: the output format comes from the suffix",
                field="output",
                allowed=FORMATS,
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        self.temp = Path(temp)
        writers: dict[str, Callable[[Path], RowWriter]] = {
            ".csv": _CsvWriter,
            ".jsonl": _JsonlWriter,
            ".parquet": _ParquetWriter,
        }
        self.writer = writers[suffix](self.temp)

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        self.writer.write(rows)

    def commit(self) -> Path:
        self.writer.close()
        self.temp.chmod(0o644)
        os.replace(self.temp, self.path)
        fsync_folder(self.path.parent)
        return self.path

    def discard(self) -> None:
        try:
            self.writer.close()
        finally:
            self.temp.unlink(missing_ok=True)

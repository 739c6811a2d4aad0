"""Reading labelled transcript CSV files.

The format: ``start_time,end_time,text,emotion,sub-emotion,intensity`` with standard CSV
quoting. Real files differ in small ways this reader accepts: ``HH:MM:SS,mmm`` or ``HH:MM:SS``
times, a ``sub-emotion`` or ``sub_emotion`` header, extra columns, label case and whitespace,
raw intensity spellings. Rows with no text and no labels are subtitle gaps: skipped and
counted. Rows with text but no label at all were never annotated: skipped and counted. Anything
else that is wrong (an unknown label, a row with some labels missing, a sub-emotion that
contradicts its emotion, a malformed time) is an error naming the file, line and field.
A cell guarded against spreadsheet formulas (``'=...``, as the feedback writer and spreadsheets
write it) is read without the guard: see :mod:`emotion_clf.data.cells`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from emotion_clf.data.cells import unguard_cell
from emotion_clf.data.schema import (
    EMOTIONS,
    HEADS,
    INTENSITY_ALIASES,
    SUB_EMOTION_PARENT,
    normalise_emotion,
    normalise_intensity,
    normalise_sub_emotion,
    normalise_token,
)
from emotion_clf.data.timecode import timecode_seconds
from emotion_clf.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

# pandas is imported where a frame is built: importing it costs about half a second, which
# code that only validates labels or names the CSV header (the server's /feedback, every
# command line call) should not pay

COLUMNS = ("batch", "line", "start_s", "end_s", "text", *HEADS)
#: the header of the data's CSV files (and of the feedback files the API writes)
CSV_HEADER = ("start_time", "end_time", "text", "emotion", "sub-emotion", "intensity")
_HEADER_ALIASES = {"subemotion": "sub emotion"}


@dataclass(frozen=True)
class FileReport:
    """What reading one file found."""

    path: str
    rows: int
    skipped_empty: int
    skipped_unlabelled: int
    extra_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dataset:
    """Labelled rows from one or more files, with what was skipped on the way."""

    frame: pd.DataFrame
    files: tuple[FileReport, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def skipped_empty(self) -> int:
        return sum(f.skipped_empty for f in self.files)

    @property
    def skipped_unlabelled(self) -> int:
        return sum(f.skipped_unlabelled for f in self.files)

    @property
    def texts(self) -> list[str]:
        return self.frame["text"].tolist()

    def fingerprint(self) -> str:
        """sha256 of the rows' text and labels in order: the same data gives the same print."""
        digest = hashlib.sha256()
        for row in self.frame[["text", *HEADS]].itertuples(index=False):
            digest.update("\x1f".join(row).encode("utf-8"))
            digest.update(b"\x1e")
        return digest.hexdigest()

    def subset(self, mask: pd.Series | Sequence[bool]) -> Dataset:
        import pandas as pd

        frame = self.frame[list(mask) if not isinstance(mask, pd.Series) else mask]
        return Dataset(frame=frame.reset_index(drop=True), files=self.files)

    def summary(self) -> dict[str, object]:
        return {
            "rows": len(self),
            "files": len(self.files),
            "skipped_empty": self.skipped_empty,
            "skipped_unlabelled": self.skipped_unlabelled,
        }


def parse_time(value: str, *, file: Path, line: int, column: str) -> float | None:
    """Seconds from a timecode (see :mod:`emotion_clf.data.timecode`); None when empty."""
    text = value.strip()
    if not text:
        return None
    try:
        return timecode_seconds(text)
    except ValueError as exc:
        raise DataError(
            f"{column} {text!r} {exc}", file=file, line=line, field=column, value=text
        ) from exc


def _canonical_header(name: str) -> str:
    """``Sub-Emotion``, ``sub_emotion``, ``subemotion`` -> ``sub_emotion``."""
    token = normalise_token(name)
    return _HEADER_ALIASES.get(token, token).replace(" ", "_")


def _label(field_name: str, raw: str, *, file: Path, line: int, allowed: Iterable[str]) -> str:
    normaliser = {
        "emotion": normalise_emotion,
        "sub_emotion": normalise_sub_emotion,
        "intensity": normalise_intensity,
    }[field_name]
    value = normaliser(raw)
    if value is None:
        raise DataError(
            f"unknown {field_name.replace('_', '-')} {raw.strip()!r}",
            file=file,
            line=line,
            field=field_name,
            value=raw.strip(),
            allowed=sorted(allowed),
        )
    return value


def validate_labels(
    emotion: str, sub_emotion: str, intensity: str, *, file: Path | str, line: int
) -> tuple[str, str, str]:
    """Normalise one row's three labels and check the hierarchy; raise DataError if wrong."""
    path = Path(file)
    emo = _label("emotion", emotion, file=path, line=line, allowed=EMOTIONS)
    sub = _label("sub_emotion", sub_emotion, file=path, line=line, allowed=SUB_EMOTION_PARENT)
    inten = _label("intensity", intensity, file=path, line=line, allowed=INTENSITY_ALIASES)
    if SUB_EMOTION_PARENT[sub] != emo:
        raise DataError(
            f"sub-emotion {sub!r} belongs to emotion {SUB_EMOTION_PARENT[sub]!r}, not {emo!r}",
            file=path,
            line=line,
            field="sub_emotion",
            value=sub,
            allowed=sorted(s for s, p in SUB_EMOTION_PARENT.items() if p == emo),
        )
    return emo, sub, inten


def _parse_row(
    row: list[str], index: dict[str, int], *, path: Path, line: int
) -> tuple[object, ...] | str:
    """One data row as a record, or "empty" / "unlabelled" for rows that are skipped."""

    def cell(name: str) -> str:
        position = index.get(name)
        # a spreadsheet guard ('=...) is not part of the text (emotion_clf.data.cells)
        return unguard_cell(row[position]) if position is not None and position < len(row) else ""

    text = cell("text").strip()
    labels = [cell(name) for name in HEADS]
    present = [bool(value.strip()) for value in labels]
    if not any(present):
        return "unlabelled" if text else "empty"
    if not text:
        raise DataError("row has labels but no text", file=path, line=line, field="text")
    if not all(present):
        absent = HEADS[present.index(False)]
        raise DataError(
            f"row has no {absent.replace('_', '-')} (a row needs all three labels)",
            file=path,
            line=line,
            field=absent,
        )
    emo, sub, inten = validate_labels(*labels, file=path, line=line)
    start = parse_time(cell("start_time"), file=path, line=line, column="start_time")
    end = parse_time(cell("end_time"), file=path, line=line, column="end_time")
    return (path.stem, line, start, end, text, emo, sub, inten)


def read_csv_file(
    path: Path, *, problems: list[DataError] | None = None
) -> tuple[pd.DataFrame, FileReport]:
    """Read one labelled CSV file; raise DataError naming file and line on bad content.

    With ``problems``, a bad *row* (a label it does not know, a missing label, a bad time) is
    appended there and skipped instead, so a partly filled file still gives its good rows;
    a file that cannot be read at all still raises.
    """
    path = Path(path)
    records: list[tuple[object, ...]] = []
    skipped_empty = skipped_unlabelled = 0
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror}", file=path) from exc
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"not UTF-8 text: {exc.reason} at byte {exc.start}", file=path, line=line
        ) from exc
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header_row = next(reader, None)
    except csv.Error as exc:
        raise DataError(f"not a readable CSV file: {exc}", file=path, line=1) from exc
    if header_row is None:
        raise DataError("file is empty (no header row)", file=path, line=1)
    header = [_canonical_header(h) for h in header_row]
    required = ("text", *HEADS)
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(header_row)}",
            file=path,
            line=1,
            field=missing[0],
            allowed=CSV_HEADER,
        )
    index = {
        name: header.index(name) for name in (*required, "start_time", "end_time") if name in header
    }
    known = {"text", "start_time", "end_time", *HEADS}
    extra = tuple(h for h in header if h not in known)
    try:
        for row in reader:
            try:
                outcome = _parse_row(row, index, path=path, line=reader.line_num)
            except DataError as exc:
                if problems is None:
                    raise
                problems.append(exc)
                continue
            if isinstance(outcome, tuple):
                records.append(outcome)
            elif outcome == "empty":
                skipped_empty += 1
            else:
                skipped_unlabelled += 1
    except csv.Error as exc:
        raise DataError(f"malformed CSV: {exc}", file=path, line=reader.line_num) from exc
    import pandas as pd

    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    frame = frame.astype({"start_s": "float64", "end_s": "float64"})
    report = FileReport(
        path=str(path),
        rows=len(frame),
        skipped_empty=skipped_empty,
        skipped_unlabelled=skipped_unlabelled,
        extra_columns=extra,
    )
    return frame, report


def csv_files(path: Path) -> list[Path]:
    """The CSV files a path names: the file itself, or a folder's ``*.csv`` in name order."""
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.glob("*.csv") if p.is_file())
        if not files:
            raise DataError("folder holds no .csv files", file=path)
        return files
    raise DataError("no such file or folder", file=path)


def load_dataset(source: Path | str | Sequence[Path | str]) -> Dataset:
    """Load every labelled row from a CSV file, a folder of CSV files, or a list of either."""
    sources = [source] if isinstance(source, (str, Path)) else list(source)
    files = [file for item in sources for file in csv_files(Path(item))]
    frames: list[pd.DataFrame] = []
    reports: list[FileReport] = []
    for file in files:
        frame, report = read_csv_file(file)
        frames.append(frame)
        reports.append(report)
    stems = [Path(r.path).stem for r in reports]
    duplicates = sorted({s for s in stems if stems.count(s) > 1})
    if duplicates:
        raise DataError(f"two files share the batch name(s) {', '.join(duplicates)}")
    import pandas as pd

    frame = pd.concat(frames, ignore_index=True)
    return Dataset(frame=frame, files=tuple(reports))

"""Rows of each text format, read record by record in bounded memory.

CSV, JSONL and plain text are streamed: no record (a CSV record, which may span lines; a JSONL
or text line) is held beyond ``max_record_bytes``, so a file of any size, a line of gigabytes
included, is read in constant memory and the over-long record becomes a :class:`BadRow` naming
its line. SRT and WebVTT files are parsed whole (cue numbering and timings need the whole
file), so a subtitle file over ``max_transcript_bytes`` is refused as a whole instead.

The defaults, and why:

- :data:`MAX_RECORD_BYTES`: a classifiable row is at most a few kilobytes (2,000 characters
  of UTF-8 and its other columns); a megabyte leaves room for wide CSVs and long metadata while
  a record still costs a few megabytes of Python objects at most.
- :data:`MAX_TEXT_CHARS`: the server's limit (``EMOTION_CLF_MAX_TEXT_CHARS``), so a text the
  batch command scores is one the API would score too; the model learnt from sentences.
- :data:`MAX_TRANSCRIPT_BYTES`: the subtitles of a long film take a few hundred kilobytes;
  ten megabytes is far beyond any real one and still parses in tens of megabytes.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from emotion_clf.batch.lines import Line, decode_line, too_long
from emotion_clf.batch.rows import BadRow, InputRow, Item
from emotion_clf.data.schema import normalise_token
from emotion_clf.data.timecode import timecode_seconds
from emotion_clf.data.transcript import Transcript, parse_srt, parse_vtt
from emotion_clf.errors import DataError

MAX_RECORD_BYTES = 1_048_576
MAX_TEXT_CHARS = 2_000
MAX_TRANSCRIPT_BYTES = 10_000_000


class _RecordTooLong(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _CsvLines:
    """The lines the ``csv`` module reads: decoded, numbered, and cut off when the record being
    read passes the limit (one quote left open would otherwise make the rest of the file one
    record). The reader propagates the exception and starts its next record afresh."""

    def __init__(self, lines: Iterator[Line], source: str, max_record_bytes: int) -> None:
        self.lines, self.source, self.max_record_bytes = lines, source, max_record_bytes
        self.number = 0  # of the last line read
        self.record_bytes = 0
        self.record_first = 1

    def start_record(self) -> None:
        self.record_bytes, self.record_first = 0, self.number + 1

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        # A method, not a generator: a generator that raises is finished, and the reader must
        # go on with the next record after one over the limit.
        line = next(self.lines)
        self.number = line.number
        if line.data is None:
            raise _RecordTooLong(too_long(line, self.max_record_bytes))
        self.record_bytes += line.size
        if self.record_bytes > self.max_record_bytes:
            raise _RecordTooLong(
                f"the record is longer than {self.max_record_bytes:,} bytes "
                f"(lines {self.record_first}-{self.number})"
            )
        return decode_line(line, self.source)


def csv_rows(
    source: str,
    lines: Iterator[Line],
    *,
    text_column: str,
    max_record_bytes: int = MAX_RECORD_BYTES,
) -> Iterator[Item]:
    """Rows of a CSV file with a header; ``start_time``/``end_time`` columns give times."""
    feed = _CsvLines(lines, source, max_record_bytes)
    reader = csv.reader(feed, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError("the file is empty (no header row)", file=source, line=1) from None
    except _RecordTooLong as exc:
        raise DataError(f"the header row: {exc.reason}", file=source, line=1) from None
    except csv.Error as exc:
        raise DataError(f"the header is not valid CSV: {exc}", file=source, line=1) from exc
    names = [normalise_token(h).replace(" ", "_") for h in header]
    wanted = normalise_token(text_column).replace(" ", "_")
    if wanted not in names:
        raise DataError(
            f"no text column {text_column!r}; choose one with --text-column",
            file=source,
            line=1,
            field="text_column",
            allowed=header,
        )
    column = names.index(wanted)
    starts = names.index("start_time") if "start_time" in names else None
    ends = names.index("end_time") if "end_time" in names else None
    while True:
        feed.start_record()
        first = feed.record_first
        try:
            row = next(reader)
        except StopIteration:
            return
        except _RecordTooLong as exc:
            yield BadRow(source, first, exc.reason)
            continue
        except csv.Error as exc:
            last = feed.number
            where = f"lines {first}-{last}" if last > first else f"line {first}"
            yield BadRow(source, first, f"{_csv_problem(exc)} ({exc}; {where})")
            continue
        if not row:
            continue  # a blank line between records (a row of empty fields is reported)
        if column >= len(row):
            yield BadRow(source, first, f"the row has {len(row)} fields, no {text_column!r}")
            continue
        text = row[column].strip()
        if not text:
            yield BadRow(source, first, "empty text")
            continue
        try:
            start = _time(row, starts)
            end = _time(row, ends)
        except ValueError as exc:
            yield BadRow(source, first, f"bad time: {exc}")
            continue
        yield InputRow(source, first, text, start, end)


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a field is longer than {csv.field_size_limit():,} characters"
    return "broken CSV quoting"


def _time(row: list[str], index: int | None) -> float | None:
    if index is None or index >= len(row) or not row[index].strip():
        return None
    value = row[index].strip()
    try:
        return float(value)
    except ValueError:
        try:
            return timecode_seconds(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} {exc}") from None


def jsonl_rows(
    source: str,
    lines: Iterable[Line],
    *,
    text_column: str,
    max_record_bytes: int = MAX_RECORD_BYTES,
) -> Iterator[Item]:
    """Rows of a JSONL file: one object a line, its ``text_column`` field the text."""
    for line in lines:
        if line.data is None:
            yield BadRow(source, line.number, too_long(line, max_record_bytes))
            continue
        text_line = decode_line(line, source)
        if not text_line.strip():
            continue
        try:
            record: Any = json.loads(text_line)
        except json.JSONDecodeError as exc:
            yield BadRow(source, line.number, f"not JSON: {exc.msg}")
            continue
        except (ValueError, RecursionError) as exc:  # a number of 5,000 digits, [[[[...
            yield BadRow(source, line.number, f"not JSON: {exc}")
            continue
        if not isinstance(record, dict):
            yield BadRow(source, line.number, "not a JSON object")
            continue
        text = record.get(text_column)
        if not isinstance(text, str) or not text.strip():
            yield BadRow(source, line.number, f"no text in field {text_column!r}")
            continue
        try:
            start = _json_time(record.get("start", record.get("start_time")))
            end = _json_time(record.get("end", record.get("end_time")))
        except ValueError as exc:
            yield BadRow(source, line.number, f"bad time: {exc}")
            continue
        yield InputRow(source, line.number, text.strip(), start, end)


def _json_time(value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return _time([value], 0)
    raise ValueError(f"{value!r} is not seconds or a timecode")


def text_rows(
    source: str, lines: Iterable[Line], *, max_record_bytes: int = MAX_RECORD_BYTES
) -> Iterator[Item]:
    """Rows of a plain text file: one text a line; blank lines are passed over."""
    for line in lines:
        if line.data is None:
            yield BadRow(source, line.number, too_long(line, max_record_bytes))
            continue
        raw = decode_line(line, source)
        text = raw.strip()
        if text:
            yield InputRow(source, line.number, text)
        elif raw.strip("\r\n"):  # spaces only: a row that says nothing
            yield BadRow(source, line.number, "empty text")


def read_transcript(path: Path, source: str, *, max_bytes: int = MAX_TRANSCRIPT_BYTES) -> str:
    """A subtitle file's text, refused whole when it is over ``max_bytes`` (it is parsed whole)."""
    data = b""
    size = path.stat().st_size
    if size <= max_bytes:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since
        size = len(data)
    if size > max_bytes:
        raise DataError(
            f"the subtitle file is {size:,} bytes; subtitles are read whole, and the limit is "
            f"{max_bytes:,} bytes",
            file=source,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=source) from exc


def transcript_rows(source: str, text: str, kind: str) -> Iterator[Item]:
    """Rows of an SRT or WebVTT text: one a cue, with its times; a cue without text is bad."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        transcript: Transcript = parse_srt(text) if kind == "srt" else parse_vtt(text)
    except DataError as exc:
        yield BadRow(source, exc.line or 0, exc.reason)
        return
    empty = dict(transcript.empty_cues)
    segments = iter(transcript.segments)
    for cue in range(1, len(transcript.segments) + len(empty) + 1):
        if cue in empty:
            yield BadRow(source, empty[cue], f"cue {cue} has no text")
            continue
        s = next(segments)
        yield InputRow(source, s.line, s.text, s.start, s.end)


def text_too_long(items: Iterable[Item], max_text_chars: int) -> Iterator[Item]:
    """``items``, each row whose text is over ``max_text_chars`` replaced by a bad row."""
    for item in items:
        if type(item) is InputRow and len(item.text) > max_text_chars:
            yield BadRow(
                item.source,
                item.line,
                f"the text is {len(item.text):,} characters long; the limit is {max_text_chars:,}",
            )
        else:
            yield item

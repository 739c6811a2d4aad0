"""Reading what batch inference classifies: rows of text, from files, URLs and media.

A *source* is a local path or an http(s) URL of: CSV (a text column; optional
``start_time``/``end_time``), JSONL (one object per line), plain text (one text per line),
SRT or WebVTT, an audio or video file (transcribed into timed sentences, see
:mod:`.speech`), or a YouTube page (through ``yt-dlp`` when installed). A *list file*
(``.list`` or ``.lst``) names many sources, one per line.

Files are read as streams, row by row, so a million rows take bounded memory. Each row comes
out as an :class:`InputRow` with its source and line; a row that cannot be classified (empty
text, broken quoting, a cue without text, a malformed line) comes out as a :class:`BadRow`
naming its line and the reason, so that the caller can skip or stop and nothing is lost
silently.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlparse

import httpx

from emotion_clf.data.schema import normalise_token
from emotion_clf.data.timecode import timecode_seconds
from emotion_clf.data.transcript import Transcript, parse_srt, parse_vtt
from emotion_clf.errors import ConfigError, DataError
from emotion_clf.speech.transcribe import MEDIA_SUFFIXES, Transcriber

logger = logging.getLogger(__name__)

TEXT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "text",
                ".srt": "srt", ".vtt": "vtt"}  # fmt: skip
LIST_SUFFIXES = (".list", ".lst")
YOUTUBE_HOSTS = ("youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be")
CONTENT_TYPES = {"text/csv": ".csv", "application/x-ndjson": ".jsonl",
                 "application/jsonl": ".jsonl", "text/plain": ".txt",
                 "application/x-subrip": ".srt", "text/vtt": ".vtt"}  # fmt: skip


@dataclass(frozen=True)
class InputRow:
    source: str
    line: int  # line in the file (CSV: where the record starts), or the cue / sentence number
    text: str
    start_s: float | None = None
    end_s: float | None = None


@dataclass(frozen=True)
class BadRow:
    source: str
    line: int  # 0: the source as a whole
    reason: str

    def describe(self) -> str:
        return f"{self.source}" + (f", line {self.line}" if self.line else "") + f": {self.reason}"


Item = InputRow | BadRow


def is_url(source: str) -> bool:
    return urlparse(source).scheme in ("http", "https")


def expand_sources(sources: list[str]) -> list[str]:
    """Sources with every list file replaced by the sources it names (paths relative to it)
    and every folder by the files in it whose format is known, in name order."""
    out: list[str] = []
    for source in sources:
        if not is_url(source) and Path(source).is_dir():
            known = {*TEXT_FORMATS, *MEDIA_SUFFIXES}
            files = sorted(p for p in Path(source).iterdir() if p.suffix.lower() in known)
            if not files:
                raise DataError("the folder holds no file of a known input format", file=source)
            out.extend(str(p) for p in files)
            continue
        if is_url(source) or not source.lower().endswith(LIST_SUFFIXES):
            out.append(source)
            continue
        path = Path(source)
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read the list file: {exc}", file=path) from exc
        for number, line in enumerate(lines, start=1):
            entry = line.strip()
            if not entry or entry.startswith("#"):
                continue
            if entry.lower().endswith(LIST_SUFFIXES):
                raise DataError(
                    "a list file may not name another list file", file=path, line=number
                )
            out.append(entry if is_url(entry) else str((path.parent / entry).resolve()))
    return out


@dataclass
class SourceReader:
    """Reads sources; ``workdir`` holds downloads, ``transcriber`` turns media into text."""

    workdir: Path
    text_column: str = "text"
    transcriber: Transcriber | None = None
    max_download_bytes: int = 500_000_000
    max_media_seconds: float | None = None
    timeout_s: float = 60.0

    def read(self, source: str) -> Iterator[Item]:
        """Every row of one source; a source that cannot be read at all is one bad row."""
        try:
            path, kind = self._local(source)
            yield from self._rows(source, path, kind)
        except (DataError, ConfigError) as exc:
            reason = exc.reason if isinstance(exc, DataError) else str(exc)
            line = exc.line if isinstance(exc, DataError) and exc.line else 0
            yield BadRow(source, line, reason)

    # -- where the bytes are --------------------------------------------------------------
    def _local(self, source: str) -> tuple[Path, str]:
        if not is_url(source):
            path = Path(source)
            if not path.is_file():
                raise DataError("no such file", file=source)
            return path, kind_of(path.suffix)
        host = (urlparse(source).hostname or "").lower()
        if host in YOUTUBE_HOSTS:
            return download_youtube(source, self.workdir), "media"
        return self._download(source)

    def _download(self, url: str) -> tuple[Path, str]:
        return download(
            url, workdir=self.workdir, max_bytes=self.max_download_bytes, timeout_s=self.timeout_s
        )

    # -- rows of each format --------------------------------------------------------------
    def _rows(self, source: str, path: Path, kind: str) -> Iterator[Item]:
        if kind == "media":
            yield from self._media(source, path)
            return
        with _open_text(path, source) as handle:
            if kind == "csv":
                yield from csv_rows(source, handle, text_column=self.text_column)
            elif kind == "jsonl":
                yield from jsonl_rows(source, handle, text_column=self.text_column)
            elif kind == "text":
                yield from text_rows(source, handle)
            else:
                yield from transcript_rows(source, handle.read(), kind)

    def _media(self, source: str, path: Path) -> Iterator[Item]:
        transcriber = self.transcriber or Transcriber()
        self.transcriber = transcriber
        result = transcriber.transcribe(path, max_duration_s=self.max_media_seconds)
        if not result.segments:
            yield BadRow(source, 0, f"no speech found in {result.duration_s:.1f} s of audio")
        for segment in result.segments:
            yield InputRow(source, segment.index, segment.text, segment.start, segment.end)


def download(url: str, *, workdir: Path, max_bytes: int, timeout_s: float) -> tuple[Path, str]:
    """Download ``url`` into ``workdir`` (at most ``max_bytes``); returns the file and its
    kind (``csv``, ``jsonl``, ``text``, ``srt``, ``vtt`` or ``media``), from the URL's suffix
    or else the answer's Content-Type."""
    suffix = Path(urlparse(url).path).suffix.lower()
    target = Path(tempfile.mkstemp(dir=workdir, suffix=suffix or ".download")[1])
    try:
        with httpx.stream("GET", url, timeout=timeout_s, follow_redirects=True) as response:
            if response.status_code != 200:
                raise DataError(f"the server answered HTTP {response.status_code}", file=url)
            size = 0
            with target.open("wb") as handle:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise DataError(
                            f"larger than the download limit of {max_bytes} bytes", file=url
                        )
                    handle.write(chunk)
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    except httpx.HTTPError as exc:
        raise DataError(f"cannot download: {type(exc).__name__}: {exc}", file=url) from exc
    if suffix not in TEXT_FORMATS and suffix not in MEDIA_SUFFIXES:
        suffix = CONTENT_TYPES.get(content_type, "")
        if not suffix and content_type.startswith(("audio/", "video/")):
            return target, "media"
    return target, kind_of(suffix, source=url)


def kind_of(suffix: str, *, source: str | None = None) -> str:
    suffix = suffix.lower()
    if suffix in TEXT_FORMATS:
        return TEXT_FORMATS[suffix]
    if suffix in MEDIA_SUFFIXES:
        return "media"
    known = ", ".join(sorted({*TEXT_FORMATS, *MEDIA_SUFFIXES, *LIST_SUFFIXES}))
    raise DataError(
        f"unknown input format {suffix or '(no suffix)'!r}",
        file=source,
        field="input-file",
        allowed=known.split(", "),
    )


class _open_text:
    """A UTF-8 text handle (BOM skipped) whose decoding errors name the source."""

    def __init__(self, path: Path, source: str) -> None:
        self.path, self.source = path, source
        self.handle: TextIO | None = None

    def __enter__(self) -> TextIO:
        self.handle = self.path.open(encoding="utf-8-sig", newline="")
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()
        if exc and isinstance(exc[1], UnicodeDecodeError):
            raise DataError(f"not UTF-8 text ({exc[1].reason})", file=self.source) from exc[1]


def csv_rows(source: str, handle: TextIO, *, text_column: str) -> Iterator[Item]:
    reader = csv.reader(handle, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError("the file is empty (no header row)", file=source, line=1) from None
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
        first = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last = reader.line_num
            where = f"lines {first}-{last}" if last > first else f"line {first}"
            yield BadRow(source, first, f"broken CSV quoting ({exc}; {where})")
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


def jsonl_rows(source: str, handle: TextIO, *, text_column: str) -> Iterator[Item]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadRow(source, number, f"not JSON: {exc.msg}")
            continue
        if not isinstance(record, dict):
            yield BadRow(source, number, "not a JSON object")
            continue
        text = record.get(text_column)
        if not isinstance(text, str) or not text.strip():
            yield BadRow(source, number, f"no text in field {text_column!r}")
            continue
        try:
            start = _json_time(record.get("start", record.get("start_time")))
            end = _json_time(record.get("end", record.get("end_time")))
        except ValueError as exc:
            yield BadRow(source, number, f"bad time: {exc}")
            continue
        yield InputRow(source, number, text.strip(), start, end)


def _json_time(value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return _time([value], 0)
    raise ValueError(f"{value!r} is not seconds or a timecode")


def text_rows(source: str, handle: TextIO) -> Iterator[Item]:
    for number, line in enumerate(handle, start=1):
        text = line.strip()
        if text:
            yield InputRow(source, number, text)
        elif line.strip("\r\n"):  # spaces only: a row that says nothing
            yield BadRow(source, number, "empty text")


def transcript_rows(source: str, text: str, kind: str) -> Iterator[Item]:
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


def download_youtube(url: str, workdir: Path) -> Path:
    """The audio of a YouTube page, through yt-dlp (an optional tool needing the internet)."""
    try:
        import yt_dlp
    except ImportError:
        raise ConfigError(
            f"{url} is a YouTube page: downloading it needs yt-dlp (pip install yt-dlp) and "
            "access to the internet"
        ) from None
    target = workdir / "youtube"
    options = {"format": "bestaudio/best", "outtmpl": str(target / "%(id)s.%(ext)s"),
               "quiet": True, "noprogress": True}  # fmt: skip
    try:
        with yt_dlp.YoutubeDL(options) as downloader:
            info = downloader.extract_info(url, download=True)
            path = Path(downloader.prepare_filename(info))
    except yt_dlp.utils.DownloadError as exc:
        raise DataError(
            f"yt-dlp could not fetch it (is the site reachable?): {exc}", file=url
        ) from exc
    return path


def clean_workdir(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)

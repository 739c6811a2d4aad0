"""Reading what batch inference classifies: rows of text, from files, URLs and media.

A *source* is a local path or an http(s) URL of: CSV (a text column; optional
``start_time``/``end_time``), JSONL (one object per line), plain text (one text per line),
SRT or WebVTT, an audio or video file (transcribed into timed sentences, see
:mod:`.speech`), or a YouTube page (through ``yt-dlp`` when installed). A *list file*
(``.list`` or ``.lst``) names many sources, one per line.

Files are read as streams, row by row, so a million rows take bounded memory, and every input
has a bounded cost: no record is held beyond ``max_record_bytes`` (a line of gigabytes streams
through), no text over ``max_text_chars`` is classified, a subtitle file is read whole only
under ``max_transcript_bytes``, a list file only under ``max_list_bytes``, and media decode no
more than ``max_media_seconds`` (see :mod:`.formats` for the defaults and why). Each row comes
out as an :class:`InputRow` with its source and line; a row that cannot be classified (empty
text, broken quoting, a cue without text, a malformed or over-long line, a text over the limit)
comes out as a :class:`BadRow` naming its line and the reason, so that the caller can skip or
stop and nothing is lost silently.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from emotion_clf.batch.formats import (
    MAX_RECORD_BYTES,
    MAX_TEXT_CHARS,
    MAX_TRANSCRIPT_BYTES,
    csv_rows,
    jsonl_rows,
    read_transcript,
    text_rows,
    text_too_long,
    transcript_rows,
)
from emotion_clf.batch.lines import read_lines
from emotion_clf.batch.rows import BadRow, InputRow, Item
from emotion_clf.errors import ConfigError, DataError
from emotion_clf.speech.transcribe import MEDIA_SUFFIXES, Transcriber
from emotion_clf.urls import UrlFetchError, UrlPolicy, fetch_url

logger = logging.getLogger(__name__)

TEXT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "text",
                ".srt": "srt", ".vtt": "vtt"}  # fmt: skip
LIST_SUFFIXES = (".list", ".lst")
CONTENT_TYPES = {"text/csv": ".csv", "application/x-ndjson": ".jsonl",
                 "application/jsonl": ".jsonl", "text/plain": ".txt",
                 "application/x-subrip": ".srt", "text/vtt": ".vtt"}  # fmt: skip
MAX_LIST_BYTES = 10_000_000  # a list file is read whole: a hundred thousand paths or URLs


def is_url(source: str) -> bool:
    """Whether ``source`` names a URL (a malformed one too: fetching refuses it cleanly)."""
    return source[:8].lower().startswith(("http://", "https://"))


def clip(text: str, limit: int = 200) -> str:
    """A source as an error may show it: a URL can be as long as its sender likes."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def expand_sources(sources: list[str], *, max_list_bytes: int = MAX_LIST_BYTES) -> list[str]:
    """Sources with every list file replaced by the sources it names (paths relative to it)
    and every folder by the files in it whose format is known, in name order.

    A list file over ``max_list_bytes`` is refused: it is read whole.
    """
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
            with path.open("rb") as handle:
                data = handle.read(max_list_bytes + 1)
            if len(data) > max_list_bytes:
                raise DataError(
                    f"the list file is over the limit of {max_list_bytes:,} bytes", file=path
                )
            lines = data.decode("utf-8-sig").splitlines()
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


def check_sources(
    sources: list[str], *, text_column: str, max_record_bytes: int = MAX_RECORD_BYTES
) -> list[str]:
    """The sources expanded, each local one checked before any model loads: it exists, can
    be read, has a known format, and a CSV has the text column. The first that fails raises
    a :class:`DataError` naming it (a whole source that cannot be read is the user's mistake,
    not a bad row to count); URLs are checked when they are fetched."""
    expanded = expand_sources(sources)
    for source in expanded:
        if is_url(source):
            continue
        path = Path(source)
        if not path.is_file():
            raise DataError("no such file", file=source, field="input-file")
        kind = kind_of(path.suffix, source=source)
        try:
            with path.open("rb") as handle:
                if kind == "csv":  # the header is checked when the first row is asked for
                    lines = read_lines(handle, max_bytes=max_record_bytes)
                    rows = csv_rows(
                        source, lines, text_column=text_column, max_record_bytes=max_record_bytes
                    )
                    next(rows, None)
                else:
                    handle.read(1)
        except OSError as exc:
            raise DataError(f"cannot read the file ({exc.strerror})", file=source) from exc
    return expanded


@dataclass
class SourceReader:
    """Reads sources; ``workdir`` holds downloads, ``transcriber`` turns media into text.

    The limits bound what one source costs: ``max_record_bytes`` a CSV record, JSONL line or
    text line (longer ones are bad rows, read past in constant memory); ``max_text_chars`` a
    text of any format; ``max_transcript_bytes`` a subtitle file (refused whole over it);
    ``max_media_seconds`` a recording (None: the transcriber's ceiling,
    :data:`emotion_clf.speech.transcribe.MAX_DURATION_S`); ``max_download_bytes`` a URL.
    """

    workdir: Path
    text_column: str = "text"
    transcriber: Transcriber | None = None
    max_download_bytes: int = 500_000_000
    max_media_seconds: float | None = None
    timeout_s: float = 600.0  # a URL's whole download, redirects included
    max_record_bytes: int = MAX_RECORD_BYTES
    max_text_chars: int = MAX_TEXT_CHARS
    max_transcript_bytes: int = MAX_TRANSCRIPT_BYTES

    def read(self, source: str) -> Iterator[Item]:
        """Every row of one source; a source that cannot be read at all is one bad row."""
        try:
            path, kind = self._local(source)
            yield from text_too_long(self._rows(source, path, kind), self.max_text_chars)
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
        return self._download(source)

    def _download(self, url: str) -> tuple[Path, str]:
        """A URL the user named, fetched within the bounds of :mod:`emotion_clf.urls`: the
        ``any`` policy (the user runs this on a machine of their own, so an address on their
        network is theirs to name), with the size cap, the total deadline and the strict
        parsing every fetch has; the file's kind from the URL's suffix, else the answer's
        Content-Type."""
        policy = UrlPolicy(
            mode="any",
            max_bytes=self.max_download_bytes,
            deadline_s=self.timeout_s,
            allow_youtube=True,
        )
        try:
            fetched = fetch_url(url, policy, folder=self.workdir)
        except UrlFetchError as exc:  # the user owns this machine: the whole reason is theirs
            raise DataError(f"cannot download: {exc.detail or exc.reason}", file=clip(url)) from exc
        if fetched.via == "yt-dlp":
            return fetched.path, "media"
        suffix = Path(urlparse(fetched.url).path).suffix.lower()
        if suffix not in TEXT_FORMATS and suffix not in MEDIA_SUFFIXES:
            content_type = fetched.content_type.split(";")[0].strip().lower()
            suffix = CONTENT_TYPES.get(content_type, "")
            if not suffix and content_type.startswith(("audio/", "video/")):
                return fetched.path, "media"
        return fetched.path, kind_of(suffix, source=clip(url))

    # -- rows of each format --------------------------------------------------------------
    def _rows(self, source: str, path: Path, kind: str) -> Iterator[Item]:
        if kind == "media":
            yield from self._media(source, path)
            return
        if kind in ("srt", "vtt"):
            text = read_transcript(path, source, max_bytes=self.max_transcript_bytes)
            yield from transcript_rows(source, text, kind)
            return
        limit = self.max_record_bytes
        with path.open("rb") as handle:
            lines = read_lines(handle, max_bytes=limit)
            if kind == "csv":
                yield from csv_rows(
                    source, lines, text_column=self.text_column, max_record_bytes=limit
                )
            elif kind == "jsonl":
                yield from jsonl_rows(
                    source, lines, text_column=self.text_column, max_record_bytes=limit
                )
            else:
                yield from text_rows(source, lines, max_record_bytes=limit)

    def _media(self, source: str, path: Path) -> Iterator[Item]:
        transcriber = self.transcriber or Transcriber()
        self.transcriber = transcriber
        result = transcriber.transcribe(path, max_duration_s=self.max_media_seconds)
        if not result.segments:
            yield BadRow(source, 0, f"no speech found in {result.duration_s:.1f} s of audio")
        for segment in result.segments:
            yield InputRow(source, segment.index, segment.text, segment.start, segment.end)


def count_rows(sources: list[str], reader: SourceReader) -> int | None:
    """How many rows ``sources`` hold, where that is known before any scoring: local text
    files and transcripts, read once more (tens of thousands of rows a second); None when a
    URL or a recording is among them (the download or the transcription is the work)."""
    expanded = expand_sources(sources)
    if any(is_url(s) or kind_of(Path(s).suffix, source=s) == "media" for s in expanded):
        return None
    return sum(isinstance(item, InputRow) for s in expanded for item in reader.read(s))


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


def clean_workdir(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)

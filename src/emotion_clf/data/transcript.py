"""Transcripts: SRT, WebVTT or JSON segments in, timed segments out.

Pure functions. A malformed transcript raises :class:`~emotion_clf.errors.DataError` naming the
cue and the line. Cues whose text is empty (after removing markup) are skipped and counted.
The summary of a transcript's predictions is :func:`emotion_clf.monitoring.summarise_segments`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from emotion_clf.data.timecode import checked_seconds, timecode_seconds
from emotion_clf.errors import DataError

_TAG = re.compile(r"<[^>]*>")
_VTT_SKIP = ("NOTE", "STYLE", "REGION")


@dataclass(frozen=True)
class Segment:
    index: int  # the cue's number in the transcript, from 1 (empty cues count)
    start: float
    end: float
    text: str
    line: int = 0  # the line of the cue's timing in the file (0: not from a file)


@dataclass(frozen=True)
class Transcript:
    format: str
    segments: tuple[Segment, ...]
    skipped_empty: int = 0
    empty_cues: tuple[tuple[int, int], ...] = ()  # (cue number, line) of cues with no text


def parse_timestamp(
    value: str, *, line: int | None = None, what: str = "time", field: str = "transcript"
) -> float:
    """Seconds from ``HH:MM:SS,mmm``, ``HH:MM:SS.mmm``, ``MM:SS.mmm`` or ``HH:MM:SS``."""
    text = value.strip()
    try:
        return timecode_seconds(text)
    except ValueError as exc:
        shown = text if len(text) <= 40 else text[:37] + "..."  # the answer echoes it
        raise DataError(f"{what} {shown!r} {exc}", line=line, field=field, value=shown) from exc


def _blocks(text: str) -> Iterator[tuple[int, list[str]]]:
    """Blocks of non-blank lines with the line number (1-based) each starts on."""
    block: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            if not block:
                start = number
            block.append(line.rstrip())
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _timing(line: str, *, cue: int, line_no: int, example: str) -> tuple[float, float]:
    left, arrow, right = line.partition("-->")
    if not arrow or not right.strip():
        raise DataError(
            f"cue {cue}: expected a timing line like {example!r}, found {line.strip()!r}",
            line=line_no,
            field="transcript",
        )
    start = parse_timestamp(left, line=line_no, what=f"cue {cue}: start")
    end = parse_timestamp(right.split()[0], line=line_no, what=f"cue {cue}: end")
    if end < start:
        raise DataError(
            f"cue {cue}: ends ({right.split()[0]}) before it starts ({left.strip()})",
            line=line_no,
            field="transcript",
        )
    return start, end


def _clean(lines: Sequence[str]) -> str:
    text = " ".join(_TAG.sub("", line).strip() for line in lines)
    return " ".join(html.unescape(text).split())


Cue = tuple[float, float, str, int]  # start, end, text, line


def _build(fmt: str, cues: list[Cue]) -> Transcript:
    segments = [
        Segment(index=i, start=s, end=e, text=t, line=n)
        for i, (s, e, t, n) in enumerate(cues, 1)
        if t
    ]
    if not segments:
        what = "no cue has any text" if cues else "no cues found"
        raise DataError(f"the {fmt.upper()} transcript is empty: {what}", field="transcript")
    empty = tuple((i, n) for i, (_, _, t, n) in enumerate(cues, 1) if not t)
    return Transcript(fmt, tuple(segments), skipped_empty=len(empty), empty_cues=empty)


def parse_srt(text: str) -> Transcript:
    """SubRip: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, then text lines."""
    cues: list[Cue] = []
    for start_line, lines in _blocks(text.lstrip("\ufeff")):
        cue = len(cues) + 1
        at = 1 if lines[0].strip().isdigit() else 0
        if at >= len(lines) or "-->" not in lines[at]:
            at = min(at, len(lines) - 1)
            raise DataError(
                f"cue {cue}: expected a timing line like '00:00:01,000 --> 00:00:02,500', "
                f"found {lines[at].strip()!r}",
                line=start_line + at,
                field="transcript",
            )
        start, end = _timing(
            lines[at],
            cue=cue,
            line_no=start_line + at,
            example="00:00:01,000 --> 00:00:02,500",
        )
        cues.append((start, end, _clean(lines[at + 1 :]), start_line + at))
    return _build("srt", cues)


def parse_vtt(text: str) -> Transcript:
    """WebVTT: a ``WEBVTT`` header, optional cue identifiers, NOTE/STYLE/REGION blocks."""
    body = text.lstrip("\ufeff")
    first = body.split("\n", 1)[0].strip()
    if not (first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t"))):
        raise DataError(
            f"a WebVTT transcript starts with 'WEBVTT', found {first[:40]!r}",
            line=1,
            field="transcript",
        )
    cues: list[Cue] = []
    for number, (start_line, lines) in enumerate(_blocks(body)):
        if number == 0 or lines[0].startswith(_VTT_SKIP):
            continue  # the header block, comments, style and region definitions
        cue = len(cues) + 1
        at = 0 if "-->" in lines[0] else 1
        if at >= len(lines) or "-->" not in lines[at]:
            raise DataError(
                f"cue {cue}: expected a timing line like '00:01.000 --> 00:02.500', "
                f"found {lines[-1].strip()!r}",
                line=start_line + len(lines) - 1,
                field="transcript",
            )
        start, end = _timing(
            lines[at], cue=cue, line_no=start_line + at, example="00:01.000 --> 00:02.500"
        )
        cues.append((start, end, _clean(lines[at + 1 :]), start_line + at))
    return _build("vtt", cues)


def _short(value: object) -> str:
    if isinstance(value, int) and abs(value) >= 10**30:
        return "an integer of more than 30 digits"  # str() of 5,000 digits raises ValueError
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_segments(items: Sequence[tuple[float | str, float | str, str]]) -> Transcript:
    """JSON segments already shaped by the API schema: (start, end, text) each; every time
    finite and within 7 days (:func:`~emotion_clf.data.timecode.checked_seconds`)."""
    cues: list[Cue] = []
    for i, (raw_start, raw_end, raw_text) in enumerate(items):
        times = []
        for name, raw in (("start", raw_start), ("end", raw_end)):
            where = f"segments[{i}].{name}"
            if isinstance(raw, str):
                value = parse_timestamp(raw, what=where, field=where)
            else:
                try:
                    value = checked_seconds(raw)
                except ValueError as exc:
                    raise DataError(f"{where} {exc}, got {_short(raw)}", field=where) from exc
            times.append(value)
        if times[1] < times[0]:
            raise DataError(f"segments[{i}] ends before it starts", field=f"segments[{i}].end")
        cues.append((times[0], times[1], " ".join(raw_text.split()), 0))
    return _build("json", cues)

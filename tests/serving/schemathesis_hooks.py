"""Schemathesis hooks (``SCHEMATHESIS_HOOKS``): how to send the transcript media types, and
valid data for the two rules JSON Schema cannot state.

- Serializers: the OpenAPI document states an SRT or WebVTT body by the cues it holds (see
  :mod:`emotion_clf.serving.http.openapi`); these write generated cues as SubRip or WebVTT text,
  the way a client's file holds them (text escaped as the format needs, whitespace folded). A
  value that is not a list of cues (a negative case) is sent as its JSON text, which no
  transcript parser reads.
- Positive cases only (negative ones go out as generated): a cue ends at or after its start
  (the document says so in words), and a media body is a recording with speech in it
  (``EMOTION_CLF_FUZZ_SPEECH``: a WAV file the test made with espeak-ng), since no schema can
  say "decodable audio with speech".
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis import GenerationMode
from schemathesis.transport.serialization import Binary

from emotion_clf.data.timecode import format_timecode, timecode_seconds


def _cues(value: Any) -> list[dict[str, Any]] | None:
    segments = value.get("segments") if isinstance(value, dict) else None
    if not isinstance(segments, list) or not all(isinstance(s, dict) for s in segments):
        return None
    return segments


def _time(value: Any, separator: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return format_timecode(float(value), separator=separator)


def _write(value: Any, *, vtt: bool) -> bytes:
    cues = _cues(value)
    if cues is None:
        return json.dumps(value).encode("utf-8")
    separator = "." if vtt else ","
    blocks = ["WEBVTT"] if vtt else []
    for number, cue in enumerate(cues, 1):
        text = html.escape(" ".join(str(cue.get("text", "")).split()))
        timing = f"{_time(cue.get('start'), separator)} --> {_time(cue.get('end'), separator)}"
        blocks.append(f"{timing}\n{text}" if vtt else f"{number}\n{timing}\n{text}")
    return ("\n\n".join(blocks) + "\n").encode("utf-8", "surrogatepass")


@schemathesis.serializer("application/x-subrip")
def as_srt(ctx: Any, value: Any) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else _write(value, vtt=False)


@schemathesis.serializer("text/vtt")
def as_vtt(ctx: Any, value: Any) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else _write(value, vtt=True)


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return timecode_seconds(str(value).strip())
    except ValueError:
        return None


def _positive(case: Any) -> bool:
    """Every part of the case is valid (a negative case may break only its query string)."""
    meta = getattr(case, "meta", None)
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return False
    if any(c.mode != GenerationMode.POSITIVE for c in meta.components.values()):
        return False
    data = getattr(meta.phase, "data", None)
    return not getattr(data, "mutations", ())  # a coverage case that breaks a rule


@schemathesis.hook
def map_case(ctx: Any, case: Any) -> Any:
    if not _positive(case):
        return case
    path = case.operation.path
    if path == "/predict/transcript":
        for cue in _cues(case.body) or []:
            start, end = _seconds(cue.get("start")), _seconds(cue.get("end"))
            if start is not None and end is not None and end < start:
                cue["start"], cue["end"] = cue["end"], cue["start"]
    elif path == "/predict/media" and case.media_type != "application/json":
        # in place, as a Binary (what schemathesis generates for format: binary): a case
        # whose body is set again is checked against the schema once more, and a recording
        # is no JSON Schema string
        speech = Path(os.environ["EMOTION_CLF_FUZZ_SPEECH"]).read_bytes()
        if isinstance(case.body, dict) and isinstance(case.body.get("file"), Binary):
            case.body["file"].data = speech
        elif isinstance(case.body, Binary):
            case.body.data = speech
    return case

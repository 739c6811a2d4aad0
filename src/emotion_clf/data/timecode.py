"""Timecodes as written in the data, subtitles and feedback: one parser for all of them."""

from __future__ import annotations

import re

_TIMECODE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$")
FORMATS = "HH:MM:SS,mmm, HH:MM:SS.mmm, HH:MM:SS or MM:SS.mmm"


def timecode_seconds(text: str) -> float:
    """Seconds from a timecode; raises ValueError with the reason (callers add where)."""
    match = _TIMECODE.match(text.strip())
    if match is None:
        raise ValueError(f"is not a timestamp ({FORMATS})")
    hours, minutes, seconds, millis = match.groups()
    if int(minutes) > 59 or int(seconds) > 59:
        raise ValueError("has minutes or seconds above 59")
    return (
        int(hours or 0) * 3600
        + int(minutes) * 60
        + int(seconds)
        + int((millis or "0").ljust(3, "0")) / 1000
    )

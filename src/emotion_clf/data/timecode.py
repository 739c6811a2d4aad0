"""Timecodes as written in the data, subtitles and feedback: one parser and one formatter."""

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


def format_timecode(seconds: float, *, separator: str = ",") -> str:
    """``HH:MM:SS,mmm`` (SubRip and the data's CSV files) or, with ``separator="."``,
    ``HH:MM:SS.mmm`` (WebVTT); milliseconds are rounded."""
    if not seconds >= 0:
        raise ValueError(f"a timecode needs a number of seconds >= 0, got {seconds}")
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"

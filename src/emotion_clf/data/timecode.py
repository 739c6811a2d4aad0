"""Timecodes as written in the data, subtitles and feedback: one parser and one formatter.

Every time a user can send (a feedback row's ``start_time``, a transcript cue, a JSON segment)
is bounded here: finite, and between 0 and :data:`MAX_SECONDS` (7 days, far beyond any
recording this project reads). Unbounded, ``1e308`` seconds overflowed when it was formatted
back into a timecode (``round(inf)``), and a timecode with thousands of hour digits overflowed
the float conversion: both were 500s instead of a reason naming the field.
"""

from __future__ import annotations

import math
import re

MAX_SECONDS = 7 * 24 * 3600
#: the most hour digits a timecode may have (168 hours, 7 days, needs three)
MAX_HOUR_DIGITS = 3
_TIMECODE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$")
FORMATS = "HH:MM:SS,mmm, HH:MM:SS.mmm, HH:MM:SS or MM:SS.mmm"
RANGE = f"from 0 to {MAX_SECONDS} (7 days)"


def checked_seconds(value: float) -> float:
    """``value`` as float seconds if finite and within 0..MAX_SECONDS; else ValueError saying
    why (callers add where). Accepts ints of any size without converting them first."""
    if isinstance(value, int) and not 0 <= value <= MAX_SECONDS:
        raise ValueError(f"must be a finite number of seconds {RANGE}")
    seconds = float(value)
    if not (math.isfinite(seconds) and 0 <= seconds <= MAX_SECONDS):
        raise ValueError(f"must be a finite number of seconds {RANGE}")
    return seconds


def timecode_seconds(text: str) -> float:
    """Seconds from a timecode; raises ValueError with the reason (callers add where)."""
    match = _TIMECODE.match(text.strip())
    if match is None:
        raise ValueError(f"is not a timestamp ({FORMATS})")
    hours, minutes, seconds, millis = match.groups()
    hours = (hours or "0").lstrip("0") or "0"  # leading zeros count towards int()'s digit limit
    if len(hours) > MAX_HOUR_DIGITS:
        raise ValueError(f"is beyond 7 days ({MAX_SECONDS} seconds)")
    if int(minutes) > 59 or int(seconds) > 59:
        raise ValueError("has minutes or seconds above 59")
    total = (
        int(hours) * 3600
        + int(minutes) * 60
        + int(seconds)
        + int((millis or "0").ljust(3, "0")) / 1000
    )
    if total > MAX_SECONDS:
        raise ValueError(f"is beyond 7 days ({MAX_SECONDS} seconds)")
    return total


def format_timecode(seconds: float, *, separator: str = ",") -> str:
    """``HH:MM:SS,mmm`` (SubRip and the data's CSV files) or, with ``separator="."``,
    ``HH:MM:SS.mmm`` (WebVTT); milliseconds are rounded. Raises ValueError for a negative or
    non-finite number (callers validate first, with :func:`checked_seconds`)."""
    if not (seconds >= 0 and math.isfinite(seconds)):
        raise ValueError(f"a timecode needs a finite number of seconds >= 0, got {seconds}")
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"

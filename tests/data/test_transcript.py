from __future__ import annotations

import re

import pytest

from emotion_clf.data.timecode import format_timecode
from emotion_clf.data.transcript import parse_segments, parse_srt, parse_timestamp, parse_vtt
from emotion_clf.errors import DataError

SRT = """\ufeff1
00:00:01,000 --> 00:00:03,500
<i>I can't believe</i> we won!

2
00:00:04,000 --> 00:00:06,000
This is awful.
I hate it.

3
00:00:06,000 --> 00:00:07,000
<i></i>
"""

VTT = """WEBVTT - a header

NOTE a comment
that spans lines

STYLE
::cue { color: red }

intro
00:01.000 --> 00:03.500 align:start position:10%
<v Alice>Hello &amp; welcome</v>

00:00:04.000 --> 00:00:06.250
Goodbye
"""


def test_srt_cues_with_times_markup_removed_and_empty_cues_counted() -> None:
    transcript = parse_srt(SRT)
    assert transcript.format == "srt"
    assert [s.text for s in transcript.segments] == [
        "I can't believe we won!",
        "This is awful. I hate it.",
    ]
    assert [(s.start, s.end) for s in transcript.segments] == [(1.0, 3.5), (4.0, 6.0)]
    assert transcript.skipped_empty == 1


def test_srt_handles_windows_line_endings_and_missing_cue_numbers() -> None:
    text = "00:00:01,000 --> 00:00:02,000\nHi\n\n00:00:02,500 --> 00:00:03,000\nThere\n"
    transcript = parse_srt(text.replace("\n", "\r\n"))
    assert [s.text for s in transcript.segments] == ["Hi", "There"]


def test_vtt_skips_header_notes_styles_and_reads_identifiers_and_settings() -> None:
    transcript = parse_vtt(VTT)
    assert transcript.format == "vtt"
    assert [s.text for s in transcript.segments] == ["Hello & welcome", "Goodbye"]
    assert [(s.start, s.end) for s in transcript.segments] == [(1.0, 3.5), (4.0, 6.25)]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("1\n00:00:01,000 -> 00:00:02,000\nHi\n", "cue 1: expected a timing line", 2),
        ("1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\nno timing\n", "cue 2: expected", 6),
        ("1\n00:00:61,000 --> 00:00:62,000\nHi\n", "above 59", 2),
        ("1\n00:00:05,000 --> 00:00:02,000\nHi\n", "cue 1: ends (00:00:02,000) before", 2),
        ("1\n00:00:01,000 --> soon\nHi\n", "cue 1: end 'soon' is not a timestamp", 2),
        ("", "no cues found", None),
        ("1\n00:00:01,000 --> 00:00:02,000\n<b></b>\n", "no cue has any text", None),
    ],
)
def test_malformed_srt_names_the_cue_and_line(text: str, message: str, line: int | None) -> None:
    with pytest.raises(DataError, match=re.escape(message)) as caught:
        parse_srt(text)
    assert caught.value.line == line
    if line is not None:
        assert f"line {line}:" in str(caught.value)


def test_vtt_without_header_or_with_a_bad_cue_is_refused() -> None:
    with pytest.raises(DataError, match="starts with 'WEBVTT'"):
        parse_vtt("00:01.000 --> 00:02.000\nHi\n")
    with pytest.raises(DataError, match="cue 1: expected a timing line") as caught:
        parse_vtt("WEBVTT\n\nintro\nHi there\n")
    assert caught.value.line == 4


def test_json_segments_accept_seconds_and_timestamps() -> None:
    transcript = parse_segments([(0, 1.5, "  yes  "), ("00:00:02,000", "00:03.250", "no")])
    assert [(s.start, s.end, s.text) for s in transcript.segments] == [
        (0.0, 1.5, "yes"),
        (2.0, 3.25, "no"),
    ]
    with pytest.raises(DataError, match=r"segments\[1\] ends before it starts"):
        parse_segments([(0, 1, "a"), (5, 2, "b")])
    with pytest.raises(DataError, match=r"segments\[0\]\.start 'x' is not a timestamp") as caught:
        parse_segments([("x", 1, "a")])
    assert caught.value.field == "segments[0].start"
    with pytest.raises(DataError, match="finite number"):
        parse_segments([(-1, 1, "a")])


def test_timestamps_round_trip() -> None:
    assert parse_timestamp("01:02:03,045") == pytest.approx(3723.045)
    assert parse_timestamp("02:03.5") == pytest.approx(123.5)
    assert parse_timestamp("00:00:07") == 7.0
    assert format_timecode(3723.045, separator=".") == "01:02:03.045"


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (0, 1e308, "segments[0].end"),  # once a 500: round(inf) formatting it back
        (1e308, 1e308, "segments[0].start"),
        (0, float("inf"), "segments[0].end"),
        (float("nan"), 1, "segments[0].start"),
        pytest.param(0, 10**5000, "segments[0].end", id="5001 digits"),  # no str() of it
        (0, 604_800.001, "segments[0].end"),
        (0, "1" * 5000 + ":00:00", "segments[0].end"),
    ],
)
def test_segment_times_are_finite_and_within_seven_days(
    start: float | str, end: float | str, field: str
) -> None:
    with pytest.raises(DataError, match=r"finite number of seconds|beyond 7 days") as caught:
        parse_segments([(start, end, "a")])
    assert caught.value.field == field
    assert len(str(caught.value)) < 200  # a huge value is not echoed back whole
    assert parse_segments([(0, 604_800, "a")]).segments[0].end == 604_800


def test_a_cue_beyond_seven_days_names_the_cue_and_line() -> None:
    text = "1\n00:00:01,000 --> 00:00:02,000\nhi\n\n2\n" + "9" * 5000 + ":00:00,000 --> x\nho\n"
    with pytest.raises(DataError, match=r"cue 2: start '9{37}\.\.\.' is beyond 7 days") as caught:
        parse_srt(text)
    assert caught.value.line == 6

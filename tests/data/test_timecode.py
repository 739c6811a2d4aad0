"""The one timecode parser and formatter."""

from __future__ import annotations

import pytest

from emotion_clf.data.timecode import (
    MAX_SECONDS,
    checked_seconds,
    format_timecode,
    timecode_seconds,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00:01,500", 1.5),  # SubRip
        ("00:00:01.500", 1.5),  # WebVTT
        ("01:02:03", 3723.0),  # the data's CSV files
        ("02:03.5", 123.5),  # WebVTT without hours; one digit of milliseconds is tenths
        ("1:02:03.04", 3723.04),
        ("100:00:00,000", 360000.0),  # hours are not capped at 99 (only at 7 days)
        ("  00:00:07  ", 7.0),
    ],
)
def test_every_spelling_the_data_and_subtitles_use(text: str, seconds: float) -> None:
    assert timecode_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("soon", "is not a timestamp"),
        ("00:61:00", "above 59"),
        ("00:00:60", "above 59"),
        ("1.5", "is not a timestamp"),
        ("00:00:01,5000", "is not a timestamp"),
        ("", "is not a timestamp"),
    ],
)
def test_bad_timecodes_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        timecode_seconds(text)


def test_formatting_rounds_to_milliseconds_with_either_separator() -> None:
    assert format_timecode(0) == "00:00:00,000"
    assert format_timecode(3723.045) == "01:02:03,045"
    assert format_timecode(3723.045, separator=".") == "01:02:03.045"
    assert format_timecode(59.9996) == "00:01:00,000"  # rounding carries into the minute
    assert format_timecode(360000.25) == "100:00:00,250"


def test_formatting_refuses_negative_or_not_a_number() -> None:
    with pytest.raises(ValueError, match="seconds >= 0"):
        format_timecode(-0.001)
    with pytest.raises(ValueError, match="seconds >= 0"):
        format_timecode(float("nan"))


@pytest.mark.parametrize("seconds", [0.0, 0.001, 1.5, 59.999, 3599.5, 86399.999, 123456.789])
def test_format_then_parse_is_the_identity_to_the_millisecond(seconds: float) -> None:
    for separator in (",", "."):
        assert timecode_seconds(format_timecode(seconds, separator=separator)) == pytest.approx(
            seconds, abs=5e-4
        )


@pytest.mark.parametrize(
    "text",
    ["169:00:00", "168:00:00,001", "9999:00:00", "1" * 5000 + ":00:00", "0" * 5000 + "1000:00:00"],
)
def test_timecodes_beyond_seven_days_are_refused_not_overflowed(text: str) -> None:
    with pytest.raises(ValueError, match=r"beyond 7 days \(604800 seconds\)"):
        timecode_seconds(text)


def test_leading_zeros_do_not_count_as_hour_digits() -> None:
    assert timecode_seconds("0" * 5000 + "168:00:00") == MAX_SECONDS


@pytest.mark.parametrize(
    "value",
    [
        1e308,
        float("inf"),
        float("nan"),
        -1,
        pytest.param(10**5000, id="5001 digits"),
        MAX_SECONDS + 1,
    ],
)
def test_seconds_are_checked_finite_and_in_range(value: float) -> None:
    with pytest.raises(ValueError, match="finite number of seconds from 0 to 604800"):
        checked_seconds(value)
    assert checked_seconds(MAX_SECONDS) == MAX_SECONDS and checked_seconds(0) == 0.0


def test_formatting_refuses_what_would_overflow() -> None:
    with pytest.raises(ValueError, match="finite"):
        format_timecode(float("inf"))  # round(inf) raised OverflowError, an unexpected 500

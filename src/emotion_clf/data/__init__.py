"""The data: the label schema, labelled CSV batches, the split, and the text formats the
tools read and write (timecodes, SRT / WebVTT transcripts, feedback files).

- :data:`SCHEMA` / :class:`LabelSchema`: 7 emotions, 30 sub-emotions, 3 intensities and the
  sub-emotion -> emotion hierarchy; :data:`HEADS` names the three;
- :func:`load_dataset` reads a CSV file, a folder or a list (:class:`Dataset`), naming file,
  line and field on any error; :func:`split_by_batch` splits it by batch, deterministically;
- :func:`load_goemotions` reads a split of GoEmotions, the second source (:class:`GoEmotions`:
  single-label rows, sub-emotion and our emotion, no intensity);
- :func:`parse_srt`, :func:`parse_vtt`, :func:`parse_segments`: transcripts to timed
  :class:`Segment` s; :func:`timecode_seconds` / :func:`format_timecode`;
- :func:`validate_row` / :func:`write_feedback`: corrected labels as CSV files the loader reads.
"""

from __future__ import annotations

from emotion_clf.data.feedback import FeedbackRow, validate_row, write_feedback
from emotion_clf.data.goemotions import GOEMOTIONS_SPLITS, GoEmotions, load_goemotions
from emotion_clf.data.loader import CSV_HEADER, Dataset, FileReport, load_dataset
from emotion_clf.data.schema import HEADS, SCHEMA, LabelSchema
from emotion_clf.data.split import SPLIT_NAMES, Split, split_by_batch
from emotion_clf.data.timecode import format_timecode, timecode_seconds
from emotion_clf.data.transcript import (
    Segment,
    Transcript,
    parse_segments,
    parse_srt,
    parse_timestamp,
    parse_vtt,
)

__all__ = [
    "CSV_HEADER",
    "GOEMOTIONS_SPLITS",
    "HEADS",
    "SCHEMA",
    "SPLIT_NAMES",
    "Dataset",
    "FeedbackRow",
    "FileReport",
    "GoEmotions",
    "LabelSchema",
    "Segment",
    "Split",
    "Transcript",
    "format_timecode",
    "load_dataset",
    "load_goemotions",
    "parse_segments",
    "parse_srt",
    "parse_timestamp",
    "parse_vtt",
    "split_by_batch",
    "timecode_seconds",
    "validate_row",
    "write_feedback",
]

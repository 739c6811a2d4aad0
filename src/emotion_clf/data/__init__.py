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

from typing import TYPE_CHECKING

from emotion_clf.lazy import lazy_face

if TYPE_CHECKING:
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

_LAZY: dict[str, str] = {
    "CSV_HEADER": "emotion_clf.data.loader",
    "GOEMOTIONS_SPLITS": "emotion_clf.data.goemotions",
    "HEADS": "emotion_clf.data.schema",
    "SCHEMA": "emotion_clf.data.schema",
    "SPLIT_NAMES": "emotion_clf.data.split",
    "Dataset": "emotion_clf.data.loader",
    "FeedbackRow": "emotion_clf.data.feedback",
    "FileReport": "emotion_clf.data.loader",
    "GoEmotions": "emotion_clf.data.goemotions",
    "LabelSchema": "emotion_clf.data.schema",
    "Segment": "emotion_clf.data.transcript",
    "Split": "emotion_clf.data.split",
    "Transcript": "emotion_clf.data.transcript",
    "format_timecode": "emotion_clf.data.timecode",
    "load_dataset": "emotion_clf.data.loader",
    "load_goemotions": "emotion_clf.data.goemotions",
    "parse_segments": "emotion_clf.data.transcript",
    "parse_srt": "emotion_clf.data.transcript",
    "parse_timestamp": "emotion_clf.data.transcript",
    "parse_vtt": "emotion_clf.data.transcript",
    "split_by_batch": "emotion_clf.data.split",
    "timecode_seconds": "emotion_clf.data.timecode",
    "validate_row": "emotion_clf.data.feedback",
    "write_feedback": "emotion_clf.data.feedback",
}

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

__getattr__, __dir__ = lazy_face(__name__, _LAZY)

"""Batch inference: many texts from files, folders, URLs and recordings, scored by a local
model or a running API, written as CSV, JSONL or Parquet with the rows it could not read
beside them.

- :mod:`.inputs`: sources (files, folders, lists, URLs, media) read row by row, each with a
  bounded cost; :mod:`.formats` reads each text format, :mod:`.lines` a file's lines in
  bounded memory, :mod:`.rows` what they yield;
- :mod:`.run`: :func:`run_batch` and the scorers (:class:`LocalScorer`, :class:`ApiScorer`);
- :mod:`.outputs`: the writers, each file written atomically.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emotion_clf.lazy import lazy_face

if TYPE_CHECKING:
    from emotion_clf.batch.inputs import (
        SourceReader,
        clean_workdir,
        expand_sources,
        is_url,
    )
    from emotion_clf.batch.outputs import AtomicOutput
    from emotion_clf.batch.rows import BadRow, InputRow
    from emotion_clf.batch.run import ApiScorer, BatchSummary, LocalScorer, Scorer, run_batch

_LAZY: dict[str, str] = {
    "ApiScorer": "emotion_clf.batch.run",
    "AtomicOutput": "emotion_clf.batch.outputs",
    "BadRow": "emotion_clf.batch.rows",
    "BatchSummary": "emotion_clf.batch.run",
    "InputRow": "emotion_clf.batch.rows",
    "LocalScorer": "emotion_clf.batch.run",
    "Scorer": "emotion_clf.batch.run",
    "SourceReader": "emotion_clf.batch.inputs",
    "clean_workdir": "emotion_clf.batch.inputs",
    "expand_sources": "emotion_clf.batch.inputs",
    "is_url": "emotion_clf.batch.inputs",
    "run_batch": "emotion_clf.batch.run",
}

__all__ = [
    "ApiScorer",
    "AtomicOutput",
    "BadRow",
    "BatchSummary",
    "InputRow",
    "LocalScorer",
    "Scorer",
    "SourceReader",
    "clean_workdir",
    "expand_sources",
    "is_url",
    "run_batch",
]

__getattr__, __dir__ = lazy_face(__name__, _LAZY)

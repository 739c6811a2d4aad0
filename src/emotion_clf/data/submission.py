"""One feedback submission stored whole: nothing a person sent is lost, even when saving fails.

A submission named ``feedback-<stamp>-<id>`` is stored as up to three files in the feedback
folder:

- ``<name>.json``: the submission exactly as sent (its items and source), the one record of
  the raw text: the CSV holds the text stripped and guarded against spreadsheet formulas;
- ``<name>.csv``: its training-ready rows (:func:`~emotion_clf.data.feedback.write_feedback`),
  which training and the performance report read;
- ``quarantine/<name>.jsonl``: its other rows, each with the reason.

:func:`save_submission` writes them all or none: if one write fails (a full disk, a read-only
folder) or triage meets something it did not expect, the files already written are removed
and the error raised, and the caller keeps the body whole with :func:`keep_body` (one
quarantine entry, ``index`` -1) and says so. A submission is then never half in training data
and half nowhere. Readers glob ``*.csv`` and ``quarantine/*.jsonl``, so the JSON form is never
mistaken for either.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emotion_clf.data.feedback import (
    Quarantined,
    Triage,
    json_text,
    quarantine_name,
    triage,
    write_feedback,
    write_quarantine,
)
from emotion_clf.files import write_atomic

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredSubmission:
    """What :func:`save_submission` wrote: its triage and the files, by path."""

    triage: Triage
    submission: Path
    csv: Path | None
    quarantine: Path | None


def submission_name(csv_name: str) -> str:
    return csv_name.removesuffix(".csv") + ".json"


def write_submission(
    items: Sequence[Any], *, folder: Path, name: str, source: str | None = None
) -> Path:
    """The submission's JSON form: ``{received_at, source, items}``, the items as sent."""
    received = datetime.now(UTC).isoformat(timespec="seconds")
    record = {"received_at": received, "source": source, "items": list(items)}
    return write_atomic(folder / submission_name(name), json_text(record, indent=1) + "\n")


def _remove(paths: Sequence[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:  # the caller's error is the one to report; this one is logged
            logger.error("feedback: could not remove %s after a failed save: %s", path, exc)


def save_submission(
    items: Sequence[Any], *, folder: Path, name: str, source: str | None, max_chars: int
) -> StoredSubmission:
    """Triage ``items`` and write the submission's files (``name`` is the CSV's), all or none.

    The JSON form and the quarantine are written before the CSV, so that rows reach training
    data only once everything else about their submission is on disk.
    """
    triaged = triage(items, max_chars=max_chars)
    written: list[Path] = []
    try:
        written.append(write_submission(items, folder=folder, name=name, source=source))
        kept = None
        if triaged.quarantined:
            kept = write_quarantine(
                triaged.quarantined, folder=folder, name=quarantine_name(name), source=source
            )
            written.append(kept)
        saved = write_feedback(triaged.rows, folder=folder, name=name) if triaged.rows else None
    except BaseException:
        _remove(written)
        raise
    return StoredSubmission(triaged, written[0], saved, kept)


def raw_item(body: bytes) -> Any:
    """A request body as a quarantine entry can hold it exactly: its text if it is UTF-8,
    else ``{"base64": ...}`` (replacement characters would lose the bytes that were sent)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode("ascii")}


def keep_body(
    body: bytes, *, reason: str, folder: Path, name: str, source: str | None = None
) -> Path:
    """Keep a whole request body in quarantine, with why it was not stored otherwise."""
    entry = Quarantined(-1, raw_item(body), reason, "body")
    return write_quarantine([entry], folder=folder, name=quarantine_name(name), source=source)

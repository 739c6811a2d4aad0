"""What the production page shows, gathered from what this machine holds.

- the ``baseline`` and ``dynamic`` versions with their model cards (the registry's tags: family,
  data fingerprint, test metrics) and who promoted them when (the audit store);
- the audit history;
- a rolling drift signal: the emotions the served model answered in the last hour of the
  prediction log against those of its reference profile (the sample its bundle ships);
- the shadow comparison over the same window, when shadow traffic is on;
- true performance: the feedback received so far scored against what the server answered;
- the published reports, when the site is on this machine.

Every part is read on its own, and one that cannot be read is said in ``notes``, never raised:
a registry that is down must not blank the page. Everything here blocks (files, the registry),
so the route runs it in a thread.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from emotion_clf.config import Settings
from emotion_clf.data.profile import load_profile
from emotion_clf.data.schema import EMOTIONS
from emotion_clf.errors import EmotionClfError
from emotion_clf.monitoring.performance import history, performance_report, read_feedback
from emotion_clf.monitoring.predictions import LoggedPrediction, log_path
from emotion_clf.monitoring.shadow import SHADOW_PREFIX, shadow_agreement
from emotion_clf.registry import AuditEntry, VersionInfo, open_registry

logger = logging.getLogger(__name__)

DRIFT_WINDOW = timedelta(hours=1)
MAX_RECORDS = 20_000  # the newest records of the window the drift signal reads, at most
MIN_ROWS = 30  # below this, the signal is shown but not judged
SHIFT = 0.2  # total variation distance of emotion shares above which the page says "shift"
CARD_METRICS = ("accuracy", "macro_f1")
# the newest bytes of a day's prediction log the drift signal reads: bounded work (in a thread
# that holds the GIL while it parses) however large the log grows
TAIL_BYTES = 8 * 1024 * 1024
# the feedback's live score joins the whole log: above this size it is left to `make perf`
LIVE_JOIN_MAX_BYTES = 64 * 1024 * 1024


def model_card(info: VersionInfo | None, entries: Sequence[AuditEntry]) -> dict[str, Any] | None:
    if info is None:
        return None
    metrics = info.metrics
    test = {
        head: {name: metrics[f"test.{head}.{name}"] for name in CARD_METRICS}
        for head in ("emotion", "sub_emotion", "intensity")
        if all(f"test.{head}.{name}" in metrics for name in CARD_METRICS)
    }
    promoted = next(
        (e for e in entries if e.status == "applied" and e.to_version == info.version), None
    )
    return {
        "version": info.version,
        "family": info.family,
        "runtime": info.tags.get("runtime"),
        "registered_at": info.created_at,
        "data_fingerprint": info.tags.get("data_fingerprint"),
        "test_metrics": test,
        "promoted": None
        if promoted is None
        else {
            "at": promoted.at,
            "by": promoted.actor,
            "action": promoted.action,
            "reason": promoted.reason,
            "forced": promoted.forced,
        },
    }


def registry_part(settings: Settings) -> dict[str, Any]:
    registry = open_registry(settings)
    versions = {v.version: v for v in registry.versions()}
    designations = registry.designations()
    entries = registry.audit.entries(limit=50)
    return {
        "baseline": model_card(versions.get(designations.get("baseline", "")), entries),
        # the audit records baseline changes only: a dynamic version is just registered
        "dynamic": model_card(versions.get(designations.get("dynamic", "")), []),
        "versions": len(versions),
        "audit": [
            {
                "at": e.at,
                "action": e.action,
                "from_version": e.from_version,
                "to_version": e.to_version,
                "by": e.actor,
                "reason": e.reason,
                "forced": e.forced,
                "gate": e.gate,
                "status": e.status,
            }
            for e in entries[:20]
        ],
    }


def recent_records(
    folder: Path, since: datetime, *, tail_bytes: int = TAIL_BYTES
) -> tuple[list[LoggedPrediction], int]:
    """The records at or after ``since`` in the last ``tail_bytes`` of each day's file that may
    hold them, and how many lines could not be read (``emotion-clf drift check`` names them)."""
    records: list[LoggedPrediction] = []
    bad = 0
    today = datetime.now(UTC).date()
    day = since.astimezone(UTC).date() - timedelta(days=1)  # a record near midnight
    while day <= today:
        path = log_path(folder, day)
        day += timedelta(days=1)
        if not path.is_file():
            continue
        with path.open("rb") as handle:
            start = max(0, handle.seek(0, 2) - tail_bytes)
            handle.seek(start)
            lines = handle.read().split(b"\n")
        for line in lines[1:] if start else lines:  # the first line of a tail is cut
            if not line.strip():
                continue
            try:
                record = LoggedPrediction.from_json(line.decode("utf-8", errors="replace"))
            except ValueError:
                bad += 1
                continue
            if record.time >= since:
                records.append(record)
    return records, bad


def shares(labels: Sequence[str]) -> dict[str, float]:
    counts = Counter(labels)
    total = sum(counts.values()) or 1
    return {e: counts.get(e, 0) / total for e in EMOTIONS}


def drift_signal(
    live: Sequence[LoggedPrediction], reference: Sequence[str] | None
) -> dict[str, Any]:
    """Emotion shares of the live answers against the reference's, and their total
    variation distance (half the sum of the absolute differences: 0 same, 1 disjoint)."""
    rows = len(live)
    if reference is None:
        return {"rows": rows, "distance": None, "verdict": "no reference profile"}
    now, then = shares([r.labels["emotion"] for r in live]), shares(reference)
    distance = sum(abs(now[e] - then[e]) for e in EMOTIONS) / 2 if rows else None
    if rows < MIN_ROWS:
        verdict = f"too few predictions to judge ({rows} of {MIN_ROWS})"
    else:
        verdict = "shift" if distance is not None and distance > SHIFT else "steady"
    return {
        "rows": rows,
        "reference_rows": len(reference),
        "distance": None if distance is None else round(distance, 4),
        "threshold": SHIFT,
        "verdict": verdict,
        "live": {e: round(v, 4) for e, v in now.items()},
        "reference": {e: round(v, 4) for e, v in then.items()},
    }


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def performance_part(settings: Settings, log: Path) -> dict[str, Any]:
    feedback = read_feedback(settings.feedback_dir)
    out: dict[str, Any] = {
        "rows": len(feedback.dataset),
        "quarantined": feedback.quarantined,
        "live": None,
        "live_rows": 0,
        "latest_report": None,
    }
    size = sum(p.stat().st_size for p in log.glob("*.jsonl")) if log.is_dir() else 0
    if size > LIVE_JOIN_MAX_BYTES:
        out["live_note"] = (
            f"the prediction log is {size / 2**20:.0f} MiB, too large to join here: "
            "make perf scores the feedback"
        )
    elif len(feedback.dataset):
        report = performance_report(feedback, {}, log_folder=log)
        if report.live is not None:
            out["live"] = {
                head: {
                    name: _finite(report.live.heads[head].summary()[name]) for name in CARD_METRICS
                }
                for head in ("emotion", "sub_emotion", "intensity")
            }
            out["live_rows"] = report.live.rows
    reports = history(settings.reports_dir / "performance")
    if reports:
        latest = reports[-1]
        out["latest_report"] = {
            "at": latest.get("at"),
            "rows": latest.get("rows"),
            "models": {
                ref: {"accuracy": s["emotion"]["accuracy"], "macro_f1": s["emotion"]["macro_f1"]}
                for ref, s in latest.get("models", {}).items()
            },
        }
    return out


def reports_part(settings: Settings) -> dict[str, Any]:
    index = settings.reports_dir / "index.html"
    return {"index": str(index) if index.is_file() else None}


def _part(notes: list[str], what: str, read: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return read(*args, **kwargs)
    except (EmotionClfError, OSError, ValueError, KeyError) as exc:
        logger.warning("production page: %s could not be read: %s", what, exc)
        notes.append(f"{what} could not be read: {exc}")
        return None


def _monitoring(settings: Settings, served_path: Path | None, notes: list[str]) -> dict[str, Any]:
    log = settings.monitoring_dir / "predictions"
    since = datetime.now(UTC) - DRIFT_WINDOW
    read = _part(notes, "the prediction log", recent_records, log, since)
    records = read[0][-MAX_RECORDS:] if read is not None else []
    if read is not None and read[1]:
        notes.append(f"{read[1]} line(s) of the prediction log could not be read")
    live = [r for r in records if not r.route.startswith(SHADOW_PREFIX)]
    profile = (
        _part(notes, "the reference profile", load_profile, served_path) if served_path else None
    )
    shadowed = [r for r in records if r.route.startswith(SHADOW_PREFIX)]
    return {
        "drift": {
            "window_s": DRIFT_WINDOW.total_seconds(),
            **drift_signal(live, profile.labels["emotion"] if profile else None),
        },
        "shadow": {
            "rate": settings.serving.shadow_rate,
            # without the examples: they may hold logged texts, not for a page anyone can open
            "report": {
                k: v for k, v in shadow_agreement(records).to_dict().items() if k != "examples"
            }
            if shadowed
            else None,
        },
    }


# How often each part is read again, at most (the page's poll may be more frequent): the
# registry on every refresh, so that a promotion shows within the poll interval; the last hour
# of the prediction log and the feedback (which reads the whole log) less often, as they grow
# with traffic.
PARTS: dict[str, float] = {"registry": 0.0, "monitoring": 15.0, "performance": 60.0}


def gather(
    part: str, settings: Settings, *, served_path: Path | None
) -> tuple[dict[str, Any], list[str]]:
    """One part of the state and the notes on what of it could not be read."""
    notes: list[str] = []
    if part == "registry":
        values = {
            "registry": _part(notes, "the registry", registry_part, settings),
            "reports": reports_part(settings),
        }
    elif part == "monitoring":
        values = _monitoring(settings, served_path, notes)
    elif part == "performance":
        log = settings.monitoring_dir / "predictions"
        values = {"performance": _part(notes, "the feedback", performance_part, settings, log)}
    else:
        raise ValueError(f"no part {part!r} of the production state; known: {', '.join(PARTS)}")
    return values, notes


def production_state(
    settings: Settings, *, served: Mapping[str, Any] | None, served_path: Path | None
) -> dict[str, Any]:
    """Every part but live traffic (the route adds it), as JSON-ready values."""
    out: dict[str, Any] = {"served": served, "notes": []}
    for part in PARTS:
        values, notes = gather(part, settings, served_path=served_path)
        out.update(values)
        out["notes"].extend(notes)
    return out

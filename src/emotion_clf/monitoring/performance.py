"""True performance: the models scored against the labels people sent back (``/feedback``).

:func:`read_feedback` reads the training-ready feedback files the API writes, tolerating bad
rows and files (each reported by name and line) and counting the quarantined rows.
:func:`performance_report` re-runs each model on those rows and scores them like ``evaluate``
does, and joins the prediction log to score what the live model answered at the time.
Reports are saved as JSON (and HTML) under ``reports/performance/``, so each new one can show
the trend over the earlier ones.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from emotion_clf.config import Settings
from emotion_clf.data.feedback import read_quarantine
from emotion_clf.data.loader import COLUMNS, Dataset, read_csv_file
from emotion_clf.data.schema import HEADS, SCHEMA
from emotion_clf.errors import DataError, ModelNotFoundError
from emotion_clf.evaluation.metrics import Evaluation, evaluation_from_predictions
from emotion_clf.files import write_atomic, write_json_atomic
from emotion_clf.models.base import Predictor
from emotion_clf.models.scoring import evaluate
from emotion_clf.monitoring.predictions import read_prediction_log
from emotion_clf.registry import ResolvedModel, record_judgement, resolve_model

logger = logging.getLogger(__name__)


@dataclass
class FeedbackData:
    dataset: Dataset
    files: int = 0
    problems: list[str] = field(default_factory=list)  # "file, line N: reason"
    quarantined: int = 0


def read_feedback(folder: Path) -> FeedbackData:
    """The training-ready rows of every feedback file in ``folder``; bad rows and unreadable
    files are reported, not raised; quarantined rows are counted."""
    frames: list[pd.DataFrame] = []
    problems: list[str] = []
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    for path in files:
        found: list[DataError] = []
        try:
            frame, _ = read_csv_file(path, problems=found)
        except DataError as exc:
            problems.append(str(exc))
            continue
        problems.extend(str(e) for e in found)
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(COLUMNS))
    quarantined = len(read_quarantine(folder)) if folder.is_dir() else 0
    return FeedbackData(Dataset(frame=frame), len(files), problems, quarantined)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def live_answers(texts: Sequence[str], log_folder: Path) -> dict[int, dict[str, str]]:
    """For each feedback row (by index) the latest logged answer to the same text, if any:
    ``{head: label, "model_version": v}``. The log holds text hashes unless texts are logged;
    either joins."""
    read = read_prediction_log(log_folder)
    latest: dict[str, dict[str, str]] = {}
    for record in sorted(read.records, key=lambda r: r.time):
        key = record.text_sha256 or (_sha(record.text) if record.text is not None else None)
        if key is not None:
            latest[key] = {**record.labels, "model_version": str(record.model_version)}
    return {i: latest[_sha(t)] for i, t in enumerate(texts) if _sha(t) in latest}


@dataclass
class PerformanceReport:
    at: str
    rows: int
    models: dict[str, Evaluation]  # ref -> its evaluation on every feedback row
    labels: dict[str, str]  # ref -> what it resolved to ("v2 (baseline)")
    live: Evaluation | None = None  # what the server answered, on the rows the log has
    live_versions: dict[str, int] = field(default_factory=dict)
    files: int = 0
    quarantined: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "rows": self.rows,
            "models": {ref: e.to_dict() for ref, e in self.models.items()},
            "model_labels": self.labels,
            "live": self.live.to_dict() if self.live is not None else None,
            "live_rows": self.live.rows if self.live is not None else 0,
            "live_versions": self.live_versions,
            "feedback_files": self.files,
            "quarantined_rows": self.quarantined,
            "bad_rows": self.problems,
            "notes": self.notes,
        }


def performance_report(
    feedback: FeedbackData,
    models: Mapping[str, tuple[str, Predictor]],
    *,
    log_folder: Path | None = None,
) -> PerformanceReport:
    """Score each model (``ref -> (label, predictor)``) on the feedback rows, and the live
    answers from the prediction log where it has them."""
    dataset = feedback.dataset
    if len(dataset) == 0:
        raise DataError(
            "no training-ready feedback rows to score"
            + (f" ({feedback.quarantined} quarantined)" if feedback.quarantined else ""),
            field="feedback",
        )
    report = PerformanceReport(
        at=datetime.now(UTC).isoformat(timespec="microseconds"),
        rows=len(dataset),
        models={ref: evaluate(predictor, dataset) for ref, (_, predictor) in models.items()},
        labels={ref: label for ref, (label, _) in models.items()},
        files=feedback.files,
        quarantined=feedback.quarantined,
        problems=list(feedback.problems),
    )
    if log_folder is not None:
        answers = live_answers(dataset.texts, log_folder)
        foreign = [
            i for i, a in answers.items() if any(a[h] not in SCHEMA.labels(h) for h in HEADS)
        ]
        for i in foreign:
            del answers[i]
        if foreign:
            report.notes.append(f"{len(foreign)} logged answer(s) use labels of another schema")
        if answers:
            rows = sorted(answers)
            subset = dataset.subset([i in answers for i in range(len(dataset))])
            predicted = {
                h: np.array([SCHEMA.labels(h).index(answers[i][h]) for i in rows]) for h in HEADS
            }
            report.live = evaluation_from_predictions(
                schema=SCHEMA, dataset=subset, predicted=predicted
            )
            versions = [answers[i]["model_version"] for i in rows]
            report.live_versions = {v: versions.count(v) for v in sorted(set(versions))}
        else:
            report.notes.append("the prediction log holds no answer to these texts")
    return report


@dataclass
class PerformanceRun:
    report: PerformanceReport
    json_path: Path
    html_path: Path
    registry_run: str | None = None  # the run that records it, linked to the versions scored


# renders a report and the earlier reports' summaries as a self-contained HTML page
Renderer = Callable[["PerformanceReport", Sequence[Mapping[str, Any]]], str]


def run_performance_report(
    *,
    settings: Settings,
    models: Sequence[str],
    feedback_dir: Path | None = None,
    render: Renderer | None = None,
) -> PerformanceRun:
    """Score ``models`` (references that do not resolve are noted and skipped) on the
    workspace's feedback, join the prediction log, save under ``reports/performance/``
    (the page drawn by ``render``, default :func:`render_html`).

    References that resolve to the same version (``baseline`` and ``dynamic`` with no
    candidate pending) are scored once, under the first, with a note: the same model twice
    would only double every table."""
    feedback = read_feedback(feedback_dir or settings.feedback_dir)
    chosen: dict[str, tuple[str, Predictor]] = {}
    judged: dict[str, ResolvedModel] = {}  # what the registry run links to
    skipped = []
    seen: dict[str, str] = {}  # version -> the reference it is scored under
    notes = []
    for ref in models:
        try:
            resolved = resolve_model(ref, settings=settings)
        except ModelNotFoundError as exc:
            skipped.append(f"{ref}: {exc}")
            continue
        first = seen.get(resolved.version) if resolved.version is not None else None
        if first is not None:
            label, predictor = chosen[first]
            chosen[first] = (label.removesuffix(")") + f" = {ref})", predictor)
            notes.append(f"{ref} is v{resolved.version}, the same version as {first}: scored once")
            continue
        if resolved.version is not None:
            seen[resolved.version] = ref
        chosen[ref] = (resolved.label, resolved.load())
        judged[ref] = resolved
    if not chosen:
        raise DataError(
            f"none of the models could be resolved: {'; '.join(skipped)}", field="models"
        )
    report = performance_report(
        feedback, chosen, log_folder=settings.monitoring_dir / "predictions"
    )
    report.notes[:0] = notes
    report.notes.extend(f"skipped {s}" for s in skipped)
    json_path, html_path = save_report(
        report, folder=settings.reports_dir / "performance", render=render
    )
    registry_run = record_judgement(
        "performance",
        {ref: judged[ref] for ref in chosen},
        settings=settings,
        metrics={
            "rows": float(report.rows),
            **{
                f"{ref}_{name}": value
                for ref, evaluation in report.models.items()
                for name, value in evaluation.flat_metrics().items()
            },
        },
        params={ref: label for ref, (label, _) in chosen.items()},
        artifacts=[json_path, html_path],
    )
    return PerformanceRun(report, json_path, html_path, registry_run)


def history(folder: Path) -> list[dict[str, Any]]:
    """Earlier reports' summaries, oldest first (unreadable ones logged and skipped)."""
    out = []
    for path in sorted(folder.glob("*-performance.json")):
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            logger.warning("skipping unreadable performance report %s: %s", path.name, exc)
    return out


def trend(reports: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Accuracy and macro-F1 per head of every model over the saved reports."""
    rows = []
    for r in reports:
        scored = {**r.get("models", {}), **({"live": r["live"]} if r.get("live") else {})}
        for ref, evaluation in scored.items():
            row: dict[str, Any] = {"at": r["at"], "model": ref, "rows": evaluation.get("rows")}
            for head in HEADS:
                row[f"{head} accuracy"] = evaluation[head]["accuracy"]
                row[f"{head} macro-F1"] = evaluation[head]["macro_f1"]
            rows.append(row)
    return pd.DataFrame(rows)


def save_report(
    report: PerformanceReport, *, folder: Path, render: Renderer | None = None
) -> tuple[Path, Path]:
    """``<at>-performance.json`` and a self-contained ``.html`` with the trend so far, drawn
    by ``render`` (default :func:`render_html`; the site's page is
    ``emotion_clf.reports.performance_page``)."""
    document = report.to_dict()
    stamp = datetime.fromisoformat(report.at).strftime("%Y%m%dT%H%M%S%fZ")
    json_path = write_json_atomic(folder / f"{stamp}-performance.json", document)
    earlier = history(folder)
    page = (render or render_html)(report, earlier)
    html_path = write_atomic(folder / f"{stamp}-performance.html", page)
    return json_path, html_path


def _summary_frame(report: PerformanceReport) -> pd.DataFrame:
    scored = dict(report.models)
    if report.live is not None:
        scored["live (logged answers)"] = report.live
    return pd.DataFrame(
        {
            f"{ref} ({report.labels.get(ref, ref)})" if ref in report.labels else ref: {
                f"{h} {m}": e[h].summary()[m]
                for h in HEADS
                for m in ("accuracy", "macro_f1", "weighted_f1")
            }
            for ref, e in scored.items()
        }
    ).round(3)


def render_html(report: PerformanceReport, earlier: Sequence[Mapping[str, Any]]) -> str:
    parts = [
        f"<h1>True performance from feedback, {html.escape(report.at)}</h1>",
        f"<p>{report.rows} training-ready rows from {report.files} feedback file(s); "
        f"{report.quarantined} quarantined; {len(report.problems)} bad row(s) skipped.</p>",
        "<h2>Per head</h2>",
        _summary_frame(report).to_html(),
    ]
    for ref, evaluation in report.models.items():
        per_class = pd.DataFrame.from_dict(evaluation["emotion"].per_class(), orient="index")
        parts += [f"<h2>{html.escape(ref)}: emotion per class</h2>", per_class.round(3).to_html()]
    if len(earlier) > 1:
        parts += ["<h2>Trend</h2>", trend(earlier).round(3).to_html(index=False)]
    if report.problems:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in report.problems[:100])
        parts += ["<h2>Bad rows</h2>", f"<ul>{items}</ul>"]
    body = "\n".join(parts)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>performance</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head>"
        f"<body>{body}</body></html>\n"
    )

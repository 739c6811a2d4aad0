"""A drift check end to end, as the CLI and notebook 05 run it: resolve the model, find its
reference profile, gather the current rows (files or the prediction log), check, save.

Also :func:`profile_sources`: a reference profile built by hand from any batch input.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from emotion_clf.batch.inputs import InputRow, SourceReader, clean_workdir, expand_sources
from emotion_clf.batch.run import LocalScorer
from emotion_clf.config import Settings
from emotion_clf.data.loader import load_dataset
from emotion_clf.data.profile import ReferenceProfile, build_profile, load_profile
from emotion_clf.data.schema import HEADS
from emotion_clf.data.split import split_by_batch
from emotion_clf.errors import DataError
from emotion_clf.monitoring.collected import read_collected
from emotion_clf.monitoring.drift import (
    CurrentData,
    DriftPolicy,
    DriftReport,
    check_drift,
    current_from_sources,
    save_report,
)
from emotion_clf.monitoring.predictions import read_prediction_log
from emotion_clf.registry import ResolvedModel, record_judgement, resolve_model

logger = logging.getLogger(__name__)

TEST_SPLIT = "the held-out test batches of the bundled data"


@dataclass
class DriftRun:
    report: DriftReport
    summary: dict[str, Any]  # what was saved as JSON (with the HTML's path)
    warnings: list[str]
    # what was compared, for the report's own plots (shares, lengths, confidences)
    reference: ReferenceProfile | None = None
    current: CurrentData | None = None


def reference_for(resolved: ResolvedModel, given: Path | None) -> tuple[ReferenceProfile, str]:
    """A profile file if given, else the one the model's bundle ships."""
    if given is not None:
        try:
            text = given.read_text(encoding="utf-8")
        except OSError as exc:
            raise DataError(f"cannot read the reference: {exc.strerror}", file=given) from exc
        return ReferenceProfile.from_json(text, where=str(given)), str(given)
    found = load_profile(resolved.path)
    if found is None:
        raise DataError(
            f"{resolved.label} ships no reference profile (trained before profiles existed); "
            "build one with `emotion-clf drift profile` and pass --reference FILE",
            field="reference",
        )
    return found, f"{resolved.label}'s reference profile"


def scored_current(scorer: LocalScorer, texts: list[str], description: str) -> CurrentData:
    """``texts`` scored by ``scorer``, as the current data of a drift check."""
    scored = scorer.score(texts)
    return CurrentData(
        description=description,
        lengths=[len(t) for t in texts],
        labels={h: list(v) for h, v in scored.labels.items()},
        confidences={h: [float(c) for c in v] for h, v in scored.confidences.items()},
        texts=texts,
    )


def gather_current(
    *,
    settings: Settings,
    resolved: ResolvedModel,
    current: Sequence[str] = (),
    predictions: bool = False,
    since_days: float = 7.0,
    test_split: bool = False,
    azure_collected: Path | None = None,
) -> tuple[CurrentData, list[str]]:
    """The current rows (exactly one source of them), and warnings to show."""
    chosen = sum([bool(current), predictions, test_split, azure_collected is not None])
    if chosen != 1:
        raise DataError(
            "give --current FILE (repeatable), --predictions or --azure-collected, one of them"
        )
    if azure_collected is not None:
        return from_collected(azure_collected)
    if predictions:
        start = datetime.now(UTC) - timedelta(days=since_days)
        read = read_prediction_log(settings.monitoring_dir / "predictions", since=start)
        data = CurrentData.from_log(
            read.records, description=f"the prediction log of the last {since_days:g} day(s)"
        )
        warnings = (
            [f"{len(read.bad_lines)} unreadable prediction log line(s), e.g. {read.bad_lines[0]}"]
            if read.bad_lines
            else []
        )
        return data, warnings
    if test_split:
        rows = split_by_batch(load_dataset(settings.raw_data_dir)).test
        scorer = LocalScorer(resolved.load(), label=TEST_SPLIT, version=None)
        return scored_current(scorer, rows.texts, TEST_SPLIT), []
    workdir = Path(tempfile.mkdtemp(prefix="emotion-clf-drift-"))
    try:
        scorer = LocalScorer(resolved.load(), label=resolved.label, version=resolved.version)
        data = current_from_sources(
            list(current), scorer=scorer, reader=SourceReader(workdir=workdir)
        )
    finally:
        clean_workdir(workdir)
    return data, []


def from_collected(folder: Path) -> tuple[CurrentData, list[str]]:
    """A managed endpoint's collected traffic (:mod:`.collected`) as current rows."""
    read = read_collected(folder)
    warnings = []
    if read.bad_lines:
        warnings.append(
            f"{len(read.bad_lines)} unusable collected line(s), e.g. {read.bad_lines[0]}"
        )
    if read.unpaired:
        warnings.append(f"{read.unpaired} collected row(s) without their input or output")
    data = CurrentData(
        description=f"the traffic Azure ML collected in {folder}",
        lengths=[len(t) for t in read.texts],
        labels=read.labels,
        confidences=read.confidences,
        texts=read.texts,
    )
    return data, warnings


def run_drift_check(
    *,
    settings: Settings,
    model: str = "baseline",
    reference: Path | None = None,
    current: Sequence[str] = (),
    predictions: bool = False,
    since_days: float = 7.0,
    test_split: bool = False,
    azure_collected: Path | None = None,
    out: Path | None = None,
) -> DriftRun:
    """Check, and save the Evidently HTML and the JSON summary (default:
    ``monitoring/drift/``); log it to the registry as a run linked to the model's version
    (its id in the summary's ``registry_run``, None for a bundle folder)."""
    resolved = resolve_model(model, settings=settings)
    profile, reference_name = reference_for(resolved, reference)
    data, warnings = gather_current(
        settings=settings,
        resolved=resolved,
        current=current,
        predictions=predictions,
        since_days=since_days,
        test_split=test_split,
        azure_collected=azure_collected,
    )
    policy = DriftPolicy(alpha=settings.drift.alpha, text_auc=settings.drift.text_auc)
    report = check_drift(profile, data, policy=policy, reference_name=reference_name)
    summary = save_report(
        report, folder=out or settings.monitoring_dir / "drift", model=resolved.label
    )
    summary["registry_run"] = record_judgement(
        "drift",
        {"model": resolved},
        settings=settings,
        metrics={
            "drift": float(report.drifted),
            "score": report.score,
            "reference_rows": float(report.reference_rows),
            "current_rows": float(report.current_rows),
            **{f"{s.name}_score": s.score for s in report.signals},
            **{f"{s.name}_drifted": float(s.drifted) for s in report.signals},
        },
        params={"reference": report.reference, "current": report.current},
        artifacts=[Path(summary["html"])],
    )
    return DriftRun(report, summary, warnings, reference=profile, current=data)


def profile_sources(
    resolved: ResolvedModel, sources: Sequence[str], *, workdir: Path
) -> ReferenceProfile:
    """A reference profile of every readable row of ``sources`` and the model's answers."""
    reader = SourceReader(workdir=workdir)
    rows = [
        item
        for source in expand_sources(list(sources))
        for item in reader.read(source)
        if isinstance(item, InputRow)
    ]
    if not rows:
        raise DataError("no readable rows to profile", field="data")
    predictor = resolved.load()
    batch = predictor.predict_batch([r.text for r in rows])
    return build_profile(
        texts=[r.text for r in rows],
        batches=[Path(r.source).stem for r in rows],
        labels={h: batch.labels(h) for h in HEADS},
        confidences={h: batch.confidences(h).tolist() for h in HEADS},
        schema=predictor.schema,
        description=f"{resolved.label} on {', '.join(sources)}",
    )

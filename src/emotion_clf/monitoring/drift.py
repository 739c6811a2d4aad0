"""Drift detection: current data against a model's reference profile, signal by signal.

Signals (each a test with a score, a threshold and a flag; Evidently computes them all, so its
HTML report shows exactly the tests that decided):

- **text domain**: a classifier trained to tell reference texts from current ones (Evidently's
  text drift); drift when its ROC AUC passes ``text_auc`` (0.55);
- **text length**: two-sample Kolmogorov-Smirnov test on the characters per text;
- **labels**, per head: chi-square test of homogeneity of the predicted label distributions
  (both are samples, so not Evidently's goodness-of-fit chi-square, which takes the reference
  as exact and raises false alarms), labels too rare for the test's approximation (an
  expected count under 5) pooled into one;
- **confidence**, per head: two-sample Kolmogorov-Smirnov test on the predicted confidences.

The p-value tests share ``alpha`` (0.02) by Bonferroni, so with no drift the whole check raises
a false alarm rarely: on fresh rows of the reference's own batches, a few times in 100
(``benchmarks/drift.py`` measures it). The verdict
is drift when any signal flags.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emotion_clf.batch.inputs import InputRow, SourceReader, expand_sources
from emotion_clf.batch.run import Scorer
from emotion_clf.data.profile import ReferenceProfile
from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError
from emotion_clf.files import write_json_atomic
from emotion_clf.monitoring.predictions import LoggedPrediction

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

RARE = "(rare labels)"
MIN_EXPECTED = 5


@dataclass(frozen=True)
class DriftPolicy:
    alpha: float = 0.02
    text_auc: float = 0.55
    min_rows: int = 50

    @property
    def signals(self) -> int:
        return 1 + 2 * len(HEADS)  # length, labels and confidences: the p-value tests

    @property
    def p_threshold(self) -> float:
        return self.alpha / self.signals


@dataclass(frozen=True)
class CurrentData:
    """What is compared with the reference: texts (if known), lengths and predictions."""

    description: str
    lengths: list[int]
    labels: dict[str, list[str]]
    confidences: dict[str, list[float]]
    texts: list[str] | None = None
    bad_rows: int = 0
    notes: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return len(self.lengths)

    @classmethod
    def from_log(cls, records: Sequence[LoggedPrediction], *, description: str) -> CurrentData:
        texts = [r.text for r in records]
        has_texts = bool(records) and all(t is not None for t in texts)
        return cls(
            description=description,
            lengths=[r.text_chars for r in records],
            labels={h: [r.labels[h] for r in records] for h in HEADS},
            confidences={h: [r.confidences[h] for r in records] for h in HEADS},
            texts=[t for t in texts if t is not None] if has_texts else None,
            notes=()
            if has_texts
            else (
                "the prediction log holds text hashes, not texts "
                "(EMOTION_CLF_LOG_PREDICTION_TEXT=false): no text-domain signal",
            ),
        )


@dataclass(frozen=True)
class Signal:
    name: str  # "text", "length", "labels/emotion", "confidence/emotion", ...
    method: str
    score: float
    threshold: float
    drifted: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "method": self.method,
            "score": round(self.score, 6),
            "threshold": round(self.threshold, 6),
            "drifted": self.drifted,
            "detail": self.detail,
        }


@dataclass
class DriftReport:
    reference: str
    current: str
    reference_rows: int
    current_rows: int
    signals: list[Signal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    snapshot: Any = None  # Evidently's snapshot, for its HTML

    @property
    def drifted(self) -> bool:
        return any(s.drifted for s in self.signals)

    @property
    def score(self) -> float:
        """The share of signals that flag drift (0: none, 1: all)."""
        return sum(s.drifted for s in self.signals) / len(self.signals) if self.signals else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "drift": self.drifted,
            "score": round(self.score, 4),
            "reference": self.reference,
            "current": self.current,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "signals": [s.to_dict() for s in self.signals],
            "notes": self.notes,
        }

    def save_html(self, path: Path) -> Path:
        if self.snapshot is None:
            raise DataError("this drift report has no Evidently snapshot to render")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.snapshot.save_html(str(path))
        return path


def _pool_rare(
    reference: pd.Series, current: pd.Series, rows: int
) -> tuple[pd.Series, pd.Series, list[str]]:
    """Labels expected fewer than ``MIN_EXPECTED`` times in ``rows`` current rows (by their
    reference share, so a label the reference never predicted too) pooled into one, so that
    the chi-square test's approximation holds."""
    shares = reference.value_counts(normalize=True)
    labels = set(shares.index) | set(current.unique())
    rare = sorted(str(label) for label in labels if shares.get(label, 0.0) * rows < MIN_EXPECTED)
    if len(rare) < 2 and not (set(rare) - set(shares.index)):
        return reference, current, []
    return (
        reference.where(~reference.isin(rare), RARE),
        current.where(~current.isin(rare), RARE),
        rare,
    )


HOMOGENEITY = "chisquare_homogeneity"


def _register_homogeneity_test() -> None:
    """Evidently's registry gets a two-sample chi-square test (once per process)."""
    from evidently.legacy.calculations.stattests.registry import (
        StatTest,
        _registered_stat_tests,
        register_stattest,
    )
    from evidently.legacy.core import ColumnType
    from scipy.stats import chi2_contingency

    if HOMOGENEITY in _registered_stat_tests:
        return

    def homogeneity(
        reference: pd.Series, current: pd.Series, feature_type: object, threshold: float
    ) -> tuple[float, bool]:
        labels = sorted(set(reference.dropna()) | set(current.dropna()), key=str)
        if len(labels) < 2:
            return 1.0, False
        table = [
            [int((reference == label).sum()) for label in labels],
            [int((current == label).sum()) for label in labels],
        ]
        p_value = float(chi2_contingency(table)[1])
        return p_value, p_value < threshold

    register_stattest(
        StatTest(
            name=HOMOGENEITY,
            display_name="chi-square test of homogeneity p_value",
            allowed_feature_types=[ColumnType.Categorical],
        ),
        default_impl=homogeneity,
    )


def check_drift(
    reference: ReferenceProfile,
    current: CurrentData,
    *,
    policy: DriftPolicy | None = None,
    reference_name: str = "reference",
) -> DriftReport:
    """Compare ``current`` with ``reference``; returns the report (with Evidently's snapshot)."""
    policy = policy or DriftPolicy()
    if current.rows < policy.min_rows:
        raise DataError(
            f"{current.rows} current rows are too few for a drift check (at least "
            f"{policy.min_rows}); widen the window or the file",
            field="current",
        )
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from sklearn.exceptions import ConvergenceWarning

    _register_homogeneity_test()
    ref = pd.DataFrame({"length": reference.lengths})
    cur = pd.DataFrame({"length": current.lengths})
    notes = list(current.notes)
    pooled: dict[str, list[str]] = {}
    for head in HEADS:
        ref[head] = list(reference.labels[head])
        cur[head] = current.labels[head]
        ref[head], cur[head], pooled[head] = _pool_rare(ref[head], cur[head], current.rows)
        if pooled[head]:
            notes.append(
                f"{head}: {len(pooled[head])} labels rarer than {MIN_EXPECTED} expected rows "
                f"pooled for the chi-square test ({', '.join(pooled[head])})"
            )
        ref[f"{head}_confidence"] = list(reference.confidences[head])
        cur[f"{head}_confidence"] = current.confidences[head]
    p = policy.p_threshold
    metrics = [ValueDrift(column="length", method="ks", threshold=p)]
    metrics += [ValueDrift(column=h, method=HOMOGENEITY, threshold=p) for h in HEADS]
    metrics += [ValueDrift(column=f"{h}_confidence", method="ks", threshold=p) for h in HEADS]
    text_columns: list[str] = []
    if current.texts is not None:
        # the two frames differ in length; Evidently compares columns, rows need not align
        ref_text, cur_text = list(reference.texts), current.texts
        if len(cur_text) != len(cur):
            raise DataError("current texts and predictions differ in length")
        ref["text"], cur["text"] = ref_text, cur_text
        text_columns = ["text"]
        metrics.insert(
            0, ValueDrift(column="text", method="abs_text_content_drift", threshold=policy.text_auc)
        )
    definition = DataDefinition(
        text_columns=text_columns,
        numerical_columns=["length", *(f"{h}_confidence" for h in HEADS)],
        categorical_columns=list(HEADS),
    )
    with warnings.catch_warnings():
        # the text-domain classifier stops at its iteration limit: its AUC is what counts
        warnings.simplefilter("ignore", ConvergenceWarning)
        snapshot = Report(metrics, include_tests=True).run(
            Dataset.from_pandas(cur, data_definition=definition),
            Dataset.from_pandas(ref, data_definition=definition),
        )
    report = DriftReport(
        reference=reference_name,
        current=current.description,
        reference_rows=len(reference.texts),
        current_rows=current.rows,
        notes=notes,
        snapshot=snapshot,
    )
    report.signals = _signals(snapshot.dict(), policy)
    return report


def _signals(document: Mapping[str, Any], policy: DriftPolicy) -> list[Signal]:
    """One :class:`Signal` per ValueDrift metric, its flag from the matching test."""
    failed = {
        str(t.get("metric_config", {}).get("params", {}).get("column")): t.get("status") == "FAIL"
        for t in document.get("tests", [])
    }
    out = []
    for metric in document.get("metrics", []):
        column = str(metric["config"]["column"])
        value = float(metric["value"])
        if column == "text":
            name, method, threshold = "text", "domain classifier ROC AUC", policy.text_auc
            detail = f"a classifier tells current from reference texts with ROC AUC {value:.3f}"
        elif column == "length":
            name, method, threshold = "length", "Kolmogorov-Smirnov p-value", policy.p_threshold
            detail = f"characters per text: p = {value:.3g}"
        elif column.endswith("_confidence"):
            head = column.removesuffix("_confidence")
            name, method, threshold = (
                f"confidence/{head}",
                "Kolmogorov-Smirnov p-value",
                policy.p_threshold,
            )
            detail = f"{head} confidences: p = {value:.3g}"
        else:
            name, method, threshold = (
                f"labels/{column}",
                "chi-square homogeneity p-value",
                policy.p_threshold,
            )
            detail = f"{column} label distribution: p = {value:.3g}"
        out.append(Signal(name, method, value, threshold, failed.get(column, False), detail))
    return out


def current_from_sources(
    sources: Sequence[str], *, scorer: Scorer, reader: SourceReader, chunk_size: int = 1024
) -> CurrentData:
    """Read every row of ``sources`` (any batch-input format) and predict it with ``scorer``."""
    texts: list[str] = []
    bad = 0
    for source in expand_sources(list(sources)):
        for item in reader.read(source):
            if isinstance(item, InputRow):
                texts.append(item.text)
            else:
                bad += 1
                logger.info("drift: skipping %s", item.describe())
    labels: dict[str, list[str]] = {h: [] for h in HEADS}
    confidences: dict[str, list[float]] = {h: [] for h in HEADS}
    kept: list[str] = []
    for start in range(0, len(texts), chunk_size):
        chunk = texts[start : start + chunk_size]
        scored = scorer.score(chunk)
        for i, text in enumerate(chunk):
            if i in scored.refused:
                bad += 1
                continue
            kept.append(text)
            for head in HEADS:
                labels[head].append(scored.labels[head][i])
                confidences[head].append(float(scored.confidences[head][i]))
    return CurrentData(
        description=", ".join(sources),
        lengths=[len(t) for t in kept],
        labels=labels,
        confidences=confidences,
        texts=kept,
        bad_rows=bad,
        notes=(f"{bad} bad row(s) skipped",) if bad else (),
    )


def save_report(report: DriftReport, *, folder: Path, model: str) -> dict[str, Any]:
    """Write ``<UTC time>-drift.html`` (Evidently's report) and its JSON summary into
    ``folder``; returns the summary (with the HTML's path)."""
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    html = report.save_html(folder / f"{stamp}-drift.html")
    summary = {
        **report.to_dict(),
        "model": model,
        "at": now.isoformat(timespec="seconds"),
        "html": str(html),
    }
    write_json_atomic(folder / f"{stamp}-drift.json", summary)
    return summary


def drift_history(folder: Path) -> list[dict[str, Any]]:
    """Every drift summary saved in ``folder``, oldest first (unreadable ones logged)."""
    out = []
    for path in sorted(folder.glob("*-drift.json")):
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            logger.warning("skipping unreadable drift summary %s: %s", path.name, exc)
    return out

"""Tables and displays for the notebooks: results in, pandas DataFrames or Markdown out.

Each function renders a result object the package already computed (an evaluation, a
comparison, a gate decision, the registry's versions, the audit log); none computes
anything new. Tables are rounded to three decimals so they read well in HTML and as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from emotion_clf.data.schema import HEADS
from emotion_clf.evaluation.metrics import Evaluation
from emotion_clf.promotion.compare import ComparisonReport
from emotion_clf.promotion.fanout import RefreshResult
from emotion_clf.promotion.gate import GateDecision
from emotion_clf.promotion.lifecycle import PromotionOutcome
from emotion_clf.registry.base import AuditEntry, VersionInfo
from emotion_clf.reports.keynumbers import key_label
from emotion_clf.training import TrainResult

if TYPE_CHECKING:
    from IPython.display import Markdown
    from matplotlib.figure import Figure

METRICS = ("accuracy", "macro_f1", "weighted_f1")
VERSION_METRICS = ("test.emotion.accuracy", "test.emotion.macro_f1", "test.sub_emotion.accuracy")


def use_report_display() -> None:
    """Show tables whole: no truncated cells (gate details, texts), up to 200 rows."""
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_rows", 200)


def markdown(text: str) -> Markdown:
    from IPython.display import Markdown

    return Markdown(text)


def show(figure: Figure | None, *, missing: str = "") -> None:
    """Display a figure once and free it (pyplot would show it a second time otherwise)."""
    from IPython.display import display

    if figure is None:
        if missing:
            display(markdown(f"*{missing}*"))
        return
    import matplotlib.pyplot as plt

    display(figure)
    plt.close(figure)


def training_summary(result: TrainResult) -> Markdown:
    """One line: what was trained, on what, how long it took and where the bundle is."""
    family = result.predictor.family
    held_out = (
        "metrics on the held-out validation and test batches below"
        if result.evaluations
        else "fewer than 3 batch files, so no held-out split and no metrics"
    )
    return markdown(
        f"Trained **{family}** in **{result.seconds:.1f} s** on {len(result.dataset)} rows "
        f"from {len(result.dataset.files)} files{goemotions_note(result.predictor)}"
        f"{distillation_note(result.predictor)}; "
        f"{held_out}.\n\nBundle: `{result.bundle}`"
    )


def goemotions_note(predictor: object) -> str:
    """What a training took from GoEmotions, as a clause ("" when nothing)."""
    record = getattr(predictor, "goemotions_", None)
    if not record:
        return ""
    rows = f"{record['rows']} single-label GoEmotions rows"
    stage = record.get("transfer")
    if stage is None:
        return f", with {rows} mixed into the epochs ({record['mode']})"
    how = "from the cache" if stage["cached"] else f"trained in {stage['seconds']:.0f} s"
    return f", after a transfer stage on {rows} ({how}, key {stage['key'][:12]})"


def distillation_note(predictor: object) -> str:
    """Which teacher a distilled student learned from, as a clause ("" when none)."""
    record = getattr(predictor, "distillation_", None)
    if not record:
        return ""
    return (
        f", distilled from {record['teacher_family']} {record['teacher']} (temperature "
        f"{record['temperature']:g}, weight {record['weight']:g}; its outputs on "
        f"{record['rows']} rows, {record['from_cache']} from the cache)"
    )


def metrics_frame(evaluations: Mapping[str, Evaluation]) -> pd.DataFrame:
    """Accuracy, macro-F1 and weighted-F1 per split and head."""
    rows = [
        {"split": split, "head": head, "rows": ev.rows, **ev[head].summary()}
        for split, ev in evaluations.items()
        for head in HEADS
    ]
    frame = pd.DataFrame(rows, columns=["split", "head", "rows", *METRICS])
    return frame.set_index(["split", "head"]).round(3)


def _interval(low: float, high: float) -> str:
    return f"{low:.2f}-{high:.2f}"


def per_class_frame(evaluation: Evaluation, head: str) -> pd.DataFrame:
    """Each class of one head, most frequent first: its true rows (``n``), precision, recall
    with Wilson's 95% interval and F1 with a bootstrap 95% interval, so that a score on a
    handful of rows reads as the weak evidence it is."""
    from emotion_clf.evaluation.intervals import f1_bootstrap, wilson

    scores = evaluation[head].per_class()
    f1_ci = f1_bootstrap(evaluation[head])
    rows = [
        {
            head: label,
            "n": int(s["support"]),
            "precision": s["precision"],
            "recall": s["recall"],
            "recall 95% CI": _interval(
                *wilson(round(s["recall"] * s["support"]), int(s["support"]))
            ),
            "f1": s["f1"],
            "f1 95% CI": _interval(*f1_ci[label]),
        }
        for label, s in scores.items()
    ]
    frame = pd.DataFrame(rows).set_index(head)
    return frame.sort_values("n", ascending=False, kind="stable").round(3)


def top_confusions_frame(evaluation: Evaluation, head: str, limit: int = 15) -> pd.DataFrame:
    """The ``limit`` most frequent mistakes of ``head``: true class, predicted class, rows,
    and the share of the true class's rows that went there."""
    frame = pd.DataFrame(
        evaluation[head].top_confusions(limit),
        columns=["true", "predicted", "count", "share of true"],
    )
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame.round(3)


def comparison_frame(report: ComparisonReport) -> pd.DataFrame | Markdown:
    """Per head (columns): each metric as baseline -> candidate (delta), the macro-F1
    delta's paired bootstrap 95% interval, and McNemar's exact test on per-row correctness."""
    comparison = report.decision.comparison
    if comparison is None:
        return markdown("*No baseline yet: nothing to compare against.*")
    columns = {}
    for head in HEADS:
        c = comparison[head]
        low, high = c.macro_f1_ci
        column = {
            metric: f"{c.baseline[metric]:.3f} -> {c.candidate[metric]:.3f} "
            f"({c.deltas[metric]:+.3f})"
            for metric in METRICS
        }
        column["macro_f1 delta, 95% CI"] = f"[{low:+.3f}, {high:+.3f}]"
        column["rows only the candidate gets right"] = str(c.mcnemar.candidate_only)
        column["rows only the baseline gets right"] = str(c.mcnemar.baseline_only)
        column["McNemar exact p"] = f"{c.mcnemar.p_value:.3g}"
        columns[head] = column
    return pd.DataFrame(columns)


def class_deltas_frame(report: ComparisonReport, head: str) -> pd.DataFrame | Markdown:
    """Per-class F1 of baseline and candidate side by side, biggest loss first."""
    comparison = report.decision.comparison
    if comparison is None:
        return markdown("*No baseline yet.*")
    frame = pd.DataFrame([c.to_dict() for c in comparison[head].classes])
    return frame.set_index("label").sort_values("delta").round(3)


def disagreements_frame(report: ComparisonReport, head: str, limit: int) -> pd.DataFrame | Markdown:
    """Rows where the two models disagree, with the true label and who was right."""
    if report.baseline_eval is None:
        return markdown("*No baseline yet.*")
    if not report.disagreements(head, 1):
        return markdown(f"*The two models predict the same {head} for every row.*")
    frame = pd.DataFrame(
        report.disagreements(head, limit), columns=["text", "true", "baseline", "candidate"]
    )
    frame["right"] = [
        "both wrong" if t not in (b, c) else ("candidate" if t == c else "baseline")
        for t, b, c in zip(frame["true"], frame["baseline"], frame["candidate"], strict=True)
    ]
    return frame


def decision_markdown(report: ComparisonReport) -> Markdown:
    verdict = "PROMOTE" if report.decision.promote else "HOLD"
    against = (
        f"baseline {report.baseline.label}"
        if report.baseline
        else "no baseline yet, so the absolute minimums"
    )
    return markdown(
        f"## Gate decision: **{verdict}**\n\ncandidate {report.candidate.label} against "
        f"{against}, on {report.data} ({report.candidate_eval.rows} rows)"
    )


def decision_frame(decision: GateDecision) -> pd.DataFrame:
    """Each check of the gate with its result and the numbers behind it."""
    frame = pd.DataFrame(
        [
            {"check": c.name, "result": "pass" if c.passed else "FAIL", "detail": c.detail}
            for c in decision.checks
        ]
    )
    return frame.set_index("check")


def reasons_frame(reasons: Sequence[str]) -> pd.DataFrame:
    """The failed checks behind a hold (``"check: detail"`` strings)."""
    rows = [dict(zip(("check", "detail"), r.split(": ", 1), strict=False)) for r in reasons]
    return pd.DataFrame(rows, columns=["check", "detail"]).set_index("check")


def versions_frame(versions: Sequence[VersionInfo]) -> pd.DataFrame:
    """Registered versions, newest first, with designations and test metrics."""
    rows = [
        {
            "version": int(v.version),
            "designations": ", ".join(v.designations) or "-",
            "family": v.family,
            "created": v.created_at,
            **{k: v.metrics.get(k) for k in VERSION_METRICS},
        }
        for v in versions
    ]
    columns = ["version", "designations", "family", "created", *VERSION_METRICS]
    frame = pd.DataFrame(rows, columns=columns).set_index("version").round(3)
    return frame.rename(columns={k: key_label(k) for k in VERSION_METRICS})


def audit_frame(entries: Sequence[AuditEntry]) -> pd.DataFrame:
    """The promotion history, newest first."""
    columns = ["at", "action", "from_version", "to_version", "actor", "reason", "forced", "status"]
    frame = pd.DataFrame([e.to_dict() for e in entries], columns=columns)
    return frame.fillna("-").set_index("at")


def refresh_frame(results: Sequence[RefreshResult]) -> pd.DataFrame | Markdown:
    """What each API server answered to ``POST /refresh-model``."""
    if not results:
        return markdown("*No refresh endpoints are configured (EMOTION_CLF_REFRESH_ENDPOINTS).*")
    return pd.DataFrame(
        [
            {"endpoint": r.endpoint, "ok": r.ok, "attempts": r.attempts, "result": r.describe()}
            for r in results
        ]
    ).set_index("endpoint")


def outcome_markdown(outcome: PromotionOutcome) -> Markdown:
    """The headline of a promotion run: promoted, held or unchanged, and why."""
    headline = {"promoted": "Promoted", "held": "Held by the gate", "unchanged": "Nothing to do"}
    forced = " (forced: the gate was skipped)" if outcome.result and outcome.result.forced else ""
    text = f"## {headline[outcome.status]}{forced}\n\n{outcome.summary}"
    if outcome.result is not None and outcome.result.refresh_failed:
        text += (
            "\n\n**Some servers did not reload** (below); the registry change stands. "
            "Retry with `emotion-clf refresh`."
        )
    return markdown(text)


def outcome_checks(outcome: PromotionOutcome) -> pd.DataFrame | Markdown:
    """The gate's checks behind a promotion, or the failed ones behind a hold."""
    if outcome.status == "held":
        return reasons_frame(outcome.held_reasons)
    if outcome.result is not None and outcome.result.decision is not None:
        return decision_frame(outcome.result.decision)
    if outcome.result is not None and outcome.result.forced:
        return markdown("*Forced promotion: the gate did not run.*")
    return markdown("*The gate did not run: nothing was to be promoted.*")


def outcome_refresh(outcome: PromotionOutcome) -> pd.DataFrame | Markdown:
    if outcome.result is None or not outcome.result.changed:
        return markdown("*The baseline did not change, so no server was asked to reload.*")
    return refresh_frame(outcome.result.refresh)

"""The state of production, at the top of ``reports/index.html``: which versions are
``baseline`` and ``dynamic`` and since when, with their test metrics, the last promotion, the
latest drift verdict and the latest true-performance numbers, each card linked to the report
behind it, and drift and performance over time once there are two points.

:func:`production_state` reads them (the registry, ``monitoring/drift/``,
``reports/performance/``); :func:`production_html` renders them. A registry that cannot be
reached is said, not raised: the site is still published.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotion_clf.errors import EmotionClfError
from emotion_clf.monitoring.drift import drift_history
from emotion_clf.monitoring.performance import history as performance_history
from emotion_clf.registry import AuditEntry, ModelRegistry, VersionInfo
from emotion_clf.reports.drift_figures import expected_drift_note
from emotion_clf.reports.keynumbers import key_label
from emotion_clf.reports.over_time import (
    drift_over_time_figure,
    figure_html,
    performance_over_time_figure,
)
from emotion_clf.reports.records import ReportRecord

# the test metrics a version's card shows, when the registry or its training report has them
CARD_METRICS = (
    "test.emotion.accuracy",
    "test.emotion.macro_f1",
    "test.sub_emotion.macro_f1",
    "test.intensity.macro_f1",
)


@dataclass(frozen=True)
class Designated:
    designation: str
    version: str
    family: str | None
    since: str  # when it was set (baseline: the audit entry; dynamic: its registration)
    metrics: dict[str, float] = field(default_factory=dict)  # the registry's test metrics


@dataclass
class ProductionState:
    baseline: Designated | None = None
    dynamic: Designated | None = None
    last_change: AuditEntry | None = None
    drift: dict[str, Any] | None = None  # the latest drift summary
    performance: dict[str, Any] | None = None  # the latest performance report
    performance_page: str | None = None  # its HTML, relative to the reports folder
    drifts: list[dict[str, Any]] = field(default_factory=list)  # every check, oldest first
    performances: list[dict[str, Any]] = field(default_factory=list)  # every report
    notes: list[str] = field(default_factory=list)


def production_state(
    *, registry: ModelRegistry | None, drift_dir: Path, performance_dir: Path
) -> ProductionState:
    """Gather the state; ``registry`` None (or failing) leaves the versions unknown."""
    state = ProductionState()
    if registry is not None:
        try:
            versions = {v.version: v for v in registry.versions()}
            designations = registry.designations()
            entries = registry.audit.entries(limit=50)
        except EmotionClfError as exc:
            state.notes.append(f"the registry could not be read: {exc}")
        else:
            state.last_change = next((e for e in entries if e.status == "applied"), None)
            state.baseline = _designated("baseline", designations, versions, entries)
            state.dynamic = _designated("dynamic", designations, versions, entries)
    state.drifts = drift_history(drift_dir) if drift_dir.is_dir() else []
    state.drift = state.drifts[-1] if state.drifts else None
    state.performances = performance_history(performance_dir) if performance_dir.is_dir() else []
    state.performance = state.performances[-1] if state.performances else None
    pages = sorted(performance_dir.glob("*-performance.html")) if performance_dir.is_dir() else []
    if pages:
        state.performance_page = f"{performance_dir.name}/{pages[-1].name}"
    return state


def _designated(
    name: str,
    designations: dict[str, str],
    versions: dict[str, VersionInfo],
    entries: list[AuditEntry],
) -> Designated | None:
    version = designations.get(name)
    if version is None:
        return None
    info = versions.get(version)
    since = info.created_at if info else ""
    if name == "baseline":
        moved = next(
            (e for e in entries if e.status == "applied" and e.to_version == version), None
        )
        since = moved.at if moved else since
    metrics = dict(info.metrics) if info else {}
    return Designated(name, version, info.family if info else None, since, metrics)


def _when(text: str) -> str:
    return html.escape(text.replace("T", " ").replace("+00:00", "")[:19] + " UTC" if text else "-")


Link = tuple[str, str]  # (href, words)


def _card(element_id: str, title: str, body: str, *links: Link | None) -> str:
    """A card; ``links`` go at its foot, to the reports behind it."""
    foot = "".join(
        f"<p class='go'><a href='{html.escape(href)}'>{html.escape(words)} →</a></p>"
        for href, words in filter(None, links)
    )
    return f"<div class='card' id='{element_id}'><h3>{html.escape(title)}</h3>{body}{foot}</div>"


def _latest(records: Sequence[ReportRecord], *names: str, **numbers: Any) -> ReportRecord | None:
    """The newest record of one of the notebooks ``names`` whose key numbers match."""
    return next(
        (
            r
            for r in records
            if r.name in names and all(r.key_numbers.get(k) == v for k, v in numbers.items())
        ),
        None,
    )


def _metrics_table(d: Designated, train: ReportRecord | None) -> str:
    known = {**(train.key_numbers if train else {}), **d.metrics}
    rows = "".join(
        f"<tr><td>{html.escape(key_label(k).removeprefix('test '))}</td>"
        f"<td class='num'>{float(known[k]):.3f}</td></tr>"  # type: ignore[arg-type]
        for k in CARD_METRICS
        if isinstance(known.get(k), int | float)
    )
    return (
        f"<table class='perf metrics'><caption>test split</caption>{rows}</table>" if rows else ""
    )


def _version_cards(state: ProductionState, records: Sequence[ReportRecord]) -> list[str]:
    cards = []
    same = (
        state.baseline is not None
        and state.dynamic is not None
        and state.baseline.version == state.dynamic.version
    )
    for d, colour, name in (
        (state.baseline, "blue", "baseline"),
        (state.dynamic, "green", "dynamic"),
    ):
        link = None
        if d is None:
            body = "<p class='muted'>not set yet</p>"
        elif name == "dynamic" and same:
            body = (
                f"<p class='big'>v<span class='version'>{html.escape(d.version)}</span></p>"
                "<p class='same'>dynamic = baseline (no candidate pending)</p>"
            )
            compare = _latest(records, "02-compare-baseline")
            link = (compare.html, "last comparison") if compare else None
        else:
            train = _latest(records, "01-train", version=int(d.version))
            body = (
                f"<p class='big'>v<span class='version'>{html.escape(d.version)}</span></p>"
                f"<p>{html.escape(d.family or '?')} · since {_when(d.since)}</p>"
                + _metrics_table(d, train)
            )
            link = (train.html, "training report") if train else None
        cards.append(_card(name, f"{name} ({colour})", body, link))
    return cards


def _drift_card(state: ProductionState, records: Sequence[ReportRecord]) -> str:
    drift = state.drift
    if drift is None:
        return _card(
            "drift", "latest drift check", "<p class='muted'>none yet: <code>make drift</code></p>"
        )
    found = bool(drift.get("drift"))
    expected = expected_drift_note(str(drift.get("current", "")))
    note = (
        "<p class='note'>Expected here: the test batches are shows the model never saw in "
        "training, so their data differs from the reference. Drift on live traffic is what "
        "calls for a look.</p>"
        if expected and found
        else ""
    )
    # the notebook report of this very check (a check run from the command line has none)
    report = _latest(
        records,
        "05-drift-report",
        current_rows=drift.get("current_rows"),
        score=round(float(drift.get("score", 0.0)), 4),
    )
    body = (
        f"<p class='big verdict {'bad' if found else 'good'}'>"
        f"{'drift' if found else 'no drift'}</p>"
        f"<p>{html.escape(str(drift.get('current', '')))} ({drift.get('current_rows')} rows) "
        f"against {html.escape(str(drift.get('model', '')))}; score "
        f"{float(drift.get('score', 0)):.2f}</p><p>{_when(str(drift.get('at', '')))}</p>{note}"
    )
    return _card(
        "drift", "latest drift check", body, (report.html, "drift report") if report else None
    )


def _model_name(ref: str, label: str) -> str:
    """``v2 (baseline = dynamic)`` as it is; ``baseline`` scored as ``v1``: ``baseline (v1)``."""
    return label if ref in label else f"{ref} ({label})" if label else ref


def _performance_card(state: ProductionState, records: Sequence[ReportRecord]) -> str:
    perf = state.performance
    if perf is None:
        return _card(
            "performance",
            "true performance (feedback)",
            "<p class='muted'>no feedback report yet: <code>make perf</code></p>",
        )
    labels = perf.get("model_labels", {})
    scored = {
        **{_model_name(ref, labels.get(ref, "")): s for ref, s in perf.get("models", {}).items()},
        **(
            {f"live answers ({perf.get('live_rows')} rows)": perf["live"]}
            if perf.get("live")
            else {}
        ),
    }
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td class='num'>{scores['emotion']['accuracy']:.3f}</td>"
        f"<td class='num'>{scores['emotion']['macro_f1']:.3f}</td></tr>"
        for name, scores in scored.items()
    )
    body = (
        f"<p>{perf.get('rows')} feedback rows ({perf.get('quarantined_rows', 0)} "
        f"quarantined), {_when(str(perf.get('at', '')))}</p><table class='perf'>"
        f"<tr><th>model</th><th>emotion acc</th><th>emotion macro-F1</th></tr>{rows}</table>"
    )
    notebook = _latest(records, "06-performance-report")
    return _card(
        "performance",
        "true performance (feedback)",
        body,
        (state.performance_page, "feedback report") if state.performance_page else None,
        (notebook.html, "performance notebook report") if notebook else None,
    )


def _over_time(state: ProductionState) -> str:
    figures = []
    drift = drift_over_time_figure(state.drifts)
    if drift is not None:
        figures.append(figure_html(drift, alt="drift score of each check over time"))
    performance = performance_over_time_figure(state.performances)
    if performance is not None:
        figures.append(
            figure_html(performance, alt="emotion accuracy and macro-F1 on feedback over time")
        )
    if not figures:
        return ""
    return (
        f"<div id='over-time'><h3>Over time</h3><div class='figures'>{''.join(figures)}</div></div>"
    )


def production_html(state: ProductionState, records: Sequence[ReportRecord] = ()) -> str:
    """The section at the top of the index: one card per question, each linked to the
    newest of ``records`` that answers it, then drift and performance over time."""
    cards = _version_cards(state, records)
    change = state.last_change
    moved = _latest(records, "03-promote", "04-rollback")
    cards.append(
        _card(
            "last-promotion",
            "last change of baseline",
            "<p class='muted'>none yet</p>"
            if change is None
            else f"<p>{html.escape(change.action)} "
            f"{'v' + html.escape(change.from_version) if change.from_version else 'none'} → "
            f"v{html.escape(change.to_version)}</p><p>{_when(change.at)} by "
            f"{html.escape(change.actor)}{' (forced)' if change.forced else ''}</p>"
            f"<p class='muted'>{html.escape(change.reason)}</p>",
            (moved.html, f"{moved.name.split('-', 1)[1]} report") if moved else None,
        )
    )
    cards.append(_drift_card(state, records))
    cards.append(_performance_card(state, records))
    notes = "".join(f"<p class='muted'>{html.escape(n)}</p>" for n in state.notes)
    return (
        "<section id='production'><h2>State of production</h2>"
        f"<div class='cards'>{''.join(cards)}</div>{_over_time(state)}{notes}</section>"
    )

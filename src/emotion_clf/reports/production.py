"""The state of production, at the top of ``reports/index.html``: which versions are
``baseline`` and ``dynamic`` and since when, the last promotion, the latest drift verdict and
the latest true-performance numbers.

:func:`production_state` reads them (the registry, ``monitoring/drift/``,
``reports/performance/``); :func:`production_html` renders them. A registry that cannot be
reached is said, not raised: the site is still published.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotion_clf.errors import EmotionClfError
from emotion_clf.monitoring.drift import drift_history
from emotion_clf.monitoring.performance import history as performance_history
from emotion_clf.registry import AuditEntry, ModelRegistry, VersionInfo


@dataclass(frozen=True)
class Designated:
    designation: str
    version: str
    family: str | None
    since: str  # when it was set (baseline: the audit entry; dynamic: its registration)


@dataclass
class ProductionState:
    baseline: Designated | None = None
    dynamic: Designated | None = None
    last_change: AuditEntry | None = None
    drift: dict[str, Any] | None = None  # the latest drift summary
    performance: dict[str, Any] | None = None  # the latest performance report
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
    drifts = drift_history(drift_dir) if drift_dir.is_dir() else []
    state.drift = drifts[-1] if drifts else None
    reports = performance_history(performance_dir) if performance_dir.is_dir() else []
    state.performance = reports[-1] if reports else None
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
    return Designated(name, version, info.family if info else None, since)


def _when(text: str) -> str:
    return html.escape(text.replace("T", " ").replace("+00:00", "")[:19] + " UTC" if text else "-")


def _card(element_id: str, title: str, body: str) -> str:
    return f"<div class='card' id='{element_id}'><h3>{html.escape(title)}</h3>{body}</div>"


def production_html(state: ProductionState) -> str:
    """The section at the top of the index: one card per question."""
    cards = []
    for d, colour in ((state.baseline, "blue"), (state.dynamic, "green")):
        name = "baseline" if colour == "blue" else "dynamic"
        if d is None:
            body = "<p class='muted'>not set yet</p>"
        else:
            body = (
                f"<p class='big'>v<span class='version'>{html.escape(d.version)}</span></p>"
                f"<p>{html.escape(d.family or '?')} · since {_when(d.since)}</p>"
            )
        cards.append(_card(name, f"{name} ({colour})", body))
    change = state.last_change
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
        )
    )
    drift = state.drift
    cards.append(
        _card(
            "drift",
            "latest drift check",
            "<p class='muted'>none yet: <code>make drift</code></p>"
            if drift is None
            else f"<p class='big verdict'>{'drift' if drift.get('drift') else 'no drift'}</p>"
            f"<p>{html.escape(str(drift.get('current', '')))} ({drift.get('current_rows')} rows) "
            f"against {html.escape(str(drift.get('model', '')))}; score "
            f"{float(drift.get('score', 0)):.2f}</p><p>{_when(str(drift.get('at', '')))}</p>",
        )
    )
    perf = state.performance
    if perf is None:
        perf_body = "<p class='muted'>no feedback report yet: <code>make perf</code></p>"
    else:
        rows = "".join(
            f"<tr><td>{html.escape(ref)}</td><td>{scores['emotion']['accuracy']:.3f}</td>"
            f"<td>{scores['emotion']['macro_f1']:.3f}</td></tr>"
            for ref, scores in {
                **perf.get("models", {}),
                **({"live answers": perf["live"]} if perf.get("live") else {}),
            }.items()
        )
        perf_body = (
            f"<p>{perf.get('rows')} feedback rows ({perf.get('quarantined_rows', 0)} "
            f"quarantined), {_when(str(perf.get('at', '')))}</p><table class='perf'>"
            f"<tr><th>model</th><th>emotion acc</th><th>emotion macro-F1</th></tr>{rows}</table>"
        )
    cards.append(_card("performance", "true performance (feedback)", perf_body))
    notes = "".join(f"<p class='muted'>{html.escape(n)}</p>" for n in state.notes)
    return (
        "<section id='production'><h2>State of production</h2>"
        f"<div class='cards'>{''.join(cards)}</div>{notes}</section>"
    )

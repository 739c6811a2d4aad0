"""The blue-green lifecycle: compare a candidate with the baseline, promote, roll back.

Every change follows the same steps, in this order, under the promotion lock:

1. check the baseline is still the one the decision was made against (else: conflict);
2. open an audit entry (an MLflow run, status RUNNING);
3. move the ``baseline`` alias (the only step that changes what is served);
4. close the audit entry (FINISHED), release the lock;
5. tell every API server to reload (``POST /refresh-model``).

Everything that can fail for a reason of the input (unknown version, a bundle that does not
verify, a label schema that differs, a held gate) fails before step 1, so nothing changes.
A process killed anywhere leaves the alias on exactly one version.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotion_clf.config import Settings
from emotion_clf.data.loader import Dataset, load_dataset
from emotion_clf.data.split import split_by_batch
from emotion_clf.errors import (
    GateHeldError,
    ModelNotFoundError,
    PromotionConflictError,
    PromotionError,
)
from emotion_clf.evaluation import Evaluation, evaluate
from emotion_clf.models.bundle import read_manifest
from emotion_clf.promotion.audit import AuditLog
from emotion_clf.promotion.fanout import RefreshResult, fan_out
from emotion_clf.promotion.gate import GateDecision, GatePolicy, decide
from emotion_clf.promotion.lock import PromotionLock, promotion_lock
from emotion_clf.registry.cache import ModelCache
from emotion_clf.registry.fetch import fetch_version
from emotion_clf.registry.store import Registry, VersionInfo
from emotion_clf.resolve import ResolvedModel, resolve_model

logger = logging.getLogger(__name__)


def actor_name(settings: Settings) -> str:
    return settings.actor or f"{getpass.getuser()}@{socket.gethostname()}"


def comparison_data(data: Path | str | None, *, settings: Settings) -> tuple[Dataset, str]:
    """The rows a comparison runs on: a given file or folder, else the bundled test split."""
    if data is not None:
        return load_dataset(data), str(data)
    return split_by_batch(
        load_dataset(settings.raw_data_dir)
    ).test, "the test split of the bundled data"


@dataclass
class ComparisonReport:
    candidate: ResolvedModel
    baseline: ResolvedModel | None
    candidate_eval: Evaluation
    baseline_eval: Evaluation | None
    decision: GateDecision
    data: str

    def disagreements(self, head: str = "emotion", limit: int = 20) -> list[dict[str, Any]]:
        """Rows where the two models predict differently, with who was right."""
        if self.baseline_eval is None:
            return []
        cand, base = self.candidate_eval[head], self.baseline_eval[head]
        rows = [i for i in range(self.candidate_eval.rows) if cand.y_pred[i] != base.y_pred[i]]
        return [
            {
                "text": self.candidate_eval.texts[i],
                "true": cand.labels[cand.y_true[i]],
                "candidate": cand.labels[cand.y_pred[i]],
                "baseline": base.labels[base.y_pred[i]],
            }
            for i in rows[:limit]
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "rows": self.candidate_eval.rows,
            "candidate": self.candidate.label,
            "baseline": self.baseline.label if self.baseline else None,
            **self.decision.to_dict(),
        }


def compare_resolved(
    candidate: ResolvedModel,
    baseline: ResolvedModel | None,
    *,
    settings: Settings,
    data: Path | str | None = None,
) -> ComparisonReport:
    """Evaluate two resolved models on the same rows and run the gate."""
    dataset, description = comparison_data(data, settings=settings)
    candidate_eval = evaluate(candidate.load(), dataset)
    baseline_eval = evaluate(baseline.load(), dataset) if baseline is not None else None
    decision = decide(candidate_eval, baseline_eval, GatePolicy.from_settings(settings))
    return ComparisonReport(
        candidate, baseline, candidate_eval, baseline_eval, decision, description
    )


def compare_models(
    *,
    settings: Settings,
    candidate: str = "dynamic",
    baseline: str = "baseline",
    data: Path | str | None = None,
) -> ComparisonReport:
    """Resolve candidate and baseline (paths, designations or versions), compare, gate."""
    cand = resolve_model(candidate, settings=settings)
    try:
        base: ResolvedModel | None = resolve_model(baseline, settings=settings)
    except ModelNotFoundError:
        if baseline != "baseline":
            raise
        base = None  # no baseline yet: the gate uses the absolute minimums
    return compare_resolved(cand, base, settings=settings, data=data)


@dataclass
class LifecycleResult:
    action: str
    changed: bool
    from_version: str | None
    to_version: str
    message: str
    forced: bool = False
    decision: GateDecision | None = None
    audit_id: str | None = None
    refresh: list[RefreshResult] = field(default_factory=list)

    @property
    def refresh_failed(self) -> bool:
        return any(not r.ok for r in self.refresh)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "changed": self.changed,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "message": self.message,
            "forced": self.forced,
            "audit_id": self.audit_id,
            "gate": self.decision.to_dict() if self.decision else None,
            "refresh": [r.to_dict() for r in self.refresh],
        }


def _check_compatible(candidate: ResolvedModel, baseline: ResolvedModel | None) -> None:
    """Both bundles verify (fetch does) and share one label schema."""
    if baseline is None:
        return
    cand, base = read_manifest(candidate.path), read_manifest(baseline.path)
    if cand.schema != base.schema:
        raise PromotionError(
            f"version {candidate.version} has label schema {cand.schema.fingerprint()}, "
            "the baseline "
            f"{baseline.version} has {base.schema.fingerprint()}; nothing was changed"
        )


def apply_designation(
    registry: Registry,
    *,
    settings: Settings,
    action: str,
    expected_from: str | None,
    to_version: str,
    reason: str,
    forced: bool,
    decision: GateDecision | None,
) -> str:
    """Steps 1-4 under the lock; returns the audit entry id."""
    actor = actor_name(settings)
    holder = f"{actor} pid {os.getpid()}"
    audit = AuditLog(registry)
    with promotion_lock(registry, ttl_s=settings.promotion_lock_ttl_s, holder=holder) as lock:
        now = registry.aliases().get("baseline")
        if now != expected_from:
            raise PromotionConflictError(
                f"the baseline moved from {_v(expected_from)} to {_v(now)} while this {action} was "
                "being decided (another promotion won); nothing was changed"
            )
        audit_id = audit.start(
            action=action,
            from_version=expected_from,
            to_version=to_version,
            actor=actor,
            reason=reason,
            forced=forced,
            gate=decision.to_dict() if decision else None,
        )
        lock.set_audit_id(audit_id)
        try:
            registry.set_designation("baseline", to_version)
        except BaseException as exc:
            audit.finish(audit_id, ok=False, error=str(exc))
            raise
        audit.finish(audit_id, ok=True)
    return audit_id


def _v(version: str | None) -> str:
    return f"v{version}" if version else "none"


def refresh_servers(settings: Settings) -> list[RefreshResult]:
    token = settings.refresh_token.get_secret_value() if settings.refresh_token else None
    return fan_out(
        settings.refresh_endpoints,
        token=token,
        timeout_s=settings.refresh_timeout_s,
        retries=settings.refresh_retries,
    )


def _change_baseline(
    registry: Registry,
    *,
    settings: Settings,
    action: str,
    from_version: str | None,
    to_version: str,
    reason: str,
    forced: bool,
    decision: GateDecision | None,
    refresh: bool,
) -> LifecycleResult:
    """Steps 1-5: the guarded alias move with its audit entry, then the refresh fan-out."""
    audit_id = apply_designation(
        registry,
        settings=settings,
        action=action,
        expected_from=from_version,
        to_version=to_version,
        reason=reason,
        forced=forced,
        decision=decision,
    )
    result = LifecycleResult(
        action,
        True,
        from_version,
        to_version,
        f"baseline {_v(from_version)} -> v{to_version}",
        forced=forced,
        decision=decision,
        audit_id=audit_id,
    )
    if refresh:
        result.refresh = refresh_servers(settings)
    return result


def promote(
    *,
    settings: Settings,
    version: str | None = None,
    force: bool = False,
    reason: str | None = None,
    data: Path | str | None = None,
    refresh: bool = True,
) -> LifecycleResult:
    """Gate (unless forced) and move ``baseline`` to ``version`` (default: ``dynamic``)."""
    if force and not (reason and reason.strip()):
        raise PromotionError("a forced promotion needs --reason: say why the gate is skipped")
    registry = Registry.from_settings(settings)
    cache = ModelCache(settings.cache_dir)
    target: VersionInfo = registry.version(version) if version else registry.resolve("dynamic")
    current = registry.designated("baseline")
    if current is not None and current.version == target.version:
        return LifecycleResult(
            "promote",
            False,
            current.version,
            target.version,
            f"v{target.version} is already the baseline; nothing changed",
        )
    candidate = fetch_version(registry, cache, target)
    baseline = fetch_version(registry, cache, current) if current else None
    _check_compatible(candidate, baseline)
    decision: GateDecision | None = None
    if not force:
        decision = compare_resolved(candidate, baseline, settings=settings, data=data).decision
        if not decision.promote:
            raise GateHeldError(
                f"the gate held v{target.version} back; "
                f"the baseline stays {_v(current.version if current else None)}",
                reasons=decision.failures,
            )
    return _change_baseline(
        registry,
        settings=settings,
        action="promote",
        from_version=current.version if current else None,
        to_version=target.version,
        reason=(reason or "").strip() or "gate passed",
        forced=force,
        decision=decision,
        refresh=refresh,
    )


def rollback(
    *, settings: Settings, to: str | None = None, reason: str | None = None, refresh: bool = True
) -> LifecycleResult:
    """Move ``baseline`` back: to ``to``, or to the previous baseline in the audit log."""
    registry = Registry.from_settings(settings)
    current = registry.designated("baseline")
    if current is None:
        raise PromotionError("no baseline is designated; there is nothing to roll back")
    target_version = to or AuditLog(registry).previous_baseline(current.version)
    if target_version is None:
        raise PromotionError(
            f"the audit log has no baseline before v{current.version}; name one with --to V"
        )
    if target_version == current.version:
        raise PromotionError(f"v{target_version} is already the baseline; nothing changed")
    target = registry.version(target_version)
    fetch_version(registry, ModelCache(settings.cache_dir), target)  # verifies before any change
    return _change_baseline(
        registry,
        settings=settings,
        action="rollback",
        from_version=current.version,
        to_version=target.version,
        reason=(reason or "").strip() or "rollback",
        forced=False,
        decision=None,
        refresh=refresh,
    )


def unlock(*, settings: Settings) -> bool:
    """Remove a promotion lock left by a killed process; True if there was one."""
    registry = Registry.from_settings(settings)
    return PromotionLock(registry, ttl_s=0, holder="unlock").force_release()

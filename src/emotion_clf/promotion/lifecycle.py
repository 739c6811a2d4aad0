"""The blue-green lifecycle: promote a candidate, roll the baseline back.

Every change follows the same steps, in this order, under the registry's promotion lock:

1. open an audit entry (status: in progress);
2. move ``baseline`` with a compare-and-set against the version the decision was made
   against (another promotion that won meanwhile makes this one fail, changing nothing);
3. close the audit entry (applied, or failed with the error);
4. drive each rollout the caller passed (for example a managed online endpoint's blue-green
   shift, :class:`~emotion_clf.promotion.rollout.Rollout`) and note its outcome in the audit
   entry, still under the lock, so two promotions cannot drive one endpoint at once; then
   release the lock;
5. tell every API server to reload (``POST /refresh-model``).

Everything that can fail for a reason of the input (unknown version, a bundle that does not
verify, a label schema that differs, a held gate) fails before step 1, so nothing changes.
A process killed anywhere leaves ``baseline`` on exactly one version and, at worst, an
``interrupted`` audit entry.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotion_clf.config import Settings
from emotion_clf.errors import (
    DesignationConflictError,
    GateHeldError,
    PromotionConflictError,
    PromotionError,
)
from emotion_clf.models.bundle import read_manifest
from emotion_clf.promotion.compare import compare_resolved
from emotion_clf.promotion.fanout import RefreshResult, fan_out
from emotion_clf.promotion.gate import GateDecision
from emotion_clf.promotion.rollout import Rollout, RolloutOutcome, run_rollouts
from emotion_clf.registry.backends import open_registry
from emotion_clf.registry.base import ModelRegistry, VersionInfo
from emotion_clf.registry.cache import ModelCache
from emotion_clf.registry.fetch import ResolvedModel, fetch_version

logger = logging.getLogger(__name__)


def actor_name(settings: Settings) -> str:
    return settings.promotion.actor or f"{getpass.getuser()}@{socket.gethostname()}"


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
    rollouts: list[RolloutOutcome] = field(default_factory=list)

    @property
    def refresh_failed(self) -> bool:
        return any(not r.ok for r in self.refresh)

    @property
    def rollout_failed(self) -> bool:
        return any(not r.ok for r in self.rollouts)

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
            "rollouts": [r.to_dict() for r in self.rollouts],
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
    registry: ModelRegistry,
    *,
    settings: Settings,
    action: str,
    expected_from: str | None,
    to_version: str,
    reason: str,
    forced: bool,
    decision: GateDecision | None,
    then: Callable[[str], None] | None = None,
) -> str:
    """Steps 1-3 under the promotion lock, then ``then(audit_id)`` (step 4) before the lock
    is released; returns the audit entry id."""
    actor = actor_name(settings)
    holder = f"{actor} pid {os.getpid()}"
    audit = registry.audit
    lock = registry.promotion_lock(ttl_s=settings.registry.promotion_lock_ttl_s, holder=holder)
    with lock:
        # a lost race is found before the audit entry opens, so it leaves no entry behind
        _check_unchanged(registry.designations().get("baseline"), expected_from, action)
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
            registry.set_designation("baseline", to_version, expected=expected_from)
        except BaseException as exc:
            audit.finish(audit_id, ok=False, error=str(exc))
            if isinstance(exc, DesignationConflictError):
                _check_unchanged(exc.actual, expected_from, action)
            raise
        audit.finish(audit_id, ok=True)
        if then is not None:
            then(audit_id)
    return audit_id


def _check_unchanged(now: str | None, expected: str | None, action: str) -> None:
    if now != expected:
        raise PromotionConflictError(
            f"the baseline moved from {_v(expected)} to {_v(now)} while this {action} was "
            "being decided (another promotion won); nothing was changed"
        )


def _v(version: str | None) -> str:
    return f"v{version}" if version else "none"


def refresh_servers(settings: Settings) -> list[RefreshResult]:
    token = (
        settings.promotion.refresh_token.get_secret_value()
        if settings.promotion.refresh_token
        else None
    )
    return fan_out(
        settings.promotion.refresh_endpoints,
        token=token,
        timeout_s=settings.promotion.refresh_timeout_s,
        retries=settings.promotion.refresh_retries,
    )


def _change_baseline(
    registry: ModelRegistry,
    *,
    settings: Settings,
    action: str,
    from_version: str | None,
    to_version: str,
    reason: str,
    forced: bool,
    decision: GateDecision | None,
    refresh: bool,
    rollouts: Sequence[Rollout] = (),
) -> LifecycleResult:
    """Steps 1-5: the guarded alias move with its audit entry, the rollouts (each noted in
    the entry), then the refresh fan-out."""
    outcomes: list[RolloutOutcome] = []

    def drive_rollouts(audit_id: str) -> None:
        outcomes.extend(run_rollouts(rollouts, to_version))
        for outcome in outcomes:
            registry.audit.annotate(audit_id, f"rollout.{outcome.name}", outcome.note())

    audit_id = apply_designation(
        registry,
        settings=settings,
        action=action,
        expected_from=from_version,
        to_version=to_version,
        reason=reason,
        forced=forced,
        decision=decision,
        then=drive_rollouts if rollouts else None,
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
    result.rollouts = outcomes
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
    rollouts: Sequence[Rollout] = (),
) -> LifecycleResult:
    """Gate (unless forced) and move ``baseline`` to ``version`` (default: ``dynamic``);
    then drive ``rollouts`` (an endpoint, say) and tell the API servers to reload."""
    if force and not (reason and reason.strip()):
        raise PromotionError("a forced promotion needs --reason: say why the gate is skipped")
    registry = open_registry(settings, create=False)  # a promotion never starts a registry
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
        rollouts=rollouts,
    )


def rollback(
    *,
    settings: Settings,
    to: str | None = None,
    reason: str | None = None,
    refresh: bool = True,
    rollouts: Sequence[Rollout] = (),
) -> LifecycleResult:
    """Move ``baseline`` back: to ``to``, or to the previous baseline in the audit log; then
    drive ``rollouts`` with it, as :func:`promote` does."""
    registry = open_registry(settings, create=False)
    current = registry.designated("baseline")
    if current is None:
        raise PromotionError("no baseline is designated; there is nothing to roll back")
    target_version = to or registry.audit.previous_baseline(current.version)
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
        rollouts=rollouts,
    )


def unlock(*, settings: Settings) -> bool:
    """Remove a promotion lock left by a killed process; True if there was one."""
    return open_registry(settings, create=False).break_lock()


@dataclass(frozen=True)
class PromotionOutcome:
    """What a promotion run did: promoted, held by the gate, or nothing to do.

    A held gate is an outcome, not an error: the report says why, and the run succeeds.
    """

    status: str  # promoted | held | unchanged
    candidate: str
    result: LifecycleResult | None
    held_reasons: tuple[str, ...] = ()
    message: str = ""

    @property
    def summary(self) -> str:
        return self.message or (self.result.message if self.result else self.status)


def promote_or_hold(
    *,
    settings: Settings,
    version: str | None = None,
    force: bool = False,
    reason: str | None = None,
    data: Path | str | None = None,
) -> PromotionOutcome:
    """:func:`promote`, with a held gate as an outcome instead of an error."""
    candidate = version or open_registry(settings, read_only=True).resolve("dynamic").version
    try:
        result = promote(
            settings=settings, version=candidate, force=force, reason=reason, data=data
        )
    except GateHeldError as exc:
        logger.info("gate held: %s", exc)
        return PromotionOutcome(
            "held", candidate, None, held_reasons=exc.reasons, message=str(exc).splitlines()[0]
        )
    return PromotionOutcome("promoted" if result.changed else "unchanged", candidate, result)

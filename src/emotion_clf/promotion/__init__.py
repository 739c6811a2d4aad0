"""Promotion: the meaning of the blue-green lifecycle, on top of the registry's face.

- :func:`compare_models`: candidate and baseline on the same rows, and the gate's decision
  (:class:`ComparisonReport`);
- :func:`decide` / :class:`GatePolicy`: the gate, a pure function with its reasons;
- :func:`promote`, :func:`promote_or_hold`, :func:`rollback`: the guarded baseline change
  with its audit entry, then the refresh fan-out (:func:`refresh_servers`);
- :class:`Rollout`: what a promotion drives after the baseline moves (an endpoint's
  traffic shift, built outside this package), its outcome :class:`RolloutOutcome`;
- :func:`unlock`: break a promotion lock left by a killed process.
"""

from __future__ import annotations

from emotion_clf.promotion.compare import ComparisonReport, compare_models, compare_resolved
from emotion_clf.promotion.fanout import RefreshResult, fan_out
from emotion_clf.promotion.gate import Check, GateDecision, GatePolicy, decide
from emotion_clf.promotion.lifecycle import (
    LifecycleResult,
    PromotionOutcome,
    apply_designation,
    promote,
    promote_or_hold,
    refresh_servers,
    rollback,
    unlock,
)
from emotion_clf.promotion.rollout import Rollout, RolloutOutcome, run_rollouts

__all__ = [
    "Check",
    "ComparisonReport",
    "GateDecision",
    "GatePolicy",
    "LifecycleResult",
    "PromotionOutcome",
    "RefreshResult",
    "Rollout",
    "RolloutOutcome",
    "apply_designation",
    "compare_models",
    "compare_resolved",
    "decide",
    "fan_out",
    "promote",
    "promote_or_hold",
    "refresh_servers",
    "rollback",
    "run_rollouts",
    "unlock",
]

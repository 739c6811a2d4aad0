"""The promotion gate: a pure decision from two evaluations and a policy.

With a baseline, the candidate is promoted only if every check passes:

1. **gain**: the primary head's macro-F1 rises by at least ``min_macro_f1_gain`` and the
   paired bootstrap 95% interval of the difference lies above zero (a significant gain);
2. **accuracy**: McNemar's exact test on the primary head's per-row correctness does not
   show the candidate significantly *worse* (p < ``alpha`` with more baseline-only wins);
3. **per-class**: no class with at least ``min_class_support`` rows, on any head, loses
   more than ``max_class_f1_drop`` of F1;
4. **other heads**: no other head's macro-F1 drops by more than ``max_head_macro_f1_drop``.

With no baseline yet, the candidate passes on the absolute minimums alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from emotion_clf.config import GateSettings
from emotion_clf.data.schema import HEADS
from emotion_clf.evaluation.metrics import Evaluation
from emotion_clf.evaluation.paired import Comparison, compare_evaluations


@dataclass(frozen=True)
class GatePolicy:
    """The gate's thresholds. Their defaults live in one place, the settings
    (``EMOTION_CLF_GATE_*``, the ``gate`` section): build a policy with :meth:`from_section`."""

    min_macro_f1_gain: float
    alpha: float
    max_class_f1_drop: float
    min_class_support: int
    max_head_macro_f1_drop: float
    first_min_accuracy: float
    first_min_macro_f1: float
    bootstrap_samples: int
    primary_head: str = "emotion"

    @classmethod
    def from_section(cls, gate: GateSettings) -> GatePolicy:
        return cls(
            min_macro_f1_gain=gate.min_macro_f1_gain,
            alpha=gate.alpha,
            max_class_f1_drop=gate.max_class_f1_drop,
            min_class_support=gate.min_class_support,
            max_head_macro_f1_drop=gate.max_head_macro_f1_drop,
            first_min_accuracy=gate.first_min_accuracy,
            first_min_macro_f1=gate.first_min_macro_f1,
            bootstrap_samples=gate.bootstrap_samples,
        )


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    checks: tuple[Check, ...]
    policy: GatePolicy
    comparison: Comparison | None = None

    @property
    def decision(self) -> str:
        return "promote" if self.promote else "hold"

    @property
    def reasons(self) -> list[str]:
        return [f"{'pass' if c.passed else 'FAIL'} {c.name}: {c.detail}" for c in self.checks]

    @property
    def failures(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if not c.passed]

    def summary(self) -> str:
        return f"{self.decision}: " + "; ".join(
            self.failures if not self.promote else [c.name for c in self.checks]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reasons": self.reasons,
            "checks": [c.to_dict() for c in self.checks],
            "policy": asdict(self.policy),
            "comparison": self.comparison.to_dict() if self.comparison else None,
        }


def _first_model(candidate: Evaluation, policy: GatePolicy) -> GateDecision:
    head = candidate[policy.primary_head]
    checks = (
        Check(
            "minimum accuracy",
            head.accuracy >= policy.first_min_accuracy,
            f"no baseline yet; {policy.primary_head} accuracy {head.accuracy:.3f} "
            f"(minimum {policy.first_min_accuracy:.3f})",
        ),
        Check(
            "minimum macro-F1",
            head.macro_f1 >= policy.first_min_macro_f1,
            f"no baseline yet; {policy.primary_head} macro-F1 {head.macro_f1:.3f} "
            f"(minimum {policy.first_min_macro_f1:.3f})",
        ),
    )
    return GateDecision(promote=all(c.passed for c in checks), checks=checks, policy=policy)


def decide(
    candidate: Evaluation, baseline: Evaluation | None, policy: GatePolicy, *, seed: int = 0
) -> GateDecision:
    """Promote or hold, with every reason. Deterministic for a given seed."""
    if baseline is None:
        return _first_model(candidate, policy)
    comparison = compare_evaluations(
        candidate, baseline, samples=policy.bootstrap_samples, seed=seed
    )
    primary = comparison[policy.primary_head]
    gain = primary.deltas["macro_f1"]
    low, high = primary.macro_f1_ci
    checks = [
        Check(
            "significant gain",
            gain >= policy.min_macro_f1_gain and low > 0,
            f"{policy.primary_head} macro-F1 {primary.baseline['macro_f1']:.3f} -> "
            f"{primary.candidate['macro_f1']:.3f} ({gain:+.3f}, 95% CI {low:+.3f}..{high:+.3f}); "
            f"needs a gain of at least {policy.min_macro_f1_gain:+.3f} with the interval above 0",
        )
    ]
    test = primary.mcnemar
    worse = test.p_value < policy.alpha and test.baseline_only > test.candidate_only
    checks.append(
        Check(
            "no significant accuracy loss",
            not worse,
            f"McNemar exact p={test.p_value:.4g} ({test.candidate_only} rows only the candidate "
            f"gets right, {test.baseline_only} only the baseline; alpha {policy.alpha})",
        )
    )
    regressions = [
        f"{head}/{c.label} {c.baseline_f1:.3f}->{c.candidate_f1:.3f} (n={c.support})"
        for head in HEADS
        for c in comparison[head].classes
        if c.support >= policy.min_class_support and c.delta < -policy.max_class_f1_drop
    ]
    checks.append(
        Check(
            "no per-class regression",
            not regressions,
            (
                "F1 dropped by more than "
                f"{policy.max_class_f1_drop:.2f} for: {', '.join(regressions)}"
                if regressions
                else f"no class with >= {policy.min_class_support} rows lost more than "
                f"{policy.max_class_f1_drop:.2f} F1"
            ),
        )
    )
    other_drops = [
        f"{head} {comparison[head].baseline['macro_f1']:.3f}"
        f"->{comparison[head].candidate['macro_f1']:.3f}"
        for head in HEADS
        if head != policy.primary_head
        and comparison[head].deltas["macro_f1"] < -policy.max_head_macro_f1_drop
    ]
    checks.append(
        Check(
            "other heads hold",
            not other_drops,
            (
                f"macro-F1 dropped by more than {policy.max_head_macro_f1_drop:.2f}: "
                + ", ".join(other_drops)
                if other_drops
                else "sub-emotion and intensity macro-F1 within "
                f"{policy.max_head_macro_f1_drop:.2f} of the baseline or better"
            ),
        )
    )
    return GateDecision(
        promote=all(c.passed for c in checks),
        checks=tuple(checks),
        comparison=comparison,
        policy=policy,
    )

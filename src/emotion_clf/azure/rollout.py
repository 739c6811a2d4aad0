"""Blue-green traffic shifting, the same for every Azure target.

A target (a managed online endpoint's deployments, a Container App's revision labels) serves
two colours. :func:`roll_out` moves traffic from the colour serving to the new one in steps
(for example 10, 50, 100 percent), runs a health check of the new colour after each step,
and on the first failed check puts all traffic back on the old colour. The target only sets
weights and checks health: the decisions are here, pure and tested against a fake target
that records the traffic it was told to set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from emotion_clf.errors import ConfigError

COLOURS: tuple[str, str] = ("blue", "green")
DEFAULT_STEPS: tuple[int, ...] = (10, 50, 100)


def other_colour(colour: str | None) -> str:
    """The colour not serving: green when blue serves (or nothing does yet), else blue."""
    if colour is not None and colour not in COLOURS:
        raise ConfigError(f"unknown colour {colour!r}; colours are {', '.join(COLOURS)}")
    return "blue" if colour == "green" else "green"


def parse_steps(text: str | Sequence[int]) -> tuple[int, ...]:
    """``"10,50,100"`` -> ``(10, 50, 100)``: increasing percentages that end at 100."""
    try:
        steps = tuple(int(s) for s in (text.split(",") if isinstance(text, str) else text))
    except ValueError as exc:
        raise ConfigError(f"traffic steps {text!r}: percentages like 10,50,100") from exc
    if not steps or steps[-1] != 100:
        raise ConfigError(f"traffic steps {text!r} must end at 100")
    if any(not 0 < s <= 100 for s in steps) or list(steps) != sorted(set(steps)):
        raise ConfigError(f"traffic steps {text!r} must increase, each in 1..100")
    return steps


class TrafficTarget(Protocol):
    """What a rollout needs of a deployment target."""

    def set_traffic(self, weights: Mapping[str, int]) -> None:
        """Send ``weights[colour]`` percent of live traffic to each colour (sums to 100)."""
        ...

    def check(self, colour: str) -> tuple[bool, str]:
        """Health-check one colour directly (not through the traffic split)."""
        ...


@dataclass(frozen=True)
class StepResult:
    weights: Mapping[str, int]
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"weights": dict(self.weights), "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True)
class RolloutResult:
    old: str
    new: str
    ok: bool
    rolled_back: bool
    steps: tuple[StepResult, ...]
    weights: Mapping[str, int]  # what the target serves at the end

    @property
    def message(self) -> str:
        if self.ok:
            return f"{self.new} serves 100% (was {self.old})"
        failed = next((s for s in self.steps if not s.passed), None)
        where = f" at {failed.weights.get(self.new, 0)}%" if failed else ""
        back = f"; traffic moved back to {self.old}" if self.rolled_back else ""
        return f"{self.new} failed its health check{where}: {failed.detail if failed else ''}{back}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "ok": self.ok,
            "rolled_back": self.rolled_back,
            "message": self.message,
            "weights": dict(self.weights),
            "steps": [s.to_dict() for s in self.steps],
        }


def roll_out(
    target: TrafficTarget, *, old: str | None, new: str, steps: Sequence[int] = DEFAULT_STEPS
) -> RolloutResult:
    """Smoke-test ``new`` at 0%, then shift traffic to it step by step, checking each step.

    ``old`` is the colour serving now (None: nothing serves yet, so the first step gives
    ``new`` everything). A failed check moves all traffic back to ``old``.
    """
    steps = parse_steps(steps)
    if old == new:
        raise ConfigError(f"{new} is already the colour serving; deploy to the other one")
    results: list[StepResult] = []

    def weights(percent: int) -> dict[str, int]:
        return {new: percent, old: 100 - percent} if old is not None else {new: 100}

    def fail_back(current: dict[str, int]) -> RolloutResult:
        if old is None:
            return RolloutResult("-", new, False, False, tuple(results), current)
        back = {old: 100, new: 0}
        target.set_traffic(back)
        return RolloutResult(old, new, False, True, tuple(results), back)

    passed, detail = target.check(new)  # before any live traffic reaches it
    current = weights(0) if old is not None else {new: 0}
    results.append(StepResult(current, passed, f"smoke test at 0%: {detail}"))
    if not passed:
        return fail_back(current)
    for percent in steps if old is not None else (100,):
        current = weights(percent)
        target.set_traffic(current)
        passed, detail = target.check(new)
        results.append(StepResult(current, passed, detail))
        if not passed:
            return fail_back(current)
    return RolloutResult(old or "-", new, True, False, tuple(results), current)


def roll_back(target: TrafficTarget, *, to: str, other: str) -> Mapping[str, int]:
    """All traffic to ``to`` at once (a rollback does not step)."""
    weights = {to: 100, other: 0}
    target.set_traffic(weights)
    return weights

"""Blue-green traffic shifting, the same for every Azure target.

A target (a managed online endpoint's deployments, a Container App's revision labels) serves
two colours. :func:`roll_out` moves traffic from the colour serving to the new one in steps
(for example 10, 50, 100 percent), holds each step for a while, checks the new colour, and
on the first failure puts all traffic back on the old colour.

It is a small state machine with one invariant: **whatever fails, wherever, the target ends
with all live traffic on one colour** (the old one, unless the new one has taken 100% and
passed its last check), and the result says which. A failure is a failed check, a check that
raises, or any call to the target that raises (a 409 "operation in progress", a throttle, a
lost connection, a token that expired mid-rollout, Ctrl-C): each ends the rollout the same
way. Moving traffic back is retried, because the call that just failed may fail once more;
only when every retry fails does the result say the traffic may still be split
(``settled`` False), with what it last asked for.

The target only sets weights and checks health: the decisions are here, pure and tested
against fake targets that fail at every call in turn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from emotion_clf.errors import ConfigError

logger = logging.getLogger(__name__)

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


def live_colours(traffic: Mapping[str, int] | None) -> dict[str, int]:
    """The colours that carry live traffic now, with their shares."""
    return {c: int(w) for c, w in (traffic or {}).items() if c in COLOURS and int(w) > 0}


def split_problem(
    traffic: Mapping[str, int] | None, mirror: Mapping[str, int] | None
) -> str | None:
    """Why a target is not in a state a rollout may start from, or None.

    A rollout starts from one colour at 100% (or none yet) and no mirrored traffic: deploying
    to the idle colour while it carries live users would change what they get, unchecked.
    """
    live = live_colours(traffic)
    mirrored = {c: int(w) for c, w in (mirror or {}).items() if int(w) > 0}
    if len(live) > 1:
        shares = ", ".join(f"{c} {w}%" for c, w in sorted(live.items()))
        return f"live traffic is split ({shares})"
    if mirrored:
        return "traffic is mirrored to " + ", ".join(f"{c} ({w}%)" for c, w in mirrored.items())
    return None


class TrafficTarget(Protocol):
    """What a rollout needs of a deployment target."""

    def set_traffic(self, weights: Mapping[str, int]) -> None:
        """Send ``weights[colour]`` percent of live traffic to each colour (sums to 100)."""
        ...

    def check(self, colour: str) -> tuple[bool, str]:
        """Health-check one colour directly (not through the traffic split)."""
        ...


def error_text(exc: BaseException) -> str:
    """One line for an exception from a cloud call: its first line, else its type."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:300]}" if text else type(exc).__name__


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
    # what the target serves at the end; None when moving traffic back failed on every try
    weights: Mapping[str, int] | None
    stuck: str | None = None  # why traffic could not be moved back (the last error)
    asked: Mapping[str, int] | None = None  # the last split the target was told to set
    warnings: tuple[str, ...] = field(default=())

    @property
    def settled(self) -> bool:
        """All live traffic is known to be on one colour (or there is only one colour)."""
        return self.weights is not None or self.old == "-"

    @property
    def serving(self) -> str | None:
        """The colour that carries all live traffic at the end, or None if unknown."""
        live = live_colours(self.weights)
        return next(iter(live)) if len(live) == 1 else None

    @property
    def message(self) -> str:
        if self.ok:
            text = f"{self.new} serves 100% (was {self.old})"
            return text + "".join(f"; warning: {w}" for w in self.warnings)
        failed = next((s for s in self.steps if not s.passed), None)
        where = f" at {failed.weights.get(self.new, 0)}%" if failed else ""
        text = f"{self.new} failed{where}: {failed.detail if failed else 'not started'}"
        if self.rolled_back:
            return f"{text}; all traffic moved back to {self.old}"
        if not self.settled:
            asked = ", ".join(f"{c} {w}%" for c, w in (self.asked or {}).items())
            return (
                f"{text}; moving traffic back to {self.old} failed too ({self.stuck}): "
                f"the target may still split traffic (last asked: {asked}). Move it by "
                f"hand: all traffic to {self.old}"
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "ok": self.ok,
            "rolled_back": self.rolled_back,
            "settled": self.settled,
            "serving": self.serving,
            "message": self.message,
            "weights": dict(self.weights) if self.weights is not None else None,
            "stuck": self.stuck,
            "warnings": list(self.warnings),
            "steps": [s.to_dict() for s in self.steps],
        }


@dataclass(frozen=True)
class Pacing:
    """How long each step is held before its check, and how moving back is retried."""

    hold_s: float = 0.0
    retries: int = 3
    retry_wait_s: float = 5.0
    sleep: Callable[[float], None] = time.sleep


class MirrorTarget(TrafficTarget, Protocol):
    """A target that can also copy a share of live requests to a colour (answers dropped).
    Its ``set_traffic`` ends any mirror, so moving traffic back also stops the copy."""

    def mirror(self, colour: str, percent: int) -> None: ...


@dataclass(frozen=True)
class Mirror:
    """Before any live step: copy ``percent`` of live requests to the new colour for
    ``seconds``, then check it; a failure stops the rollout like a failed step."""

    percent: int
    seconds: float


class _Rollout:
    """One run of :func:`roll_out`: the steps it took and the moves it made."""

    def __init__(self, target: TrafficTarget, old: str | None, new: str, pacing: Pacing) -> None:
        self.target, self.old, self.new, self.pacing = target, old, new, pacing
        self.steps: list[StepResult] = []
        self.asked: dict[str, int] | None = None

    def weights(self, percent: int) -> dict[str, int]:
        if self.old is None:
            return {self.new: percent}
        return {self.new: percent, self.old: 100 - percent}

    def move(self, weights: dict[str, int]) -> None:
        self.asked = weights
        self.target.set_traffic(weights)

    def check(self) -> tuple[bool, str]:
        try:
            return self.target.check(self.new)
        except Exception as exc:
            return False, f"the check raised {error_text(exc)}"

    def result(self, ok: bool, weights: Mapping[str, int]) -> RolloutResult:
        return RolloutResult(self.old or "-", self.new, ok, False, tuple(self.steps), weights)

    def fail_back(self) -> RolloutResult:
        """All traffic to the old colour, retried; or the first deployment left as it is."""
        if self.old is None:  # nothing to go back to: the only colour keeps what it has
            return self.result(False, self.asked or {self.new: 0})
        back = {self.old: 100, self.new: 0}
        last: BaseException | None = None
        for attempt in range(self.pacing.retries + 1):
            if attempt:
                self.pacing.sleep(self.pacing.retry_wait_s * 2 ** (attempt - 1))
            try:
                self.move(back)
            except Exception as exc:
                last = exc
                logger.warning("moving all traffic back to %s failed: %s", self.old, exc)
                continue
            return RolloutResult(self.old, self.new, False, True, tuple(self.steps), back)
        return RolloutResult(
            self.old,
            self.new,
            False,
            False,
            tuple(self.steps),
            None,
            stuck=error_text(last) if last else "unknown",
            asked=self.asked,
        )

    def mirrored(self, mirror: Mirror) -> bool:
        """The mirror phase; False (with its step recorded) when it failed."""
        target: Any = self.target
        zero = self.weights(0)
        self.asked = zero  # from here on a failure (or Ctrl-C) must clear the mirror
        try:
            target.mirror(self.new, mirror.percent)
        except Exception as exc:
            self.steps.append(StepResult(zero, False, f"mirroring: {error_text(exc)}"))
            return False
        self.pacing.sleep(mirror.seconds)
        passed, detail = self.check()
        what = f"{mirror.percent}% mirrored for {mirror.seconds:g}s"
        try:
            target.mirror(self.new, 0)
        except Exception as exc:
            self.steps.append(StepResult(zero, False, f"{what}; ending it: {error_text(exc)}"))
            return False
        self.steps.append(StepResult(zero, passed, f"{what}: {detail}"))
        return passed

    def run(self, steps: Sequence[int], mirror: Mirror | None) -> RolloutResult:
        passed, detail = self.check()  # before any live traffic reaches it
        zero = self.weights(0)
        self.steps.append(StepResult(zero, passed, f"smoke test at 0%: {detail}"))
        if not passed:
            return self.fail_back()
        if mirror is not None and mirror.percent and self.old is not None:
            passed = self.mirrored(mirror)
        if not passed:
            return self.fail_back()
        for percent in steps if self.old is not None else (100,):
            current = self.weights(percent)
            try:
                self.move(current)
            except Exception as exc:
                self.steps.append(StepResult(current, False, f"setting traffic: {error_text(exc)}"))
                return self.fail_back()
            if self.pacing.hold_s:
                self.pacing.sleep(self.pacing.hold_s)
            passed, detail = self.check()
            self.steps.append(StepResult(current, passed, detail))
            if not passed:
                return self.fail_back()
        return self.result(True, current)


def roll_out(
    target: TrafficTarget,
    *,
    old: str | None,
    new: str,
    steps: Sequence[int] = DEFAULT_STEPS,
    pacing: Pacing | None = None,
    mirror: Mirror | None = None,
) -> RolloutResult:
    """Smoke-test ``new`` at 0%, optionally mirror live traffic to it (``target`` must then
    be a :class:`MirrorTarget`), then shift traffic to it step by step, checking each step.

    ``old`` is the colour serving now (None: nothing serves yet, so the first step gives
    ``new`` everything). Any failure moves all traffic back to ``old``; an interrupt
    (Ctrl-C) does too, and is raised again afterwards.
    """
    steps = parse_steps(steps)
    if old == new:
        raise ConfigError(f"{new} is already the colour serving; deploy to the other one")
    run = _Rollout(target, old, new, pacing or Pacing())
    try:
        return run.run(steps, mirror)
    except BaseException:
        if run.asked is not None:  # interrupted after traffic moved: put it back first
            result = run.fail_back()
            logger.warning("rollout interrupted: %s", result.message)
        raise


def roll_back(target: TrafficTarget, *, to: str, other: str) -> Mapping[str, int]:
    """All traffic to ``to`` at once (a rollback does not step)."""
    weights = {to: 100, other: 0}
    target.set_traffic(weights)
    return weights

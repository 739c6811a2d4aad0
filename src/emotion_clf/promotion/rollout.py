"""What a promotion may drive after the baseline moves, besides the ``/refresh-model`` fan-out.

A :class:`Rollout` puts a version into service somewhere (for example a managed online
endpoint's blue-green traffic shift, built by :mod:`emotion_clf.azure`); this package knows
only the protocol, so it never imports a cloud SDK. :func:`run_rollouts` runs each one, and
turns an exception into a failed outcome so that one broken target does not hide the others.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from emotion_clf.errors import EmotionClfError

logger = logging.getLogger(__name__)


class RolloutResult(Protocol):
    @property
    def ok(self) -> bool: ...

    @property
    def message(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


class Rollout(Protocol):
    """Something that serves the baseline and follows it when it moves."""

    @property
    def name(self) -> str:
        """Where it rolls out, for reports and the audit entry (``endpoint:emotion-clf``)."""
        ...

    def roll_out(self, version: str) -> RolloutResult:
        """Serve ``version``; the result says whether it worked and what was done."""
        ...


@dataclass(frozen=True)
class RolloutOutcome:
    """One rollout's result as the lifecycle records it."""

    name: str
    ok: bool
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "message": self.message, "detail": self.detail}

    def note(self) -> str:
        """The audit note: compact JSON."""
        return json.dumps(self.to_dict(), separators=(",", ":"))


def run_rollouts(rollouts: Sequence[Rollout], version: str) -> list[RolloutOutcome]:
    """Each rollout in turn; an error of this package becomes a failed outcome."""
    outcomes = []
    for rollout in rollouts:
        try:
            result = rollout.roll_out(version)
        except EmotionClfError as exc:
            logger.warning("rollout to %s failed: %s", rollout.name, exc)
            outcomes.append(RolloutOutcome(rollout.name, False, str(exc)))
            continue
        outcomes.append(RolloutOutcome(rollout.name, result.ok, result.message, result.to_dict()))
    return outcomes

"""Blue-green traffic shifting against a fake target that records what it was told."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from emotion_clf.azure.rollout import other_colour, parse_steps, roll_back, roll_out
from emotion_clf.errors import ConfigError


class FakeTarget:
    """Records every traffic split; the new colour fails its check at ``fail_at`` percent."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at
        self.traffic: list[dict[str, int]] = []
        self.checks: list[tuple[str, int]] = []

    def set_traffic(self, weights: Mapping[str, int]) -> None:
        assert sum(weights.values()) == 100, weights
        self.traffic.append(dict(weights))

    def check(self, colour: str) -> tuple[bool, str]:
        percent = self.traffic[-1].get(colour, 0) if self.traffic else 0
        self.checks.append((colour, percent))
        if self.fail_at is not None and percent >= self.fail_at:
            return False, "2 of 27 scenarios failed"
        return True, "27 scenarios passed"


def test_traffic_moves_in_steps_with_a_check_after_each() -> None:
    target = FakeTarget()
    result = roll_out(target, old="blue", new="green", steps=(10, 50, 100))
    assert result.ok and not result.rolled_back
    assert target.traffic == [
        {"green": 10, "blue": 90},
        {"green": 50, "blue": 50},
        {"green": 100, "blue": 0},
    ]
    assert target.checks == [("green", 0), ("green", 10), ("green", 50), ("green", 100)]
    assert result.weights == {"green": 100, "blue": 0}
    assert result.message == "green serves 100% (was blue)"


def test_a_failed_check_moves_every_request_back() -> None:
    target = FakeTarget(fail_at=50)
    result = roll_out(target, old="blue", new="green", steps="10,50,100")
    assert not result.ok and result.rolled_back
    assert target.traffic[-1] == {"blue": 100, "green": 0}
    assert [s.passed for s in result.steps] == [True, True, False]
    assert "green failed at 50%: 2 of 27 scenarios failed" in result.message
    assert "all traffic moved back to blue" in result.message
    assert result.to_dict()["steps"][2]["detail"] == "2 of 27 scenarios failed"


def test_a_failed_smoke_test_never_sends_it_live_traffic() -> None:
    target = FakeTarget(fail_at=0)
    result = roll_out(target, old="green", new="blue")
    assert not result.ok and target.traffic == [{"green": 100, "blue": 0}]


def test_the_first_deployment_goes_to_100_after_its_smoke_test() -> None:
    target = FakeTarget()
    result = roll_out(target, old=None, new="green")
    assert result.ok and target.traffic == [{"green": 100}]
    failing = FakeTarget(fail_at=0)
    assert not roll_out(failing, old=None, new="green").ok and failing.traffic == []


def test_rollback_is_one_step() -> None:
    target = FakeTarget()
    assert roll_back(target, to="blue", other="green") == {"blue": 100, "green": 0}
    assert target.traffic == [{"blue": 100, "green": 0}]


@pytest.mark.parametrize("steps", ["", "10,50", "50,10,100", "0,100", "10,10,100", "ten,100"])
def test_bad_steps_are_refused(steps: str) -> None:
    with pytest.raises(ConfigError, match="traffic steps"):
        parse_steps(steps)


def test_colours() -> None:
    assert other_colour(None) == "green" and other_colour("green") == "blue"
    assert other_colour("blue") == "green"
    with pytest.raises(ConfigError, match="unknown colour"):
        other_colour("red")
    with pytest.raises(ConfigError, match="already the colour serving"):
        roll_out(FakeTarget(), old="blue", new="blue")


class RaisingTarget(FakeTarget):
    """Raises ``error`` from the ``at``-th call (set_traffic or check), once."""

    def __init__(self, at: int, error: BaseException) -> None:
        super().__init__()
        self.at, self.error, self.calls = at, error, 0

    def _maybe_raise(self) -> None:
        self.calls += 1
        if self.calls == self.at:
            raise self.error

    def set_traffic(self, weights: Mapping[str, int]) -> None:
        self._maybe_raise()
        super().set_traffic(weights)

    def check(self, colour: str) -> tuple[bool, str]:
        self._maybe_raise()
        return super().check(colour)


@pytest.mark.parametrize("at", range(1, 8))
def test_a_call_that_raises_anywhere_ends_on_the_old_colour(at: int) -> None:
    target = RaisingTarget(at, RuntimeError("(Conflict) an operation is in progress"))
    result = roll_out(target, old="blue", new="green", steps=(10, 50, 100))
    assert not result.ok and result.rolled_back and result.settled
    assert target.traffic[-1] == {"blue": 100, "green": 0} and result.serving == "blue"
    assert "an operation is in progress" in result.message


def test_ctrl_c_mid_rollout_moves_traffic_back_then_stops() -> None:
    target = RaisingTarget(4, KeyboardInterrupt())  # the check after the 10% step
    with pytest.raises(KeyboardInterrupt):
        roll_out(target, old="blue", new="green", steps=(10, 50, 100))
    assert target.traffic == [{"green": 10, "blue": 90}, {"blue": 100, "green": 0}]

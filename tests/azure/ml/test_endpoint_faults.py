"""The rollout's invariant under Azure's failures: whatever call fails, and however, the
endpoint ends with all live traffic on one colour, and the command says which.

Every Azure call a full rollout makes (environment, endpoint, deployments, the check's key
fetch, mirror on and off, each traffic step, the clean-up) is failed in turn, once, in each
way of :data:`tests.azure.ml.endpoint_fakes.KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emotion_clf.azure.ml.endpoint import DeployResult, EndpointRollout, deploy
from emotion_clf.azure.ml.workspace import azure_call
from emotion_clf.azure.rollout import Pacing
from emotion_clf.config import Settings
from emotion_clf.errors import CloudError, ConfigError
from emotion_clf.promotion import promote
from emotion_clf.registry import open_registry
from emotion_clf.training import TrainResult
from tests.azure.ml.endpoint_fakes import KINDS, FakeMlClient, Faults

NO_WAIT = Pacing(hold_s=0.0, retries=3, retry_wait_s=0.0, sleep=lambda s: None)


def key_check(ml: FakeMlClient) -> Callable[[str, str], tuple[bool, str]]:
    """What the live check asks of Azure (the endpoint, its key), without the HTTP part."""

    def check(colour: str, version: str) -> tuple[bool, str]:
        ml.online_endpoints.get(name="e")
        ml.online_endpoints.get_keys(name="e")
        return True, f"{colour} v{version} ok"

    return check


def serving_v2_on_blue(tmp_path: Path) -> FakeMlClient:
    """An endpoint whose blue deployment serves v2 to all traffic."""
    ml = FakeMlClient.make()
    settings = Settings()
    deploy(
        ml,
        endpoint="e",
        version="2",
        settings=settings,
        code_root=tmp_path / "staging",
        steps="100",
        check=lambda c, v: (True, "ok"),
        pacing=NO_WAIT,
    )
    ml.online_endpoints.stored["e"].traffic = {"green": 0, "blue": 100}  # as if v2 was blue
    ml.online_deployments.stored["blue"] = ml.online_deployments.stored.pop("green")
    ml.online_deployments.stored["blue"].name = "blue"
    ml.faults.calls.clear()
    ml.online_endpoints.traffic.clear()
    return ml


def roll_v3(ml: FakeMlClient, tmp_path: Path) -> DeployResult:
    with azure_call("deploying v3 to endpoint e"):  # what the CLI and promote wrap it in
        return deploy(
            ml,
            endpoint="e",
            version="3",
            settings=Settings(),
            code_root=tmp_path / "staging",
            steps="10,50,100",
            mirror_percent=20,
            mirror_seconds=1,
            check=key_check(ml),
            pacing=NO_WAIT,
        )


def test_a_clean_rollout_makes_the_calls_the_fault_sweep_fails(tmp_path: Path) -> None:
    ml = serving_v2_on_blue(tmp_path)
    result = roll_v3(ml, tmp_path)
    assert result.ok and result.deleted == "blue" and ml.live("e") == {"green": 100}
    calls = ml.faults.calls
    # environment, endpoint, deployments, create green, 4 checks + mirror + 3 steps, delete
    assert calls[:4] == [
        "environments.create_or_update",
        "online_endpoints.get",
        "online_deployments.list",
        "online_deployments.begin_create_or_update",
    ]
    assert calls[-1] == "online_deployments.begin_delete"
    assert calls.count("online_endpoints.get_keys") == 5  # smoke, mirror, 3 steps
    assert len(calls) == 25


def test_every_failure_of_every_call_ends_on_one_colour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the scoring environment's build context is staged once, not for each of the 125 runs
    # (what the sweep tests is the calls to Azure, which are all still made)
    from emotion_clf.azure.ml import endpoint

    staged = endpoint.environment("score", name="emotion-clf", out=tmp_path / "staging")
    monkeypatch.setattr(endpoint, "environment", lambda *a, **k: staged)
    clean = serving_v2_on_blue(tmp_path)
    roll_v3(clean, tmp_path)
    total = len(clean.faults.calls)
    endings: dict[str, int] = {}
    for index in range(total):
        for kind in KINDS:
            ml = serving_v2_on_blue(tmp_path)
            ml.faults.fail_at = (index, kind)
            where = f"call {index} ({kind})"
            try:
                result = roll_v3(ml, tmp_path)
            except (CloudError, ConfigError) as exc:
                # raised before any traffic moved: v2 serves everything, and the error says
                # what failed
                assert ml.live("e") == {"blue": 100}, where
                assert str(exc), where
                endings["refused, blue unchanged"] = endings.get("refused, blue unchanged", 0) + 1
                continue
            live = ml.live("e")
            assert list(live.values()) == [100], f"{where}: split {live}"
            assert not ml.online_endpoints.stored["e"].mirror_traffic, where
            served = ml.version_of(next(iter(live)))
            assert result.rollout.settled and result.serving_version == served, where
            if result.ok:  # the new colour took over; at most the clean-up failed
                assert live == {"green": 100} and served == "3", where
                assert result.deleted is None, where  # only the clean-up can have failed
                assert "deleting the old blue deployment" in result.message, where
                endings["green, clean-up failed: a warning"] = (
                    endings.get("green, clean-up failed: a warning", 0) + 1
                )
            else:  # back on the old colour, and the message says so
                assert live == {"blue": 100} and served == "2", where
                assert result.rollout.rolled_back, where
                assert "serves v2 (blue, 100%), not v3" in result.message, where
                endings["moved back to blue"] = endings.get("moved back to blue", 0) + 1
    # the 4 calls before any traffic moves refuse; the clean-up (the last call) warns; every
    # other failure, in every way, moves all traffic back to blue
    assert endings == {
        "refused, blue unchanged": 4 * len(KINDS),
        "green, clean-up failed: a warning": len(KINDS),
        "moved back to blue": (total - 5) * len(KINDS),
    }, endings


def test_when_moving_back_fails_every_time_the_result_says_traffic_may_be_split(
    tmp_path: Path,
) -> None:
    ml = serving_v2_on_blue(tmp_path)
    faults: Any = ml.faults
    original = Faults.call
    updates = {"n": 0}

    def call(self: Faults, name: str, apply: Callable[[], Any]) -> Any:
        if name == "online_endpoints.begin_create_or_update" and self.calls.count(name) >= 2:
            updates["n"] += 1
            self.calls.append(name)
            from azure.core.exceptions import HttpResponseError

            raise HttpResponseError("(Conflict) an operation is in progress")
        return original(self, name, apply)

    faults.call = call.__get__(faults)
    result = roll_v3(ml, tmp_path)
    assert not result.ok and not result.rollout.settled
    assert result.serving_version is None
    assert "may still split traffic" in result.message and "all traffic to blue" in result.message
    assert updates["n"] == 1 + 1 + NO_WAIT.retries  # the step, then every try to move back
    assert result.to_dict()["settled"] is False


def test_a_split_endpoint_is_refused_unless_normalised(tmp_path: Path) -> None:
    ml = serving_v2_on_blue(tmp_path)
    ml.online_endpoints.stored["e"].traffic = {"blue": 90, "green": 10}
    ml.online_deployments.stored["green"] = ml.online_deployments.stored["blue"]
    with pytest.raises(ConfigError, match=r"live traffic is split \(blue 90%, green 10%\)"):
        roll_v3(ml, tmp_path)
    assert ml.live("e") == {"blue": 90, "green": 10}  # nothing was touched
    result = deploy(
        ml,
        endpoint="e",
        version="3",
        settings=Settings(),
        code_root=tmp_path / "staging",
        steps="50,100",
        normalise=True,
        check=lambda c, v: (True, "ok"),
        pacing=NO_WAIT,
    )
    assert result.ok and ml.online_endpoints.traffic == [
        {"blue": 100, "green": 0},  # first all to the majority colour
        {"green": 50, "blue": 50},
        {"green": 100, "blue": 0},
    ]


def test_a_mirrored_endpoint_is_refused_too(tmp_path: Path) -> None:
    ml = serving_v2_on_blue(tmp_path)
    ml.online_endpoints.stored["e"].mirror_traffic = {"green": 10}
    with pytest.raises(ConfigError, match=r"traffic is mirrored to green \(10%\)"):
        roll_v3(ml, tmp_path)


def test_a_failed_mirror_check_stops_the_rollout(tmp_path: Path) -> None:
    ml = serving_v2_on_blue(tmp_path)
    checks: list[int] = []

    def check(colour: str, version: str) -> tuple[bool, str]:
        mirrored = ml.online_endpoints.stored["e"].mirror_traffic or {}
        checks.append(int(mirrored.get(colour, 0)))
        return (len(checks) == 1, "5xx under mirrored traffic" if len(checks) > 1 else "ok")

    result = deploy(
        ml,
        endpoint="e",
        version="3",
        settings=Settings(),
        code_root=tmp_path / "staging",
        steps="10,100",
        mirror_percent=20,
        mirror_seconds=30,
        check=check,
        pacing=NO_WAIT,
    )
    assert checks == [0, 20]  # the smoke test, then the check while mirrored
    assert not result.ok and "20% mirrored for 30s: 5xx under mirrored traffic" in result.message
    assert ml.online_endpoints.traffic == []  # green never got live traffic
    assert ml.live("e") == {"blue": 100} and not ml.online_endpoints.stored["e"].mirror_traffic


def test_each_step_is_held_before_its_check(tmp_path: Path) -> None:
    ml = serving_v2_on_blue(tmp_path)
    slept: list[float] = []
    deploy(
        ml,
        endpoint="e",
        version="3",
        settings=Settings(azureml_metric_gate=False),  # figures: test_metrics.py
        code_root=tmp_path / "staging",
        steps="10,50,100",
        check=lambda c, v: (True, "ok"),
        pacing=Pacing(hold_s=120, sleep=slept.append),
    )
    assert slept == [120, 120, 120]
    assert Settings(azureml={"traffic_hold_s": 300}).azureml.traffic_hold_s == 300


def test_promote_holds_the_promotion_lock_through_its_rollouts(
    lifecycle_settings: Settings, weak_result: TrainResult, tmp_path: Path
) -> None:
    """A second promotion cannot start while the first drives an endpoint."""
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    seen: list[Any] = []

    class Probe:
        name = "endpoint:probe"

        def roll_out(self, version: str) -> Any:
            seen.append(open_registry(lifecycle_settings).lock_state())
            return type("R", (), {"ok": True, "message": "ok", "to_dict": lambda s: {}})()

    result = promote(
        settings=lifecycle_settings, force=True, reason="t", refresh=False, rollouts=[Probe()]
    )
    assert result.changed and seen and seen[0] is not None, seen
    assert open_registry(lifecycle_settings).lock_state() is None  # released after


def test_promote_says_how_the_registry_and_the_endpoint_differ(
    lifecycle_settings: Settings, weak_result: TrainResult, tmp_path: Path
) -> None:
    ml = serving_v2_on_blue(tmp_path)
    open_registry(lifecycle_settings).register(weak_result)  # v1 becomes the baseline
    rollout = EndpointRollout(
        ml, endpoint="e", settings=lifecycle_settings, code_root=tmp_path / "s", steps="10,100"
    )
    result = promote(
        settings=lifecycle_settings, force=True, reason="t", refresh=False, rollouts=[rollout]
    )
    assert result.changed and result.rollout_failed  # nothing answers its smoke test here
    assert ml.live("e") == {"blue": 100}
    assert "serves v2 (blue, 100%), not v1" in result.rollouts[0].message


def test_autoscale_follows_the_colour_that_serves(tmp_path: Path) -> None:
    """Azure's autoscale setting is bound to one deployment: after each cut-over it points at
    the new colour, and a failure to move it is a warning, not a failed rollout."""
    from emotion_clf.azure.ml.autoscale import AutoscalePolicy, Autoscaler
    from emotion_clf.azure.sdk import AzureTarget

    class Settings_:
        def __init__(self) -> None:
            self.calls: list[tuple[str, str, Any]] = []

        def create_or_update(self, group: str, name: str, setting: Any) -> Any:
            setting.serialize()  # the SDK's own model serialises
            self.calls.append((group, name, setting))
            return setting

    monitor = type("Monitor", (), {"autoscale_settings": Settings_()})()
    target = AzureTarget(
        subscription_id="0", resource_group="rg", location="westeurope", workspace="ws"
    )
    scaler = Autoscaler(target, AutoscalePolicy(minimum=2, maximum=6), client=monitor)
    ml = serving_v2_on_blue(tmp_path)
    ml.online_endpoints.stored["e"].location = "westeurope"

    def roll(version: str) -> DeployResult:
        return deploy(
            ml, endpoint="e", version=version, settings=Settings(),
            code_root=tmp_path / "staging", steps="100", check=lambda c, v: (True, "ok"),
            pacing=NO_WAIT, autoscaler=scaler,
        )  # fmt: skip

    assert roll("3").ok
    group, name, setting = monitor.autoscale_settings.calls[-1]
    assert (group, name) == ("rg", "e-autoscale")
    assert setting.target_resource_uri.endswith("/onlineEndpoints/e/deployments/green")
    assert setting.profiles[0].capacity.maximum == "6"
    assert roll("4").ok  # blue now serves: the one setting follows it
    assert monitor.autoscale_settings.calls[-1][2].target_resource_uri.endswith("/blue")
    assert len({c[1] for c in monitor.autoscale_settings.calls}) == 1

    def broken(*a: Any) -> Any:
        raise RuntimeError("(AuthorizationFailed) no Monitoring Contributor role")

    monitor.autoscale_settings.create_or_update = broken
    result = roll("5")
    assert result.ok and "autoscale still points at the old colour" in result.message

"""Blue-green on a managed online endpoint, against a fake ``MLClient`` that keeps the real
``ManagedOnlineEndpoint`` / ``ManagedOnlineDeployment`` entities it is given and records every
traffic split. Its scoring URI is the real inference server of tests/azure/conftest.py
(serving version 3), so the default health check between steps is the real one.
The fault-injection tests are in test_endpoint_faults.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emotion_clf.azure.ml.endpoint import (
    EndpointRollout,
    deploy,
    endpoint_status,
    rollback_endpoint,
)
from emotion_clf.config import Settings
from emotion_clf.errors import ModelNotFoundError
from emotion_clf.promotion import promote
from emotion_clf.registry import open_registry
from emotion_clf.training import TrainResult
from tests.azure.ml.endpoint_fakes import Done, Endpoints, FakeMlClient


@pytest.fixture
def ml(scoring_server: str) -> FakeMlClient:
    return FakeMlClient.make(scoring_server)


def fail_at(percent: int, endpoint: Endpoints) -> Callable[[str, str], tuple[bool, str]]:
    """A check that fails once the new colour carries ``percent`` of live traffic."""

    def check(colour: str, version: str) -> tuple[bool, str]:
        share = endpoint.traffic[-1].get(colour, 0) if endpoint.traffic else 0
        return (share < percent, f"{colour} at {share}%")

    return check


def run(ml: FakeMlClient, settings: Settings, tmp_path: Path, version: str, **kw: Any) -> Any:
    return deploy(
        ml,
        endpoint="emotion-clf",
        version=version,
        settings=settings,
        code_root=tmp_path / "staging",
        steps=kw.pop("steps", "10,50,100"),
        **kw,
    )


def test_first_deploy_creates_the_endpoint_and_checks_the_real_server(
    ml: FakeMlClient, workspace: Path, tmp_path: Path
) -> None:
    settings = Settings()
    result = run(ml, settings, tmp_path, "3")  # the server serves version 3: checks pass
    assert result.ok and result.colour == "green", result.to_dict()
    assert ml.online_endpoints.traffic == [{"green": 100}]
    assert ml.environments.created == ["emotion-clf-score"]
    deployment = ml.online_deployments.stored["green"]
    assert deployment.model == "azureml:emotion-clf:3"
    assert (Path(deployment.code_configuration.code) / "score.py").is_file()
    steps = result.rollout.to_dict()["steps"]
    assert steps[0]["detail"].startswith("smoke test at 0%: 5 scenarios passed")


def test_a_new_version_moves_in_steps_and_the_old_colour_goes(
    ml: FakeMlClient, workspace: Path, tmp_path: Path
) -> None:
    settings = Settings()
    run(ml, settings, tmp_path, "2", check=lambda c, v: (True, "ok"))
    ml.online_endpoints.traffic.clear()
    result = run(ml, settings, tmp_path, "3")  # real checks against the server (v3)
    assert result.ok and (result.colour, result.deleted) == ("blue", "green")
    assert ml.online_endpoints.traffic == [
        {"blue": 10, "green": 90},
        {"blue": 50, "green": 50},
        {"blue": 100, "green": 0},
    ]
    assert sorted(ml.online_deployments.stored) == ["blue"]
    status = endpoint_status(ml, endpoint="emotion-clf")
    assert status.deployments[0]["version"] == "3" and status.traffic == {"blue": 100, "green": 0}


def test_a_real_failed_check_puts_the_traffic_back_and_keeps_both(
    ml: FakeMlClient, workspace: Path, tmp_path: Path
) -> None:
    settings = Settings()
    run(ml, settings, tmp_path, "3")
    ml.online_endpoints.traffic.clear()
    # version 4 is deployed, but the server still answers as version 3: the smoke test fails
    result = run(ml, settings, tmp_path, "4")
    assert not result.ok and result.rollout.rolled_back and result.deleted is None
    assert ml.online_endpoints.traffic == [{"green": 100, "blue": 0}]
    assert "serves version '3', expected '4'" in result.rollout.message
    assert sorted(ml.online_deployments.stored) == ["blue", "green"]


def test_a_check_failing_at_50_percent_moves_everything_back(
    ml: FakeMlClient, workspace: Path, tmp_path: Path
) -> None:
    settings = Settings()
    run(ml, settings, tmp_path, "3", check=lambda c, v: (True, "ok"))
    ml.online_endpoints.traffic.clear()
    result = run(ml, settings, tmp_path, "4", check=fail_at(50, ml.online_endpoints))
    assert not result.ok and "at 50%" in result.message
    assert ml.online_endpoints.traffic == [
        {"blue": 10, "green": 90},
        {"blue": 50, "green": 50},
        {"green": 100, "blue": 0},
    ]


def test_rollback_needs_the_old_colour_kept(
    ml: FakeMlClient, workspace: Path, tmp_path: Path
) -> None:
    settings = Settings()
    ok = {"check": lambda c, v: (True, "ok")}
    run(ml, settings, tmp_path, "2", **ok)
    run(ml, settings, tmp_path, "3", keep_old=True, **ok)
    assert rollback_endpoint(ml, endpoint="emotion-clf") == {"green": 100, "blue": 0}
    run(ml, settings, tmp_path, "4", **ok)  # blue again, green deleted this time
    with pytest.raises(ModelNotFoundError, match="no green deployment to roll back to"):
        rollback_endpoint(ml, endpoint="emotion-clf")


def test_promote_drives_the_endpoint_and_the_audit_records_it(
    ml: FakeMlClient, lifecycle_settings: Settings, weak_result: TrainResult, tmp_path: Path
) -> None:
    """The MLflow registry's v1 becomes the baseline; the endpoint then gets v1, and the
    server (serving version 3) fails the version check, so traffic goes back."""
    open_registry(lifecycle_settings).register(weak_result)
    rollout = EndpointRollout(
        ml,
        endpoint="emotion-clf",
        settings=lifecycle_settings,
        code_root=tmp_path / "staging",
        steps="50,100",
    )
    result = promote(
        settings=lifecycle_settings, force=True, reason="t", refresh=False, rollouts=[rollout]
    )
    assert result.changed and result.rollout_failed
    [outcome] = result.rollouts
    assert outcome.name == "endpoint:emotion-clf" and outcome.detail["version"] == "1"
    assert "serves version '3', expected '1'" in outcome.message
    note = (
        open_registry(lifecycle_settings).audit.entries()[0].notes["rollout.endpoint:emotion-clf"]
    )
    assert '"ok":false' in note


def test_an_azure_error_during_a_rollout_is_a_failed_outcome_not_a_crash(
    ml: FakeMlClient, lifecycle_settings: Settings, weak_result: TrainResult, tmp_path: Path
) -> None:
    from azure.core.exceptions import HttpResponseError

    def quota(entity: Any) -> Done:
        raise HttpResponseError("Not enough quota available for Standard_DS3_v2")

    ml.online_deployments.begin_create_or_update = quota  # type: ignore[method-assign]
    open_registry(lifecycle_settings).register(weak_result)
    rollout = EndpointRollout(
        ml, endpoint="e", settings=lifecycle_settings, code_root=tmp_path, steps="100"
    )
    result = promote(
        settings=lifecycle_settings, force=True, reason="t", refresh=False, rollouts=[rollout]
    )
    assert result.changed and result.rollout_failed
    message = result.rollouts[0].message
    assert message.startswith("creating the green deployment of v1: HttpResponseError: Not enough")
    assert message.endswith("live traffic unchanged: none yet")

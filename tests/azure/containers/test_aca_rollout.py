"""The Container Apps rollout end to end except Azure: the live target drives a fake client
that records the real ``ContainerApp`` / ``TrafficWeight`` bodies it is sent, and applies
them as Azure would; one test checks a real server on 127.0.0.1 at each step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emotion_clf.azure.containers import aca, aca_live
from emotion_clf.azure.containers.spec import DeployCheck, check_deployed
from emotion_clf.azure.rollout import roll_back, roll_out
from emotion_clf.checks.health import HealthReport, ScenarioResult
from emotion_clf.errors import ConfigError
from tests.azure.containers.test_aca import app_with
from tests.http_listeners import free_port
from tests.serving.helpers import TOKEN
from tests.serving.server import running_server

models = pytest.importorskip("azure.mgmt.appcontainers.models")
not_found = pytest.importorskip("azure.core.exceptions").ResourceNotFoundError

BLUE, GREEN = "emotion-clf--v3-aaaa1111", "emotion-clf--v4-bbbb2222"


class Done:
    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


class FakeContainerApps:
    """``client.container_apps``: serves one app, records and applies every PATCH."""

    def __init__(self, app: Any | None) -> None:
        self.app = app
        self.patches: list[dict[str, Any]] = []

    def get(self, resource_group: str, name: str) -> Any:
        if self.app is None:
            raise not_found(f"{name} not found")
        return self.app

    def begin_update(self, resource_group: str, name: str, envelope: Any) -> Done:
        assert isinstance(envelope, models.ContainerApp)
        assert all(
            isinstance(t, models.TrafficWeight) for t in envelope.configuration.ingress.traffic
        )
        self.patches.append(envelope.as_dict())
        self.app.configuration.ingress.traffic = envelope.configuration.ingress.traffic
        return Done(self.app)


class FakeClient:
    def __init__(self, app: Any | None) -> None:
        self.container_apps = FakeContainerApps(app)


def blue_serving_green_new() -> FakeClient:
    return FakeClient(
        app_with(
            [
                {"revisionName": BLUE, "label": "blue", "weight": 100},
                {"revisionName": GREEN, "label": "green", "weight": 0},
            ]
        )
    )


def sent(client: FakeClient) -> list[dict[str, int]]:
    """The weights per label of every PATCH the client received."""
    return [
        {t["label"]: t["weight"] for t in body["properties"]["configuration"]["ingress"]["traffic"]}
        for body in client.container_apps.patches
    ]


class Checker:
    """Stands in for the health check: fails at or above ``fail_at`` percent of traffic."""

    def __init__(self, client: FakeClient, fail_at: int | None = None) -> None:
        self.client, self.fail_at, self.urls = client, fail_at, []

    def __call__(self, url: str) -> DeployCheck:
        self.urls.append(url)
        colour = "green" if "---green." in url else "blue"
        weights = aca.read_colours(self.client.container_apps.app).weights
        ok = self.fail_at is None or weights.get(colour, 0) < self.fail_at
        status, detail = (200, "ok") if ok else (500, "answered 500: internal error")
        result = ScenarioResult("one text", "POST /predict", "200", status, ok, detail, 1.0)
        return DeployCheck(url, True, 0.0, "ready", HealthReport(url, (result,)))


def target(client: FakeClient, checker: Any) -> aca_live.ContainerAppTarget:
    return aca_live.target_for(
        client,
        resource_group="rg",
        name="emotion-clf",
        token=None,
        ready_timeout_s=1,
        check_url=checker,
    )


def test_promote_sends_each_step_and_checks_the_green_label() -> None:
    client = blue_serving_green_new()
    checker = Checker(client)
    app = target(client, checker)
    result = roll_out(app, old="blue", new="green", steps=(10, 50, 100))
    assert result.ok
    assert sent(client) == [
        {"green": 10, "blue": 90},
        {"green": 50, "blue": 50},
        {"green": 100, "blue": 0},
    ]
    assert set(checker.urls) == {"https://emotion-clf---green.happy.westeurope.io"}
    assert len(checker.urls) == 4  # at 0% (smoke test), then after each step
    body = client.container_apps.patches[-1]
    revisions = {
        t["label"]: t["revisionName"]
        for t in body["properties"]["configuration"]["ingress"]["traffic"]
    }
    assert revisions == {"blue": BLUE, "green": GREEN}  # labels stay on their revisions
    assert aca.read_colours(client.container_apps.app).serving == "green"


def test_a_failed_step_moves_every_request_back_to_blue() -> None:
    client = blue_serving_green_new()
    result = roll_out(target(client, Checker(client, fail_at=50)), old="blue", new="green")
    assert not result.ok and result.rolled_back
    assert sent(client) == [
        {"green": 10, "blue": 90},
        {"green": 50, "blue": 50},
        {"blue": 100, "green": 0},
    ]
    assert aca.read_colours(client.container_apps.app).serving == "blue"
    assert "green failed at 50%" in result.message


def test_rollback_after_a_promotion_is_one_patch() -> None:
    client = blue_serving_green_new()
    app = target(client, Checker(client))
    assert roll_out(app, old="blue", new="green", steps=(100,)).ok
    app = target(client, Checker(client))  # as `aca rollback` reads it: green serves now
    to, other = aca.plan_rollback(app.colours)
    assert roll_back(app, to=to, other=other) == {"blue": 100, "green": 0}
    assert sent(client)[-1] == {"blue": 100, "green": 0}


def test_no_app_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        target(FakeClient(None), Checker(FakeClient(None)))


def test_the_health_check_at_each_step_is_the_real_one(home: Path) -> None:
    """Green's label is a real server pinned to v2; blue's answers nothing."""
    env = {"EMOTION_CLF_SERVE_MODEL": "2", "EMOTION_CLF_REFRESH_TOKEN": TOKEN}
    with running_server(home, env=env) as server:
        addresses = {"green": server.url, "blue": f"http://127.0.0.1:{free_port()}"}

        def check(url: str) -> DeployCheck:
            colour = "green" if "---green." in url else "blue"
            return check_deployed(addresses[colour], token=TOKEN, ready_timeout_s=1, interval_s=0.2)

        client = blue_serving_green_new()
        promoted = roll_out(target(client, check), old="blue", new="green", steps=(50, 100))
        assert promoted.ok, promoted.message
        assert "scenarios passed" in promoted.steps[-1].detail
        # back to blue, whose label answers nothing: the smoke test fails, nothing moves
        before = len(client.container_apps.patches)
        failed = roll_out(target(client, check), old="green", new="blue")
        assert not failed.ok and "not ready" in failed.steps[0].detail
        assert sent(client)[before:] == [{"green": 100, "blue": 0}]

"""The ``azure aca`` commands end to end in-process, with Azure's client replaced by a fake
that records the real SDK bodies (the one thing this machine cannot reach) and the health
check by a stand-in: what deploy PUTs, what promote and rollback PATCH, exit codes, output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emotion_clf.azure.containers import aca_live
from emotion_clf.azure.containers.spec import DeployCheck
from emotion_clf.checks.health import HealthReport, ScenarioResult
from emotion_clf.cli import main
from tests.azure.containers.test_aca import app_with
from tests.azure.containers.test_aca_rollout import BLUE, GREEN, Done, FakeContainerApps, sent
from tests.azure.containers.test_container_spec import TOKEN

models = pytest.importorskip("azure.mgmt.appcontainers.models")


class FakeApps(FakeContainerApps):
    def __init__(self, app: Any | None) -> None:
        super().__init__(app)
        self.puts: list[dict[str, Any]] = []

    def begin_create_or_update(self, resource_group: str, name: str, app: Any) -> Done:
        assert isinstance(app, models.ContainerApp)
        self.puts.append(app.as_dict())
        body = app.as_dict()  # as Azure answers: with the ingress address
        body["properties"]["configuration"]["ingress"]["fqdn"] = "emotion-clf.happy.westeurope.io"
        self.app = models.ContainerApp(body)
        return Done(self.app)


class FakeRevisions:
    def __init__(self, apps: FakeApps) -> None:
        self.apps = apps

    def get_revision(self, resource_group: str, name: str, revision: str) -> Any:
        [found] = [r for r in self.list_revisions(resource_group, name) if r.name == revision]
        return found

    def list_revisions(self, resource_group: str, name: str) -> list[Any]:
        traffic = self.apps.app.configuration.ingress.traffic
        return [
            models.Revision(
                {
                    "name": t.revision_name,
                    "properties": {
                        "createdTime": f"2026-11-2{i}T10:00:00Z",  # blue's (first) is older
                        "active": True,
                        "trafficWeight": t.weight,
                        "template": {
                            "containers": [
                                {
                                    "name": "api",
                                    "image": "img",
                                    "env": [{"name": "EMOTION_CLF_SERVE_MODEL", "value": "3"}],
                                }
                            ]
                        },
                    },
                }
            )
            for i, t in enumerate(traffic)
        ]


class FakeClient:
    def __init__(self, app: Any | None) -> None:
        self.container_apps = FakeApps(app)
        self.container_apps_revisions = FakeRevisions(self.container_apps)


def passing(url: str, **_: Any) -> DeployCheck:
    result = ScenarioResult("one text", "POST /predict", "200", 200, True, "ok", 1.0)
    return DeployCheck(url, True, 0.0, "ready", HealthReport(url, (result,)))


def failing(url: str, **_: Any) -> DeployCheck:
    result = ScenarioResult("one text", "POST /predict", "200", 500, False, "answered 500", 1.0)
    return DeployCheck(url, True, 0.0, "ready", HealthReport(url, (result,)))


@pytest.fixture
def azure(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> FakeClient:
    for name, value in {
        "EMOTION_CLF_AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000",
        "EMOTION_CLF_AZURE_RESOURCE_GROUP": "rg-emotion",
        "EMOTION_CLF_ACA_ENVIRONMENT": "aca-env",
        "EMOTION_CLF_CONTAINER_IMAGE": "myacr.azurecr.io/emotion-clf:1a2b3c4d",
        "EMOTION_CLF_CONTAINER_TRACKING_URI": "https://mlflow.example.org",
        "EMOTION_CLF_REFRESH_TOKEN": TOKEN,
    }.items():
        monkeypatch.setenv(name, value)
    fake = FakeClient(
        app_with(
            [
                {"revisionName": BLUE, "label": "blue", "weight": 100},
                {"revisionName": GREEN, "label": "green", "weight": 0},
            ]
        )
    )
    monkeypatch.setattr(aca_live, "client", lambda target: fake)
    return fake


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr("sys.argv", ["emotion-clf", "azure", "aca", *args])
    try:
        main()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_deploy_puts_a_pinned_revision_at_zero_with_real_secrets(
    azure: FakeClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("emotion_clf.cli.azure_containers.check_deployed", passing)
    # green was the colour at 0: after blue serves, a deploy goes to green again
    assert run(monkeypatch, "deploy", "--version", "5", "--json") == 0
    [body] = azure.container_apps.puts
    traffic = body["properties"]["configuration"]["ingress"]["traffic"]
    assert [(t["label"], t["weight"]) for t in traffic] == [("blue", 100), ("green", 0)]
    assert traffic[1]["revisionName"].startswith("emotion-clf--v5-")
    secrets = {s["name"]: s["value"] for s in body["properties"]["configuration"]["secrets"]}
    assert secrets["refresh-token"] == TOKEN  # sent to Azure as a Container Apps secret
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err
    summary = json.loads(out.out)
    assert summary["check"]["url"] == "https://emotion-clf---green.happy.westeurope.io"
    assert summary["check"]["passed"] is True


def test_promote_steps_and_moves_back_on_a_failed_check(
    azure: FakeClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(aca_live, "check_deployed", failing)
    assert run(monkeypatch, "promote", "--steps", "50,100") == 1
    assert sent(azure) == [{"blue": 100, "green": 0}]  # the smoke test at 0% failed
    monkeypatch.setattr(aca_live, "check_deployed", passing)
    capsys.readouterr()
    assert run(monkeypatch, "promote", "--steps", "50,100", "--json") == 0
    assert sent(azure)[-2:] == [{"green": 50, "blue": 50}, {"green": 100, "blue": 0}]
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_rollback_and_status(
    azure: FakeClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(aca_live, "check_deployed", passing)
    assert run(monkeypatch, "promote", "--steps", "100") == 0
    assert run(monkeypatch, "rollback") == 0
    assert sent(azure)[-1] == {"blue": 100, "green": 0}
    capsys.readouterr()
    assert run(monkeypatch, "status", "--json") == 0
    state = json.loads(capsys.readouterr().out)
    assert state["serving"] == "blue"
    assert state["url"] == "https://emotion-clf.happy.westeurope.io"
    assert {r["label"]: r["weight"] for r in state["revisions"]} == {"blue": 100, "green": 0}
    assert {r["model"] for r in state["revisions"]} == {"3"}
    assert run(monkeypatch, "rollback") == 2  # blue, the older, serves already: refused
    assert "the older revision, already serves 100%" in capsys.readouterr().err

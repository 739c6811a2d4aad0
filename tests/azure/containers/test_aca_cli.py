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
    """Like Azure: a GET leaves secret values out, ``list_secrets`` gives them."""

    def __init__(self, app: Any | None, secrets: dict[str, str] | None = None) -> None:
        super().__init__(app)
        self.puts: list[dict[str, Any]] = []
        self.secret_values = dict(secrets or {})

    def begin_create_or_update(self, resource_group: str, name: str, app: Any) -> Done:
        assert isinstance(app, models.ContainerApp)
        self.puts.append(app.as_dict())
        body = app.as_dict()  # as Azure answers: with the ingress address
        body["properties"]["configuration"]["ingress"]["fqdn"] = "emotion-clf.happy.westeurope.io"
        for secret in body["properties"]["configuration"].get("secrets") or []:
            if "value" in secret:
                self.secret_values[secret["name"]] = secret.pop("value")
        self.app = models.ContainerApp(body)
        return Done(self.app)

    def list_secrets(self, resource_group: str, name: str) -> Any:
        return models.SecretsCollection(
            value=[
                models.ContainerAppSecret({"name": n, "value": v})
                for n, v in self.secret_values.items()
            ]
        )


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
    def __init__(self, app: Any | None, secrets: dict[str, str] | None = None) -> None:
        self.container_apps = FakeApps(app, secrets)
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


def live_app_configured_outside_this_tool() -> Any:
    """What someone set up by hand: a custom domain, an IP rule, CORS, Dapr, sticky
    sessions, a user-assigned identity, a secret and a registry of their own."""
    app = app_with(
        [
            {"revisionName": BLUE, "label": "blue", "weight": 100},
            {"revisionName": GREEN, "label": "green", "weight": 0},
        ]
    )
    body = app.as_dict()
    conf = body["properties"]["configuration"]
    conf["activeRevisionsMode"] = "Multiple"
    conf["ingress"].update(
        {
            "customDomains": [
                {"name": "emotions.example.org", "bindingType": "SniEnabled", "certificateId": "c"}
            ],
            "ipSecurityRestrictions": [
                {"name": "office", "ipAddressRange": "203.0.113.0/24", "action": "Allow"}
            ],
            "corsPolicy": {"allowedOrigins": ["https://app.example.org"]},
            "stickySessions": {"affinity": "sticky"},
        }
    )
    conf["dapr"] = {"enabled": True, "appId": "emotions", "appPort": 8000}
    conf["secrets"] = [{"name": "their-api-key"}]  # a GET carries no value
    conf["registries"] = [
        {"server": "theirs.example.org", "username": "u", "passwordSecretRef": "their-api-key"}
    ]
    body["identity"] = {
        "type": "UserAssigned",
        "userAssignedIdentities": {"/subscriptions/s/resourceGroups/r/providers/x/their-id": {}},
    }
    body["tags"] = {"owner": "ops"}
    return models.ContainerApp(body)


def test_deploy_patches_the_live_app_and_keeps_what_others_configured(
    azure: FakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity = (
        "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
        "userAssignedIdentities/emotion-clf"
    )
    monkeypatch.setenv("EMOTION_CLF_CONTAINER_IDENTITY", identity)
    azure.container_apps.app = live_app_configured_outside_this_tool()
    azure.container_apps.secret_values = {"their-api-key": "k-123"}
    monkeypatch.setattr("emotion_clf.cli.azure_containers.check_deployed", passing)
    assert run(monkeypatch, "deploy", "--version", "5", "--json") == 0
    [body] = azure.container_apps.puts
    conf = body["properties"]["configuration"]
    ingress = conf["ingress"]
    assert ingress["customDomains"][0]["name"] == "emotions.example.org"
    assert ingress["ipSecurityRestrictions"][0]["ipAddressRange"] == "203.0.113.0/24"
    assert ingress["corsPolicy"] == {"allowedOrigins": ["https://app.example.org"]}
    assert ingress["stickySessions"] == {"affinity": "sticky"}
    assert conf["dapr"]["appId"] == "emotions"
    secrets = {s["name"]: s.get("value") for s in conf["secrets"]}
    assert secrets["their-api-key"] == "k-123"  # sent back with its value, not emptied
    assert secrets["refresh-token"] == TOKEN
    servers = {r["server"]: r for r in conf["registries"]}
    assert servers["theirs.example.org"]["username"] == "u"
    assert servers["myacr.azurecr.io"] == {"server": "myacr.azurecr.io", "identity": identity}
    assert body["identity"]["type"] == "UserAssigned"
    assert set(body["identity"]["userAssignedIdentities"]) == {
        "/subscriptions/s/resourceGroups/r/providers/x/their-id",
        identity,
    }
    assert body["tags"] == {"owner": "ops", "app": "emotion-clf"}
    # what the deployment owns did change: the new revision at 0% beside blue
    assert [(t["label"], t["weight"]) for t in ingress["traffic"]] == [("blue", 100), ("green", 0)]
    assert body["properties"]["template"]["revisionSuffix"].startswith("v5-")
    assert not any("password" in str(r).lower() for r in servers["myacr.azurecr.io"].values())

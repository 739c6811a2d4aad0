"""Azure Container Apps: the ContainerApp built for real and round-tripped, the blue-green
plans (which colour a new revision takes, what promote and rollback move), the CLI dry run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emotion_clf.azure.containers import aca
from emotion_clf.azure.containers.spec import container_spec
from emotion_clf.azure.sdk import AzureTarget
from emotion_clf.errors import ConfigError
from tests.azure.containers.test_container_spec import OUTSIDE_IMAGE, TOKEN, settings
from tests.cli.helpers import run_cli

models = pytest.importorskip("azure.mgmt.appcontainers.models")
TARGET = AzureTarget("00000000-0000-0000-0000-000000000000", "rg-emotion", "westeurope")
ENV_ID = aca.environment_id(TARGET, "aca-env")


def app_with(traffic: list[dict[str, Any]], fqdn: str = "emotion-clf.happy.westeurope.io") -> Any:
    """An app as Azure returns it (ingress address and traffic)."""
    body = {
        "location": "westeurope",
        "properties": {"configuration": {"ingress": {"fqdn": fqdn, "traffic": traffic}}},
    }
    return models.ContainerApp(body)


def build(version: str = "4", colours: aca.Colours | None = None, **overrides: Any) -> Any:
    spec = container_spec(settings(**overrides), model=version)
    plan = aca.plan_deploy(
        colours or aca.Colours({}, {}), app_name="emotion-clf", suffix=aca.revision_suffix(spec)
    )
    return aca.build_container_app(
        spec,
        plan=plan,
        location="westeurope",
        environment=ENV_ID,
        min_replicas=1,
        max_replicas=3,
        concurrent_requests=20,
        reveal_secrets=False,
    )


def test_the_app_round_trips_and_holds_what_blue_green_needs() -> None:
    app = build(  # a registry outside Azure, with a pull token (ACR uses the identity)
        container_image=OUTSIDE_IMAGE,
        container_registry_username="puller",
        container_registry_password="pw-012345",
    )
    body = app.as_dict()
    loaded = aca.load_app(json.loads(json.dumps(body)))
    assert isinstance(loaded, models.ContainerApp) and loaded.as_dict() == body
    config = loaded.configuration
    assert config.active_revisions_mode == "Multiple"
    assert config.ingress.external and not config.ingress.allow_insecure  # HTTPS only
    assert config.ingress.target_port == 8000
    [weight] = config.ingress.traffic
    assert isinstance(weight, models.TrafficWeight)
    assert (weight.label, weight.weight) == ("green", 100)  # the first revision serves all
    assert weight.revision_name == f"emotion-clf--{loaded.template.revision_suffix}"
    [container] = loaded.template.containers
    assert {p.type: p.http_get.path for p in container.probes} == {
        "Startup": "/health",
        "Liveness": "/health",
        "Readiness": "/ready",
    }
    assert container.resources.memory == "2Gi"
    env = {e.name: e for e in container.env}
    assert env["EMOTION_CLF_SERVE_MODEL"].value == "4"
    assert env["EMOTION_CLF_REFRESH_TOKEN"].secret_ref == "refresh-token"
    assert loaded.template.scale.rules[0].http.metadata == {"concurrentRequests": "20"}
    secrets = {s.name: s.value for s in config.secrets}
    assert secrets == {
        "refresh-token": "<secret:EMOTION_CLF_REFRESH_TOKEN>",
        "registry-password": "<secret:EMOTION_CLF_CONTAINER_REGISTRY_PASSWORD>",
    }
    assert config.registries[0].password_secret_ref == "registry-password"
    assert TOKEN not in json.dumps(body)


def test_a_new_revision_takes_the_colour_not_serving_at_zero() -> None:
    blue_serving = aca.read_colours(
        app_with([{"revisionName": "emotion-clf--v3-aaaa", "label": "blue", "weight": 100}])
    )
    app = build("4", blue_serving)
    traffic = [(t.label, t.revision_name, t.weight) for t in app.configuration.ingress.traffic]
    suffix = app.template.revision_suffix
    assert suffix.startswith("v4-")
    assert traffic == [
        ("blue", "emotion-clf--v3-aaaa", 100),
        ("green", f"emotion-clf--{suffix}", 0),
    ]
    # after green took over, the next one goes to blue, replacing blue's old revision
    green_serving = aca.read_colours(
        app_with(
            [
                {"revisionName": "emotion-clf--v3-aaaa", "label": "blue", "weight": 0},
                {"revisionName": f"emotion-clf--{suffix}", "label": "green", "weight": 100},
            ]
        )
    )
    plan = aca.plan_deploy(green_serving, app_name="emotion-clf", suffix="v5-bbbb")
    assert plan.colour == "blue" and plan.serving == "green"
    assert plan.traffic == (
        ("green", f"emotion-clf--{suffix}", 100),
        ("blue", "emotion-clf--v5-bbbb", 0),
    )
    with pytest.raises(ConfigError, match="already serves as green"):
        aca.plan_deploy(green_serving, app_name="emotion-clf", suffix=suffix)


def test_the_revision_suffix_follows_what_it_runs() -> None:
    one = container_spec(settings(), model="4")
    assert aca.revision_suffix(one) == aca.revision_suffix(container_spec(settings(), model="4"))
    other_image = container_spec(settings(container_image="acr.io/emotion-clf:new"), model="4")
    assert aca.revision_suffix(one) != aca.revision_suffix(other_image)
    with pytest.raises(ConfigError, match="pinned to one version"):
        aca.revision_suffix(container_spec(settings(), model="baseline"))


def colours(blue: int, green: int) -> aca.Colours:
    return aca.Colours({"blue": "app--b", "green": "app--g"}, {"blue": blue, "green": green})


def test_promotion_and_rollback_plans() -> None:
    assert aca.plan_promotion(colours(100, 0)) == ("blue", "green")
    assert aca.plan_promotion(colours(0, 100)) == ("green", "blue")
    assert aca.plan_promotion(colours(90, 10)) == ("blue", "green")  # finish an interrupted one
    assert aca.plan_rollback(colours(0, 100)) == ("blue", "green")
    assert aca.plan_rollback(colours(100, 0), to="green") == ("green", "blue")
    older_blue = {"blue": "2026-11-01T10:00:00+00:00", "green": "2026-11-02T10:00:00+00:00"}
    assert aca.plan_rollback(colours(0, 100), created=older_blue) == ("blue", "green")
    with pytest.raises(ConfigError, match="the older revision, already serves 100%"):
        aca.plan_rollback(colours(100, 0), created=older_blue)  # a second rollback
    with pytest.raises(ConfigError, match="split evenly"):
        aca.plan_promotion(colours(50, 50))
    with pytest.raises(ConfigError, match="already serves 100%"):
        aca.plan_promotion(colours(100, 0), to="blue")
    with pytest.raises(ConfigError, match="nothing to promote"):
        aca.plan_promotion(aca.Colours({"blue": "app--b"}, {"blue": 100}))
    with pytest.raises(ConfigError, match="traffic is split"):
        aca.plan_deploy(colours(50, 50), app_name="app", suffix="v1-x")


def test_traffic_outside_the_colours_is_refused() -> None:
    with pytest.raises(ConfigError, match="the latest revision without a blue or green label"):
        aca.read_colours(app_with([{"latestRevision": True, "weight": 100}]))
    assert aca.read_colours(None).revisions == {}


def test_addresses_and_names() -> None:
    assert aca.label_fqdn("emotion-clf.happy.westeurope.io", "emotion-clf", "green") == (
        "emotion-clf---green.happy.westeurope.io"
    )
    assert ENV_ID.endswith(
        "/resourceGroups/rg-emotion/providers/Microsoft.App/managedEnvironments/aca-env"
    )
    with pytest.raises(ConfigError, match="EMOTION_CLF_ACA_ENVIRONMENT"):
        aca.environment_id(TARGET, None)
    with pytest.raises(ConfigError, match="Container App name"):
        aca.check_app_name("Emotion--CLF")


def test_the_cli_dry_run_writes_the_app_without_secrets(tmp_path: Path) -> None:
    env = {
        "EMOTION_CLF_CONTAINER_IMAGE": "myacr.azurecr.io/emotion-clf:1a2b3c4d",
        "EMOTION_CLF_CONTAINER_TRACKING_URI": "https://mlflow.example.org",
        "EMOTION_CLF_REFRESH_TOKEN": TOKEN,
        "EMOTION_CLF_AZURE_SUBSCRIPTION_ID": TARGET.subscription_id,
        "EMOTION_CLF_AZURE_RESOURCE_GROUP": TARGET.resource_group,
        "EMOTION_CLF_ACA_ENVIRONMENT": "aca-env",
    }
    out = tmp_path / "dry"
    args = ["azure", "aca", "deploy", "--version", "4", "--dry-run", "--offline", "--out", str(out)]
    result = run_cli(*args, "--json", home=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    text = (out / "containerapp.json").read_text()
    assert TOKEN not in text and TOKEN not in result.stdout + result.stderr
    assert aca.load_app(json.loads(text)).as_dict() == build("4").as_dict()
    summary = json.loads(result.stdout)
    assert summary["colour"] == "green" and summary["revision"].startswith("emotion-clf--v4-")


def test_the_app_pulls_with_its_managed_identity_and_holds_no_password() -> None:
    body = build(container_identity="system").as_dict()
    assert body["identity"] == {"type": "SystemAssigned"}
    assert body["properties"]["configuration"]["registries"] == [
        {"server": "myacr.azurecr.io", "identity": "system"}
    ]
    names = [s["name"] for s in body["properties"]["configuration"]["secrets"]]
    assert names == ["refresh-token"]  # no registry password among them

"""Azure Container Instances: the ContainerGroup built for real, serialized and loaded back;
the CLI's dry run writes exactly that, with secrets as placeholders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emotion_clf.azure.containers import aci
from emotion_clf.azure.containers.spec import container_spec
from emotion_clf.errors import ConfigError
from tests.azure.containers.test_container_spec import OUTSIDE_IMAGE, TOKEN, settings
from tests.cli.helpers import run_cli

models = pytest.importorskip("azure.mgmt.containerinstance.models")


def group(**overrides: object) -> object:
    spec = container_spec(
        settings(
            container_image=OUTSIDE_IMAGE,
            container_registry_username="puller",
            container_registry_password="pw-012345",
        )
    )
    options = {"location": "westeurope", "dns_label": "emotion-clf-test", "reveal_secrets": False}
    options.update(overrides)
    return aci.build_container_group(spec, **options)  # type: ignore[arg-type]


def test_the_group_round_trips_through_its_rest_body() -> None:
    built = group()
    body = aci.dry_run_body(built)
    loaded = aci.load_body(json.loads(json.dumps(body)))
    assert isinstance(loaded, models.ContainerGroup)
    assert loaded.serialize() == body
    [container] = loaded.containers
    assert container.image == OUTSIDE_IMAGE
    assert (container.resources.requests.cpu, container.resources.requests.memory_in_gb) == (1, 2)
    assert container.liveness_probe.http_get.path == "/health"
    assert container.readiness_probe.http_get.path == "/ready"
    assert loaded.ip_address.dns_name_label == "emotion-clf-test"
    assert [p.port for p in loaded.ip_address.ports] == [8000]
    assert loaded.restart_policy == "Always" and loaded.os_type == "Linux"


def test_secrets_are_secure_variables_and_placeholders_in_a_dry_run() -> None:
    body = aci.dry_run_body(group())
    container = body["properties"]["containers"][0]["properties"]
    variables = {v["name"]: v for v in container["environmentVariables"]}
    token = variables["EMOTION_CLF_REFRESH_TOKEN"]
    assert "value" not in token and token["secureValue"] == "<secret:EMOTION_CLF_REFRESH_TOKEN>"
    assert variables["EMOTION_CLF_SERVE_MODEL"]["value"] == "baseline"
    [login] = body["properties"]["imageRegistryCredentials"]
    assert login["password"] == "<secret:EMOTION_CLF_CONTAINER_REGISTRY_PASSWORD>"
    assert TOKEN not in json.dumps(body)
    revealed = aci.dry_run_body(group(reveal_secrets=True))
    assert TOKEN in json.dumps(revealed)  # what a real deploy sends


def test_address_and_refusals() -> None:
    answer = {  # what Azure returns: the address fields are read-only, set by Azure
        "location": "westeurope",
        "properties": {
            "osType": "Linux",
            "containers": [],
            "ipAddress": {
                "type": "Public",
                "ports": [{"port": 8000}],
                "ip": "20.1.2.3",
                "fqdn": "x.westeurope.azurecontainer.io",
            },
        },
    }
    created = models.ContainerGroup.deserialize(answer)
    assert aci.address(created, 8000) == "http://x.westeurope.azurecontainer.io:8000"
    with pytest.raises(ConfigError, match="DNS label"):
        group(dns_label="Bad_Label")
    with pytest.raises(ConfigError, match="restart policy"):
        group(restart_policy="Sometimes")


def test_the_cli_dry_run_writes_the_group_without_secrets(tmp_path: Path) -> None:
    out = tmp_path / "dry"
    env = {
        "EMOTION_CLF_CONTAINER_IMAGE": "myacr.azurecr.io/emotion-clf:abc",
        "EMOTION_CLF_CONTAINER_TRACKING_URI": "https://mlflow.example.org",
        "EMOTION_CLF_REFRESH_TOKEN": TOKEN,
    }
    args = ["azure", "aci", "deploy", "--model", "3", "--dry-run", "--out", str(out)]
    result = run_cli(*args, "--env", "EMOTION_CLF_POLL_S=0", home=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    text = (out / "containergroup.json").read_text()
    assert TOKEN not in text and TOKEN not in result.stdout + result.stderr
    loaded = aci.load_body(json.loads(text))
    expected = aci.build_container_group(
        container_spec(
            settings(container_image="myacr.azurecr.io/emotion-clf:abc"),
            model="3",
            extra_env={"EMOTION_CLF_POLL_S": "0"},
        ),
        location="westeurope",
        dns_label="emotion-clf",
        reveal_secrets=False,
    )
    assert loaded.serialize() == expected.serialize()


def test_a_registry_the_container_cannot_reach_is_one_clear_line(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from emotion_clf.cli import main

    monkeypatch.setenv("EMOTION_CLF_CONTAINER_IMAGE", "myacr.azurecr.io/emotion-clf:abc")
    monkeypatch.delenv("EMOTION_CLF_TRACKING_URI", raising=False)
    monkeypatch.setattr("sys.argv", ["emotion-clf", "azure", "aci", "deploy", "--dry-run"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "EMOTION_CLF_CONTAINER_TRACKING_URI" in err and "Traceback" not in err


@pytest.mark.parametrize("group", ["aci", "aca"])
def test_a_live_container_command_without_a_credential_is_one_clear_line(
    group: str, tmp_path: Path
) -> None:
    """A subscription is named but nobody signed in: the real console script prints one line
    saying to run `az login` (it printed azure-identity's stack trace before), exit code 1."""
    settings = {
        "EMOTION_CLF_AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000",
        "EMOTION_CLF_AZURE_RESOURCE_GROUP": "rg",
    }
    result = run_cli("azure", group, "status", home=tmp_path, env=settings)
    assert result.returncode == 1, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        f"error: azure {group} status: Azure refused the credentials; sign in with `az login`"
    )


def test_aci_pulls_with_a_user_assigned_identity_under_a_scoped_dns_label() -> None:
    from tests.azure.containers.test_container_spec import USER_ASSIGNED

    spec = container_spec(settings(container_identity=USER_ASSIGNED))
    built = aci.build_container_group(
        spec, location="westeurope", dns_label="emotion-clf-test", reveal_secrets=False
    )
    body = aci.dry_run_body(built)
    assert body["properties"]["imageRegistryCredentials"] == [
        {"server": "myacr.azurecr.io", "identity": USER_ASSIGNED}
    ]
    assert body["identity"]["type"] == "UserAssigned"
    assert list(body["identity"]["userAssignedIdentities"]) == [USER_ASSIGNED]
    # never Azure's Unsecure scope: a deleted group's name cannot be taken by anyone else
    assert body["properties"]["ipAddress"]["autoGeneratedDomainNameLabelScope"] == "TenantReuse"
    assert "password" not in json.dumps(body).lower()
    with pytest.raises(ConfigError, match="user-assigned identity"):
        aci.build_container_group(
            container_spec(settings(container_identity="system")),
            location="westeurope",
            dns_label="emotion-clf-test",
            reveal_secrets=False,
        )

"""The container every deployment runs: environment, secrets, registry login, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from emotion_clf.azure.containers.spec import (
    container_spec,
    container_tracking_uri,
    parse_env,
    registry_host,
)
from emotion_clf.config import Settings
from emotion_clf.errors import ConfigError

TOKEN = "refresh-0123456789-abcdefghij"
IMAGE = "myacr.azurecr.io/emotion-clf:1a2b3c4d"
OUTSIDE_IMAGE = "registry.example.org/emotion-clf:1a2b3c4d"  # a registry outside Azure


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "container_image": IMAGE,
        "container_tracking_uri": "https://mlflow.example.org",
        "refresh_token": TOKEN,
    }
    values.update(overrides)
    return Settings(**values)


def test_the_environment_names_the_registry_and_model_and_keeps_secrets_apart() -> None:
    spec = container_spec(settings(), model="7", extra_env={"EMOTION_CLF_POLL_S": "0"})
    assert spec.image == IMAGE and spec.model == "7"
    assert spec.env["EMOTION_CLF_TRACKING_URI"] == "https://mlflow.example.org"
    assert spec.env["EMOTION_CLF_SERVE_MODEL"] == "7"
    assert spec.env["EMOTION_CLF_SERVE_HOST"] == "0.0.0.0"  # reachable from outside
    assert spec.env["EMOTION_CLF_POLL_S"] == "0"
    assert TOKEN not in spec.env.values()
    [secret] = spec.secrets
    assert (secret.env, secret.name) == ("EMOTION_CLF_REFRESH_TOKEN", "refresh-token")
    assert secret.content(reveal=False) == "<secret:EMOTION_CLF_REFRESH_TOKEN>"
    assert secret.content(reveal=True) == TOKEN
    assert TOKEN not in repr(spec)
    assert spec.registry is None


def test_a_registry_outside_azure_takes_a_pull_token_and_the_image_host() -> None:
    spec = container_spec(
        settings(
            container_image=OUTSIDE_IMAGE,
            container_registry_username="puller",
            container_registry_password="pw-0123456789",
            container_tracking_token="mlflow-token-012345",
        )
    )
    assert spec.registry is not None
    assert (spec.registry.server, spec.registry.username) == ("registry.example.org", "puller")
    assert spec.registry.password.content(reveal=False) == (
        "<secret:EMOTION_CLF_CONTAINER_REGISTRY_PASSWORD>"
    )
    assert [s.env for s in spec.secrets] == ["EMOTION_CLF_REFRESH_TOKEN", "MLFLOW_TRACKING_TOKEN"]
    with pytest.raises(ConfigError, match="_PASSWORD"):
        container_spec(settings(container_registry_username="puller"))


@pytest.mark.parametrize(
    ("image", "host"),
    [
        ("myacr.azurecr.io/emotion-clf:1", "myacr.azurecr.io"),
        ("localhost:5000/emotion-clf", "localhost:5000"),
        ("library/python:3.11", None),
        ("python", None),
    ],
)
def test_registry_host(image: str, host: str | None) -> None:
    assert registry_host(image) == host


@pytest.mark.parametrize("uri", [None, "sqlite:///tmp/mlflow.db", "/srv/mlruns", "mlruns"])
def test_a_registry_the_container_cannot_reach_is_refused(uri: str | None) -> None:
    with pytest.raises(ConfigError, match="EMOTION_CLF_CONTAINER_TRACKING_URI"):
        container_tracking_uri(explicit=None, tracking_uri=uri)
    assert container_tracking_uri(explicit=None, tracking_uri="http://mlflow:5000") == (
        "http://mlflow:5000"
    )


def test_bad_input_is_named() -> None:
    with pytest.raises(ConfigError, match="--image or set EMOTION_CLF_CONTAINER_IMAGE"):
        container_spec(settings(container_image=None))
    with pytest.raises(ConfigError, match="baseline, dynamic or a version"):
        container_spec(settings(), model="latest")
    with pytest.raises(ConfigError, match="NAME=VALUE"):
        parse_env(["NOEQUALS"])
    with pytest.raises(ConfigError, match="secrets do not go in plain variables"):
        parse_env(["API_TOKEN=abc"])
    with pytest.raises(ConfigError, match="cannot set EMOTION_CLF_SERVE_MODEL"):
        container_spec(settings(), extra_env={"EMOTION_CLF_SERVE_MODEL": "3"})


USER_ASSIGNED = (
    "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
    "userAssignedIdentities/emotion-clf"
)


def test_an_azure_registry_is_pulled_with_the_containers_identity_not_a_password() -> None:
    system = container_spec(settings(container_identity="system"))
    assert system.registry is not None
    assert (system.registry.server, system.registry.identity) == ("myacr.azurecr.io", "system")
    assert system.registry.password is None and system.user_assigned is None
    assert "AZURE_CLIENT_ID" not in system.env
    user = container_spec(
        settings(container_identity=USER_ASSIGNED, container_identity_client_id="client-1")
    )
    assert user.registry is not None and user.registry.identity == USER_ASSIGNED
    assert user.user_assigned == USER_ASSIGNED
    assert user.env["AZURE_CLIENT_ID"] == "client-1"  # DefaultAzureCredential picks it
    with pytest.raises(ConfigError, match="no admin password"):
        container_spec(
            settings(
                container_identity="system",
                container_registry_username="admin",
                container_registry_password="pw-0123456789",
            )
        )
    with pytest.raises(ConfigError, match="user-assigned identity's resource id"):
        container_spec(settings(container_identity="my-identity"))
    with pytest.raises(ConfigError, match="names a user-assigned identity"):
        container_spec(settings(container_identity="system", container_identity_client_id="c"))

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from emotion_clf.config import Settings
from tests.azure_standins import FakeMlClient, FakeModelOperations
from tests.http_listeners import free_port, stop, wait_until_ready


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `mlflow server` subprocess on 127.0.0.1 (SQLite backend, proxied artifacts)."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination",
        str(root / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    log = (root / "server.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(
            process,
            lambda: httpx.get(f"{url}/health", timeout=1).status_code == 200,
            what="mlflow server",
            log=root / "server.log",
            timeout=120,
        )
        yield url
    finally:
        stop(process)
        log.close()


# the server and Azure ML backends start a stand-in (requested inside, so marked here)
@pytest.fixture(
    params=[
        "embedded",
        pytest.param("server", marks=pytest.mark.integration),
        pytest.param("azureml", marks=pytest.mark.integration),
    ]
)
def any_registry_settings(request: pytest.FixtureRequest, lifecycle_settings: Settings) -> Settings:
    """The same tests against the embedded SQLite store, a real MLflow server and the Azure ML
    backend (Azurite for the workspace's blob storage, an in-memory ``models`` operations
    object for its model registry)."""
    if request.param == "embedded":
        return lifecycle_settings
    suffix = uuid.uuid4().hex[:8]  # one server for the session: isolate by names
    if request.param == "azureml":
        return azureml_settings(request, lifecycle_settings, suffix=suffix)
    url = request.getfixturevalue("mlflow_server")
    return lifecycle_settings.updated(
        tracking_uri=url,
        model_name=f"emotion-clf-{suffix}",
        experiment_name=f"exp-{suffix}",
    )


def azureml_settings(request: pytest.FixtureRequest, base: Settings, *, suffix: str) -> Settings:
    """``base`` switched to the Azure ML backend on the stand-ins, isolated by ``suffix``."""
    connection = request.getfixturevalue("azurite")
    monkeypatch = request.getfixturevalue("monkeypatch")
    models = FakeModelOperations(request.getfixturevalue("tmp_path") / "workspace-models")
    monkeypatch.setattr(
        "emotion_clf.registry.azureml.calls.ml_client",
        lambda settings, credential: FakeMlClient(models),
    )
    return base.updated(
        registry="azureml",
        azure_subscription_id="00000000-0000-0000-0000-000000000000",
        azure_resource_group="rg",
        azure_workspace="ws",
        azureml_registry_storage=SecretStr(connection),
        azureml_registry_container=f"registry-{suffix}",
        azureml_lock_lease_s=15,
    )

"""Local stand-ins for an Azure ML workspace: Azurite for its blob storage, and an in-memory
``models`` operations object holding real ``azure.ai.ml`` ``Model`` entities.

Azurite (the Azure Storage emulator, ``make azurite``) speaks the real Blob protocol: leases,
ETag conditions, listings. The model registry's REST service cannot run here, so
:class:`FakeModelOperations` does what ``MLClient.models`` does with it: numbers versions,
"uploads" a local folder (copies it) and answers with entities converted through the SDK's
own REST models (``Model._to_rest_object`` / ``Model._from_rest_object``), raising
azure-core's ``ResourceNotFoundError`` like the SDK.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from emotion_clf.config import project_root
from tests.http_listeners import free_port, stop, wait_until_ready

AZURITE = project_root() / "environment" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's published development account (not a secret: it is in Azure's documentation)
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def missing_standin(what: str, how: str) -> None:
    """Skip locally with the command that installs it; in CI (which installs it) fail."""
    message = f"{what} is not installed: run `{how}`"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must install it)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Azurite blob service on a free 127.0.0.1 port; yields its connection string."""
    if not AZURITE.is_file():
        missing_standin("Azurite", "make azurite")
    root = tmp_path_factory.mktemp("azurite")
    port = free_port()
    log = (root / "azurite.log").open("w")
    process = subprocess.Popen(
        [
            str(AZURITE),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            str(root / "data"),
            "--silent",
            "--skipApiVersionCheck",
            "--loose",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/devstoreaccount1"
    try:
        wait_until_ready(
            process,
            # any answer (403 without a signature) means it is up
            lambda: httpx.get(url, timeout=1) is not None,
            what="azurite",
            log=root / "azurite.log",
            timeout=60,
        )
        yield (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={ACCOUNT_KEY};BlobEndpoint={url};"
        )
    finally:
        stop(process, grace=3)  # it waits for idle keep-alive connections: do not wait long
        log.close()


class FakeModelOperations:
    """``MLClient.models`` for one workspace, in memory; files under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._models: dict[str, dict[str, Any]] = {}  # name -> version -> REST ModelVersion
        self._files: dict[str, Path] = {}  # azureml:// path -> local copy
        self._lock = threading.Lock()
        self.calls: list[str] = []

    def _not_found(self, name: str, version: str | None = None) -> Exception:
        from azure.core.exceptions import ResourceNotFoundError

        what = f"{name}:{version}" if version else name
        return ResourceNotFoundError(f"Model container or version {what} not found")

    def create_or_update(self, model: Any) -> Any:
        from azure.ai.ml._restclient.arm_ml_service.models import SystemData
        from azure.ai.ml.entities import Model

        self.calls.append("create_or_update")
        model = copy.deepcopy(model)
        with self._lock:
            versions = self._models.setdefault(model.name, {})
            if not model.version:  # the SDK's auto-increment from the container
                model.version = str(max((int(v) for v in versions), default=0) + 1)
            existing = versions.get(str(model.version))
            path = str(model.path)
            if not path.startswith("azureml://"):
                local = Path(path)
                if not local.is_dir() or not any(local.iterdir()):
                    raise ValueError(f"{path} is not a non-empty folder")  # EmptyDirectoryError
                remote = (
                    "azureml://datastores/workspaceblobstore/paths/LocalUpload/"
                    f"{uuid.uuid4().hex}/{local.name}"
                )
                copy_to = self.root / uuid.uuid4().hex / local.name
                shutil.copytree(local, copy_to)
                self._files[remote] = copy_to
                model.path = remote
            if existing is not None and existing.properties.model_uri != model.path:
                from azure.ai.ml.exceptions import AssetPathException

                raise AssetPathException(
                    message="The path of an existing model version cannot change",
                    no_personal_data_message="path change",
                )
            rest = model._to_rest_object()
            rest.id = (
                "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                "Microsoft.MachineLearningServices/workspaces/ws/models/"
                f"{model.name}/versions/{model.version}"
            )
            created = existing.system_data.created_at if existing else datetime.now(UTC)
            rest.system_data = SystemData(created_at=created, created_by="test")
            rest.properties.flavors = rest.properties.flavors or {}
            versions[str(model.version)] = rest
            return Model._from_rest_object(rest)

    def get(self, name: str, version: str | None = None, label: str | None = None) -> Any:
        from azure.ai.ml.entities import Model

        self.calls.append("get")
        with self._lock:
            versions = self._models.get(name)
            if not versions:
                raise self._not_found(name, version)
            if label == "latest":
                version = max(versions, key=int)
            if version not in versions:
                raise self._not_found(name, version)
            return Model._from_rest_object(copy.deepcopy(versions[version]))

    def list(self, name: str | None = None, **_: Any) -> list[Any]:
        from azure.ai.ml.entities import Model

        self.calls.append("list")
        with self._lock:
            if name not in self._models:  # the service's answer for an unknown model
                raise self._not_found(str(name))
            return [Model._from_rest_object(copy.deepcopy(v)) for v in self._models[name].values()]

    def download(self, name: str, version: str, download_path: str | Path = ".") -> None:
        """Like the SDK: a folder model lands in ``download_path/<name>/<folder name>``."""
        self.calls.append("download")
        model = self.get(name, version)
        local = self._files[str(model.path)]
        shutil.copytree(local, Path(download_path) / name / local.name, dirs_exist_ok=True)


class FakeMlClient:
    """What :func:`emotion_clf.registry.azureml.calls.ml_client` returns: ``models`` only."""

    def __init__(self, models: FakeModelOperations) -> None:
        self.models = models

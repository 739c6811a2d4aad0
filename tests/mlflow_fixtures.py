from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emotion_clf.config import Settings
from tests.http_listeners import free_port


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
    deadline = time.monotonic() + 120
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited: {(root / 'server.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("mlflow server did not start within 120 s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(params=["embedded", "server"])
def any_registry_settings(request: pytest.FixtureRequest, lifecycle_settings: Settings) -> Settings:
    """The same tests against the embedded SQLite store and a real MLflow server."""
    if request.param == "embedded":
        return lifecycle_settings
    url = request.getfixturevalue("mlflow_server")
    suffix = uuid.uuid4().hex[:8]  # one server for the session: isolate by names
    return lifecycle_settings.model_copy(
        update={
            "tracking_uri": url,
            "model_name": f"emotion-clf-{suffix}",
            "experiment_name": f"exp-{suffix}",
        }
    )

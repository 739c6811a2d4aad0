"""The scoring server fixture shared by the scoring and endpoint tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emotion_clf.config import project_root
from tests.azure_standins import missing_standin
from tests.http_listeners import free_port, stop, wait_until_ready

VENV = project_root() / ".venv-azureml"
SCORE = project_root() / "src" / "emotion_clf" / "azure" / "ml" / "score.py"


@pytest.fixture(scope="session")
def scoring_server(tfidf_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gunicorn + azureml_inference_server_http serving score.py with version 3 mounted the
    way Azure ML mounts a folder model: ``azureml-models/<name>/<version>/<folder>``."""
    gunicorn = VENV / "bin" / "gunicorn"
    if not gunicorn.is_file():
        missing_standin("Azure ML's inference server (.venv-azureml)", "make azureml-venv")
    root = tmp_path_factory.mktemp("azureml-app")
    model_dir = root / "azureml-models" / "emotion-clf" / "3"
    shutil.copytree(tfidf_bundle, model_dir / "tfidf")
    port = free_port()
    env = {
        **os.environ,
        "AZUREML_ENTRY_SCRIPT": str(SCORE),
        "AML_APP_ROOT": str(root),
        "AZUREML_MODEL_DIR": str(model_dir),
        "EMOTION_CLF_HOME": str(root / "home"),
        "EMOTION_CLF_BATCH_LIMIT": "4",
    }
    log = (root / "server.log").open("w")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--timeout",
            "120",
            "azureml_inference_server_http.server.entry:app",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(
            process,
            lambda: httpx.get(url, timeout=2).text.strip() == "Healthy",
            what="Azure ML's inference server",
            log=root / "server.log",
            timeout=120,
        )
        yield f"{url}/score"
    finally:
        stop(process)
        log.close()

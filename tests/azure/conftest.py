"""The scoring server fixture shared by the scoring and endpoint tests, and the model data
collector's sidecar it sends each scored request to."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from emotion_clf.config import project_root
from tests.azure_standins import missing_standin
from tests.http_listeners import free_port, stop, wait_until_ready

VENV = project_root() / ".venv-azureml"
SCORE = project_root() / "src" / "emotion_clf" / "azure" / "ml" / "score.py"


class MdcSidecar:
    """What Azure runs beside a deployment with ``data_collector`` enabled: it takes the
    collector's ``POST /modeldata/log`` and stores it. Here it records each payload."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.payloads.append(
                    {
                        "path": self.path,
                        "type": self.headers.get("ce-type", ""),
                        "correlationid": self.headers.get("ce-x-request-id"),
                        "data": json.loads(body),
                    }
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="session")
def mdc_sidecar() -> Iterator[MdcSidecar]:
    sidecar = MdcSidecar()
    yield sidecar
    sidecar.server.shutdown()
    sidecar.server.server_close()


@pytest.fixture(scope="session")
def scoring_server(
    tfidf_bundle: Path, tmp_path_factory: pytest.TempPathFactory, mdc_sidecar: MdcSidecar
) -> Iterator[str]:
    """gunicorn + azureml_inference_server_http serving score.py with version 3 mounted the
    way Azure ML mounts a folder model: ``azureml-models/<name>/<version>/<folder>``; data
    collection on, to :class:`MdcSidecar`, as a deployment with ``data_collector`` has it."""
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
        "AZUREML_MDC_ENABLED": "true",
        "AZUREML_MDC_HOST": "127.0.0.1",
        "AZUREML_MDC_PORT": str(mdc_sidecar.port),
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

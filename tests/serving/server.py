"""The real server in a subprocess (``emotion-clf serve``); load comes from
:mod:`emotion_clf.checks.load`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

import emotion_clf
from tests.http_listeners import free_port, stop, wait_until_ready

CLI = str(Path(sys.executable).parent / "emotion-clf")
SRC = str(Path(emotion_clf.__file__).resolve().parents[1])  # the code under test


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_server(
    home: Path, *, env: dict[str, str] | None = None, workers: int = 1, timeout: float = 90
) -> Iterator[Server]:
    """``emotion-clf serve`` on a free 127.0.0.1 port, ready; stopped with SIGTERM after."""
    port = free_port()
    log = home / f"server-{port}.log"
    full_env = {
        **os.environ,
        "PYTHONPATH": SRC,
        "EMOTION_CLF_HOME": str(home),
        "EMOTION_CLF_REFRESH_ENDPOINTS": "",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        **(env or {}),
    }
    command = [CLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=full_env, start_new_session=True
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_ready(
            process,
            lambda: httpx.get(f"{server.url}/ready", timeout=2).status_code == 200,
            what="emotion-clf serve",
            log=log,
            timeout=timeout,
        )
        yield server
    finally:
        stop(process)

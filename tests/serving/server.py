"""The real server in a subprocess (``emotion-clf serve``); load comes from
:mod:`emotion_clf.checks.load`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

import emotion_clf

CLI = str(Path(sys.executable).parent / "emotion-clf")
SRC = str(Path(emotion_clf.__file__).resolve().parents[1])  # the code under test


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


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
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n{server.log_tail()}")
            try:
                ready = httpx.get(f"{server.url}/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                ready = False  # not listening yet
            if ready:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready after {timeout} s:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

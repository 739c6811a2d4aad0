"""The real server in a subprocess (``emotion-clf serve``) and a load generator for it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


@dataclass
class Load:
    """``clients`` threads, each sending requests one after another until stopped."""

    url: str
    clients: int = 16
    responses: list[list[tuple[int, str]]] = field(default_factory=list)  # (status, version)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Load:
        self.responses = [[] for _ in range(self.clients)]
        for i in range(self.clients):
            thread = threading.Thread(target=self._run, args=(i,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    @property
    def count(self) -> int:
        return sum(len(r) for r in self.responses)

    def wait_for_count(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.count < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.count} responses after {timeout} s")
            time.sleep(0.05)

    def versions_since(self, marks: list[int], *, skip: int) -> set[str]:
        """Versions answered after ``marks``, skipping ``skip`` responses per client."""
        return {v for r, m in zip(self.responses, marks, strict=True) for _, v in r[m + skip :]}

    def marks(self) -> list[int]:
        return [len(r) for r in self.responses]

    def _run(self, i: int) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            n = 0
            while not self._stop.is_set():
                n += 1
                try:
                    if n % 10 == 0:
                        texts = [f"client {i} batch {n} item {k}" for k in range(5)]
                        response = client.post("/predict/batch", json={"texts": texts})
                    else:
                        response = client.post("/predict", json={"text": f"client {i} text {n}"})
                except httpx.HTTPError as exc:
                    self.failures.append(f"client {i} request {n}: {type(exc).__name__}: {exc}")
                    continue
                if response.status_code != 200:
                    self.failures.append(f"client {i} request {n}: HTTP {response.status_code}")
                version = response.headers.get("x-model-version", "")
                self.responses[i].append((response.status_code, version))

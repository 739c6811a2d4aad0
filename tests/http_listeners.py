"""Real HTTP listeners on 127.0.0.1 standing in for API servers (their /refresh-model, or a
server that misbehaves), free ports, and the start-up wait and stop of a server subprocess."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from emotion_clf.contracts import RefreshAnswer

# what a server that swapped v1 for v2 answers
SWAPPED = RefreshAnswer(
    previous_version="1", current_version="2", swapped=True, duration_s=0.1, message="ok"
).model_dump()


class Listener:
    """Answers every POST with a fixed status and JSON body, recording what it received."""

    def __init__(self, status: int = 200, body: dict[str, Any] | None = None) -> None:
        self.status = status
        self.body = body if body is not None else SWAPPED
        self.requests: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.requests.append(
                    {"path": self.path, "authorization": self.headers.get("Authorization", "")}
                )
                payload = json.dumps(
                    outer.body if outer.status < 400 else {"detail": "boom"}
                ).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/refresh-model"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Raw:
    """Answers every request with fixed bytes (a proxy's HTML page, JSON of another service),
    after ``delay_s``; ``hang`` answers nothing at all. Records each request's method and path."""

    def __init__(
        self,
        body: bytes = b"",
        *,
        status: int = 200,
        content_type: str = "text/html",
        delay_s: float = 0.0,
        hang: bool = False,
    ) -> None:
        self.requests: list[tuple[str, str]] = []
        self._release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                outer.requests.append((self.command, self.path))
                if hang:
                    outer._release.wait(30)
                    return
                if delay_s:
                    outer._release.wait(delay_s)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Raw:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def free_port() -> int:
    """A local port nothing listens on (bound, then released): for a server to start on, or
    for a URL that refuses connections."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.is_file() else "(no log)"


def wait_until_ready(
    process: subprocess.Popen[Any],
    ready: Callable[[], bool],
    *,
    what: str,
    log: Path,
    timeout: float,
    interval: float = 0.2,
) -> None:
    """Poll ``ready`` (an HTTP probe: an ``httpx.HTTPError`` reads as "not listening yet")
    until it answers true. Raises ``RuntimeError``, naming ``what`` with the tail of the
    process's ``log``, if the process exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log_tail(log)}")
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready after {timeout} s:\n{log_tail(log)}")
        time.sleep(interval)


def stop(process: subprocess.Popen[Any], *, grace: float = 30) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``grace`` seconds."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def down_url() -> str:
    """A URL on a port nobody listens on."""
    return f"http://127.0.0.1:{free_port()}/refresh-model"


@contextmanager
def serving(handler: Callable[..., BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served by a thread on a free 127.0.0.1 port; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def listeners(*specs: tuple[int, dict[str, Any] | None]) -> Iterator[list[Listener]]:
    started = [Listener(status, body) for status, body in specs]
    try:
        yield started
    finally:
        for listener in started:
            listener.close()

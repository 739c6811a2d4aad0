"""Exploratory (2026-11-28, not adopted): one socket write per response instead of uvicorn's two.

uvicorn's httptools protocol writes a response's head and its body with two
``transport.write`` calls, so two ``send`` system calls; py-spy put about 10% of a tfidf
worker's busy samples in that ``send``. This wraps each connection's transport so that the
writes of one event-loop turn leave as one. A server picks it up when this folder is on its
``PYTHONPATH`` (Python imports ``sitecustomize`` at start-up, in every worker):

    python -m benchmarks.serving_throughput --bundle tfidf=TFIDF --variant base=src \\
        --variant joined=research/joined_writes --repeat 2

The package itself comes from the installed checkout. Results:
``research/results/serving_throughput_joined.json`` and ``research/README.md``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http import httptools_impl


class JoinedWrites:
    """A transport that holds the writes of one loop turn and sends them together."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._held: list[bytes] | None = None
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        if self._held is None:
            self._held = [data]
            self._loop.call_soon(self._flush)
        else:
            self._held.append(data)

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held and not self._real.is_closing():
            self._real.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self._flush()
        self._real.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


_connection_made = httptools_impl.HttpToolsProtocol.connection_made


def connection_made(self: httptools_impl.HttpToolsProtocol, transport: Any) -> None:
    _connection_made(self, JoinedWrites(transport))


httptools_impl.HttpToolsProtocol.connection_made = connection_made  # type: ignore[method-assign]

"""Listeners for the fetch tests: an internal service, a public media host, a TLS host."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.urls.servers import Internal, Listener, self_signed


@pytest.fixture
def internal() -> Iterator[Internal]:
    listener = Internal()
    yield listener
    listener.close()


@pytest.fixture
def public() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[tuple[Listener, ssl.SSLContext]]:
    pytest.importorskip("cryptography")
    cert, key = self_signed(tmp_path, "media.example")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    listener = Listener(tls=server)
    yield listener, ssl.create_default_context(cafile=str(cert))
    listener.close()

"""uvicorn's HTTP protocol with the two deadlines it lacks: the request head and the body.

uvicorn times out an idle kept-alive connection, but not one that never finishes its request:
a client that opens a connection and sends nothing, or a request line and half its headers,
or a body one byte a minute, holds a connection (and its memory) for as long as it likes. A
few hundred of them are a denial of service.

:class:`TimedHttpToolsProtocol` arms a timer when a connection opens and whenever a new request
starts (its first byte): the head must be complete within ``header_timeout_s``. Once it is, a
second timer gives the body ``body_timeout_s``. Either timer firing answers ``408 Request
Timeout`` (if no answer has started) and closes the connection. Both are read from the
settings (``EMOTION_CLF_HEADER_TIMEOUT_S``, ``EMOTION_CLF_BODY_TIMEOUT_S``) when a worker
starts: ``serve`` passes this class to uvicorn (``http=``), and each worker, started with
``spawn``, imports it by name.

A body timeout counts the client's sending and the server's reading alike: a route that takes
long to read an upload counts against it, which is why its default leaves room for the largest
upload at a slow line.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from emotion_clf.config import get_settings

logger = logging.getLogger(__name__)

TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
    b"content-length: 52\r\n"
    b"\r\n"
    b'{"detail": "the request was not received in time"}\r\n'
)


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with a deadline on the request head and on the body."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        serving = get_settings().serving
        self.header_timeout_s = serving.header_timeout_s
        self.body_timeout_s = serving.body_timeout_s
        self._deadline: asyncio.TimerHandle | None = None

    # -- the timers -------------------------------------------------------------------------
    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, what)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, what: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        logger.warning("closed a connection of %s: the request's %s took too long", client, what)
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(TIMEOUT_ANSWER)
        self.transport.close()

    # -- uvicorn's callbacks ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout_s, "head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.header_timeout_s, "head")

    def on_headers_complete(self) -> None:
        self._arm(self.body_timeout_s, "body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

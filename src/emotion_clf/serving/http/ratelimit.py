"""Failed attempts per client in a sliding window: what rate limits ``/refresh-model``.

A client (its address) that failed ``limit`` times within ``window_s`` seconds is refused,
even with the right token, until its oldest failure leaves the window; a success clears its
record. Memory is bounded: past ``max_clients`` the client seen longest ago is forgotten.
With several workers each keeps its own count, so a server of N workers allows up to N times
``limit`` failures a minute.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque


class FailureLimiter:
    def __init__(self, *, limit: int, window_s: float = 60.0, max_clients: int = 10_000) -> None:
        self.limit = max(1, limit)
        self.window_s = window_s
        self.max_clients = max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times

    def retry_after(self, client: str) -> float | None:
        """Seconds until ``client`` may try again, or None if it may now."""
        now = time.monotonic()
        times = self._recent(client, now)
        if times is None or len(times) < self.limit:
            return None
        return self.window_s - (now - times[0])

    def failed(self, client: str) -> None:
        now = time.monotonic()
        times = self._recent(client, now) or deque()
        times.append(now)
        self._failures[client] = times
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

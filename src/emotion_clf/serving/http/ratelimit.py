"""Per-client limits in a sliding window, keyed on the client's address.

:class:`FailureLimiter` rate limits ``/refresh-model``: a client that failed ``limit`` times
within ``window_s`` seconds is refused, even with the right token, until its oldest failure
leaves the window; a success clears its record. :class:`VolumeLimiter` bounds what a client may
send to ``/feedback``: submissions and bytes a minute (4 clients once wrote 344 MB in 10 s).

Memory is bounded in both: past ``max_clients`` the client seen longest ago is forgotten, and
a client's record of volume is at most one bucket a second. With several workers each keeps its
own count, so a server of N workers allows up to N times the limit.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


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


class VolumeLimiter:
    """Requests and bytes per client in a sliding window, counted in one-second buckets.

    ``max_requests`` or ``max_bytes`` of 0 turns that limit off. A request larger than
    ``max_bytes`` on its own is still taken when the client's window is empty, so a limit below
    the largest body never locks a client out for good. Times are to the second: a bucket
    leaves the window ``window_s`` seconds after the second it counts began.
    """

    def __init__(
        self,
        *,
        max_requests: int,
        max_bytes: int,
        window_s: int = 60,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_requests = max(0, max_requests)
        self.max_bytes = max(0, max_bytes)
        self.window_s = window_s
        self.max_clients = max_clients
        self._clock = clock
        self._clients: OrderedDict[str, deque[list[int]]] = OrderedDict()  # [second, n, bytes]

    @property
    def enabled(self) -> bool:
        return bool(self.max_requests or self.max_bytes)

    def _window(self, client: str, now: float) -> deque[list[int]] | None:
        buckets = self._clients.get(client)
        if buckets is None:
            return None
        while buckets and buckets[0][0] + self.window_s <= now:
            buckets.popleft()
        if not buckets:
            del self._clients[client]
            return None
        return buckets

    def _fits(self, requests: int, size: int) -> bool:
        return (not self.max_requests or requests < self.max_requests) and (
            not self.max_bytes or size <= self.max_bytes
        )

    def retry_after(self, client: str, size: int = 0) -> float | None:
        """Seconds until a request of ``size`` bytes from ``client`` fits, or None: it fits now."""
        if not self.enabled:
            return None
        now = self._clock()
        buckets = self._window(client, now)
        if buckets is None:
            return None
        requests = sum(b[1] for b in buckets)
        total = sum(b[2] for b in buckets) + size
        if self._fits(requests, total):
            return None
        for second, count, sent in buckets:  # oldest first: when enough of it has left
            requests, total = requests - count, total - sent
            if self._fits(requests, total) or requests == 0:
                return second + self.window_s - now
        return None  # not reached: an empty window always fits

    def record(self, client: str, size: int) -> None:
        if not self.enabled:
            return
        now = self._clock()
        second = int(now)
        buckets = self._window(client, now) or deque()
        if buckets and buckets[-1][0] == second:
            buckets[-1][1] += 1
            buckets[-1][2] += size
        else:
            buckets.append([second, 1, size])
        self._clients[client] = buckets
        self._clients.move_to_end(client)
        while len(self._clients) > self.max_clients:
            self._clients.popitem(last=False)

    def admit(self, client: str, size: int) -> float | None:
        """Record the request and return None if it fits; else the seconds to wait (nothing is
        recorded: a refused request costs the client nothing)."""
        wait = self.retry_after(client, size)
        if wait is None:
            self.record(client, size)
        return wait

"""A fixed number of slots for work that must not pile up (URL downloads): a request takes a
slot or is refused at once with a 503, rather than waiting in a queue that grows with load."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from emotion_clf.serving.runtime.errors import BusyError


class Slots:
    """``limit`` slots; :meth:`take` holds one for the length of a ``with`` block. Used from
    the event loop's thread only, so a counter is enough."""

    def __init__(self, limit: int, *, what: str, retry_after_s: int = 5) -> None:
        self.limit = max(1, limit)
        self.what = what
        self.retry_after_s = retry_after_s
        self.busy = 0

    @contextmanager
    def take(self) -> Iterator[None]:
        if self.busy >= self.limit:
            raise BusyError(
                f"{self.limit} {self.what} already running; try again in {self.retry_after_s} s",
                retry_after_s=self.retry_after_s,
            )
        self.busy += 1
        try:
            yield
        finally:
            self.busy -= 1

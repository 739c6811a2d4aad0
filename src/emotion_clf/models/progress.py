"""Progress as plain lines, for a log.

A bar that redraws itself (tqdm, Rich) reads well in JupyterLab and in a terminal, but in a
log (``make train``'s output of a notebook run by papermill, a CLI's stderr sent to a file)
it is one long line of carriage returns, or nothing until the end. :class:`ProgressLines`
writes plain lines instead: one at the first update, then one every ``every_s`` seconds,
and the last, each with what is done, the total, the rate and the time left. Standard
library only: the CLI's quick commands import it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def clock_text(seconds: float) -> str:
    """``1:02:03`` or ``2:03``."""
    hours, rest = divmod(max(0, round(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressLines:
    """Progress as plain lines on ``stream``.

    ``total`` is the number of items (rows), or None for a fraction in ``[0, 1]`` (a
    training, whose steps the caller reports as a share); ``unit`` names the items.
    """

    def __init__(
        self,
        title: str,
        *,
        total: float | None = None,
        unit: str = "rows",
        every_s: float = 10.0,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.title, self.total, self.unit, self.every_s = title, total, unit, every_s
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self.last_line: float | None = None
        self.done = 0.0
        self.description = ""

    def advance(self, n: float) -> None:
        """``n`` more items done (batch inference)."""
        self.update(self.done + n)

    def fraction(self, description: str, fraction: float) -> None:
        """A :data:`~emotion_clf.models.base.ProgressCallback`: ``fraction`` of the whole."""
        self.description = description
        self.update(max(0.0, min(1.0, fraction)))

    def update(self, done: float) -> None:
        self.done = done
        now = self.clock()
        finished = done >= (1.0 if self.total is None else self.total)
        if self.last_line is None or finished or now - self.last_line >= self.every_s:
            self.last_line = now
            self.write(self.line(now))

    def line(self, now: float | None = None) -> str:
        elapsed = (self.clock() if now is None else now) - self.started
        whole = 1.0 if self.total is None else self.total
        share = self.done / whole if whole else 1.0
        parts = [f"{self.title}:"]
        if self.description:
            parts.append(self.description)
        if self.total is None:
            parts.append(f"{share:.0%}")
        else:
            parts.append(f"{self.done:,.0f}/{self.total:,.0f} {self.unit} ({share:.0%})")
            if elapsed > 0 and self.done > 0:
                parts.append(f"{self.done / elapsed:,.0f} {self.unit}/s")
        parts.append(f"elapsed {clock_text(elapsed)}")
        if 0 < share < 1:
            parts.append(f"eta {clock_text(elapsed * (1 - share) / share)}")
        return " ".join(parts[:2]) + (", " + ", ".join(parts[2:]) if parts[2:] else "")

    def write(self, text: str) -> None:
        stream = self.stream or sys.stderr  # looked up late: a notebook kernel replaces it
        stream.write(text + "\n")
        stream.flush()

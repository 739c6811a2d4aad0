"""What a benchmark's JSON records about its run: the command, the date, and the machine it
ran on (this is a shared machine: the load average before and after says how busy it was)."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def describe(
    load_before: tuple[float, float, float], load_after: tuple[float, float, float] | None = None
) -> dict[str, Any]:
    """CPUs, Python, and the load averages before the run and after it (default: now)."""
    after = load_after if load_after is not None else os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in after],
    }


def header(
    script: str,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float] | None = None,
) -> dict[str, Any]:
    """The first fields of a results document: how to run it again (from the repository
    root), when, and where."""
    return {
        "command": " ".join(["python", "-m", f"benchmarks.{Path(script).stem}", *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": describe(load_before, load_after),
    }

"""The probe log: each probe a test sends is recorded with its class, what a correct server
answers and what this one did. ``python -m benchmarks.probes`` runs the suite with
``EMOTION_CLF_PROBE_LOG`` set and turns the log into the table of
``benchmarks/results/reliability.md``; a plain test run records nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

LOG_VARIABLE = "EMOTION_CLF_PROBE_LOG"


@dataclass
class ProbeLog:
    records: list[dict[str, object]] = field(default_factory=list)

    def record(self, probe_class: str, *, expected: str, observed: str, ok: bool) -> None:
        """One probe: ``expected`` and ``observed`` as short text (``422``, ``closed``)."""
        self.records.append(
            {"class": probe_class, "expected": expected, "observed": observed, "ok": ok}
        )


_LOG = ProbeLog()


@pytest.fixture
def probes() -> ProbeLog:
    return _LOG


@pytest.fixture(scope="session", autouse=True)
def _write_probe_log() -> Iterator[None]:
    yield
    target = os.environ.get(LOG_VARIABLE)
    if target:
        Path(target).write_text(json.dumps(asdict(_LOG)["records"], indent=1) + "\n")

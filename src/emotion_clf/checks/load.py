"""Load test of a running API: N clients, each sending requests one after another.

:class:`LoadGenerator` runs the clients in threads (each with its own keep-alive connection)
and records every answer: when it started, how long it took, its status and the model version
that answered (``X-Model-Version``). :func:`run_load` runs it for a duration or a number of
requests, optionally triggers a switch mid-run (``POST /refresh-model``, a promotion, a
rollback: any callable) and summarises: throughput, latency percentiles, failures, and which
versions answered before and after the switch. This is the project's one load generator; the
tests and ``benchmarks/`` drive servers with it.

Two engines make the load: ``thread`` (Python clients, every answer recorded with its version:
what swap tests need) and ``wrk`` (the C program, :mod:`.load_wrk`: what throughput figures
need, since its clients take little of the CPU the server runs on). Both give a
:class:`LoadReport`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from emotion_clf.checks.wrk import run_wrk

ENGINES: tuple[str, ...] = ("thread", "wrk")
SENTENCES: tuple[str, ...] = (
    "I can't believe we actually won the final!",
    "This is the worst day of my life.",
    "Could you pass me the salt, please?",
    "I'm so scared of what might happen next.",
    "That smell is absolutely disgusting.",
    "Wait, what? Nobody told me about this.",
    "Thank you so much, you saved my evening.",
    "Leave me alone, I don't want to talk about it.",
)


@dataclass(frozen=True)
class Request:
    """One request the clients send: ``path`` with a JSON body."""

    path: str
    json: Any


def default_requests(batch_every: int = 10) -> list[Request]:
    """Single texts, and every ``batch_every``-th request a batch of five (0: never)."""
    singles = [Request("/predict", {"text": text}) for text in SENTENCES]
    if batch_every <= 0:
        return singles
    mix = [singles[i % len(singles)] for i in range(batch_every - 1)]
    return [*mix, Request("/predict/batch", {"texts": list(SENTENCES[:5])})]


@dataclass(frozen=True)
class Answer:
    started_s: float  # since the run started
    latency_s: float
    status: int | None  # None: no answer
    version: str
    error: str = ""


class LoadGenerator:
    """``clients`` threads sending ``requests`` round-robin until :meth:`stop`."""

    def __init__(
        self,
        url: str,
        *,
        clients: int,
        requests: Sequence[Request] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 30.0,
        max_requests: int | None = None,
    ) -> None:
        if clients < 1:
            raise ValueError("a load test needs at least one client")
        self.url = url.rstrip("/")
        self.clients = clients
        self.requests = list(requests or default_requests())
        self.headers = dict(headers or {})
        self.timeout_s = timeout_s
        self.max_requests = max_requests
        self.answers: list[list[Answer]] = [[] for _ in range(clients)]
        self._stop = threading.Event()
        self._budget = threading.Semaphore(max_requests) if max_requests else None
        self._threads: list[threading.Thread] = []
        self._t0 = 0.0

    def start(self) -> LoadGenerator:
        self._t0 = time.perf_counter()
        for i in range(self.clients):
            thread = threading.Thread(target=self._run, args=(i,), daemon=True, name=f"load-{i}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        self.join()

    def join(self, timeout_s: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout_s)

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self._t0

    @property
    def count(self) -> int:
        return sum(len(a) for a in self.answers)

    def marks(self) -> list[int]:
        """How many answers each client has so far (to look at what came after)."""
        return [len(a) for a in self.answers]

    def versions_since(self, marks: Sequence[int], *, skip: int = 0) -> set[str]:
        """Versions answered after ``marks``, skipping ``skip`` answers per client (one
        request may have been in flight when the marks were taken)."""
        return {
            a.version
            for answers, m in zip(self.answers, marks, strict=True)
            for a in answers[m + skip :]
        }

    def wait_for_count(self, n: int, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.count < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.count} answers after {timeout_s} s")
            time.sleep(0.02)

    def _run(self, i: int) -> None:
        sink = self.answers[i]
        with httpx.Client(
            base_url=self.url, timeout=self.timeout_s, headers=self.headers
        ) as client:
            n = i  # clients start at different places of the mix
            while not self._stop.is_set():
                if self._budget is not None and not self._budget.acquire(blocking=False):
                    return
                request = self.requests[n % len(self.requests)]
                n += 1
                started = time.perf_counter()
                try:
                    response = client.post(request.path, json=request.json)
                except httpx.HTTPError as exc:
                    ended = time.perf_counter()
                    sink.append(
                        Answer(
                            started - self._t0,
                            ended - started,
                            None,
                            "",
                            f"{type(exc).__name__}: {exc}",
                        )
                    )
                    continue
                ended = time.perf_counter()
                error = "" if response.is_success else response.text[:200]
                sink.append(
                    Answer(
                        started - self._t0,
                        ended - started,
                        response.status_code,
                        response.headers.get("x-model-version", ""),
                        error,
                    )
                )


@dataclass(frozen=True)
class Switch:
    """What happened when the run switched models mid-way."""

    action: str
    at_s: float  # when it was triggered, since the start
    took_s: float
    ok: bool
    detail: str
    versions_before: dict[str, int]  # answers by version, requests started before the switch
    versions_after: dict[str, int]  # ... started after it returned
    in_between: dict[str, int]  # ... started while it ran

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "at_s": round(self.at_s, 3),
            "took_s": round(self.took_s, 3),
            "ok": self.ok,
            "detail": self.detail,
            "versions_before": self.versions_before,
            "versions_during": self.in_between,
            "versions_after": self.versions_after,
        }


@dataclass(frozen=True)
class LoadReport:
    url: str
    clients: int
    seconds: float
    requests: int
    failures: int
    statuses: dict[str, int]
    latency_ms: dict[str, float]
    versions: dict[str, int]
    failure_samples: list[str] = field(default_factory=list)
    switch: Switch | None = None
    engine: str = "thread"

    @property
    def throughput_rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "engine": self.engine,
            "concurrency": self.clients,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "failures": self.failures,
            "throughput_rps": round(self.throughput_rps, 2),
            "latency_ms": self.latency_ms,
            "statuses": self.statuses,
            "versions": self.versions,
            "failure_samples": self.failure_samples,
            "switch": self.switch.to_dict() if self.switch else None,
        }


@dataclass(frozen=True)
class SwitchEvent:
    """A switch as it happened: its name, when it ran, and what it said."""

    action: str
    at_s: float
    done_s: float
    ok: bool
    detail: str


def summarise_load(
    generator: LoadGenerator, seconds: float, event: SwitchEvent | None = None
) -> LoadReport:
    answers = [a for client in generator.answers for a in client]
    failed = [a for a in answers if a.status is None or a.status >= 400]
    latencies = np.array([a.latency_s for a in answers]) * 1000 if answers else np.zeros(1)
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    served = [a for a in answers if a.status is not None and a.status < 400]
    switch = None
    if event is not None:

        def versions(low: float, high: float) -> dict[str, int]:
            return dict(Counter(a.version for a in served if low <= a.started_s < high))

        switch = Switch(
            action=event.action,
            at_s=event.at_s,
            took_s=event.done_s - event.at_s,
            ok=event.ok,
            detail=event.detail,
            versions_before=versions(0.0, event.at_s),
            in_between=versions(event.at_s, event.done_s),
            versions_after=versions(event.done_s, float("inf")),
        )
    return LoadReport(
        url=generator.url,
        clients=generator.clients,
        seconds=seconds,
        requests=len(answers),
        failures=len(failed),
        statuses={str(k): v for k, v in sorted(Counter(str(a.status) for a in answers).items())},
        latency_ms={
            "mean": round(float(latencies.mean()), 3),
            "p50": round(float(p50), 3),
            "p95": round(float(p95), 3),
            "p99": round(float(p99), 3),
        },
        versions=dict(Counter(a.version for a in served)),
        failure_samples=[
            f"HTTP {a.status}: {a.error}" if a.status else a.error for a in failed[:10]
        ],
        switch=switch,
    )


def run_load(
    url: str,
    *,
    clients: int,
    duration_s: float | None = None,
    max_requests: int | None = None,
    requests: Sequence[Request] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 30.0,
    switch: tuple[str, Callable[[], str]] | None = None,
    switch_at_s: float | None = None,
    engine: str = "thread",
) -> LoadReport:
    """Load ``url`` with ``clients`` for ``duration_s`` seconds or ``max_requests`` requests.

    ``switch`` is ``(name, action)``: the action runs once at ``switch_at_s`` (default: half
    the duration, or once half the requests are answered) and returns a description of what
    it did; what it raises is reported in :attr:`LoadReport.switch`, not raised.

    ``engine`` is ``thread`` (default) or ``wrk``, which runs for a duration, without a switch,
    and reports no versions.
    """
    if (duration_s is None) == (max_requests is None):
        raise ValueError("give either a duration or a number of requests")
    if engine not in ENGINES:
        raise ValueError(f"unknown load engine {engine!r}; engines: {', '.join(ENGINES)}")
    if engine == "wrk":
        if duration_s is None or switch is not None:
            raise ValueError("the wrk engine runs for a duration, without a switch")
        return _wrk_report(
            url, clients, duration_s, requests or default_requests(), headers, timeout_s
        )
    generator = LoadGenerator(
        url,
        clients=clients,
        requests=requests,
        headers=headers,
        timeout_s=timeout_s,
        max_requests=max_requests,
    ).start()
    event: SwitchEvent | None = None
    try:
        if switch is not None:
            if switch_at_s is not None:
                time.sleep(switch_at_s)
            elif duration_s is not None:
                time.sleep(duration_s / 2)
            else:
                generator.wait_for_count(max(1, (max_requests or 0) // 2), timeout_s=3600)
            event = _run_switch(generator, *switch)
        if duration_s is not None:
            time.sleep(max(0.0, duration_s - generator.elapsed_s))
            generator.stop()
        else:
            generator.join()
    finally:
        generator.stop()
    return summarise_load(generator, generator.elapsed_s, event)


def _wrk_report(
    url: str,
    clients: int,
    duration_s: float,
    requests: Sequence[Request],
    headers: Mapping[str, str] | None,
    timeout_s: float,
) -> LoadReport:
    summary = run_wrk(
        url,
        clients=clients,
        duration_s=duration_s,
        requests=[(r.path, r.json) for r in requests],
        headers=headers,
        timeout_s=timeout_s,
    )
    errors = summary["errors"]
    sockets = {k: int(errors[k]) for k in ("connect", "read", "write", "timeout") if errors[k]}
    latency = summary["latency_us"]
    return LoadReport(
        url=url.rstrip("/"),
        clients=clients,
        seconds=summary["duration_us"] / 1e6,
        requests=int(summary["requests"]),
        failures=int(errors["status"]) + sum(sockets.values()),
        statuses={
            "2xx/3xx": int(summary["requests"]) - int(errors["status"]),
            "4xx/5xx": int(errors["status"]),
        },
        latency_ms={k: round(latency[k] / 1000, 3) for k in ("mean", "p50", "p95", "p99")},
        versions={},
        failure_samples=[f"{n} {kind} error(s)" for kind, n in sockets.items()],
        engine="wrk",
    )


def _run_switch(generator: LoadGenerator, name: str, action: Callable[[], str]) -> SwitchEvent:
    at = generator.elapsed_s
    try:
        detail, ok = action(), True
    except Exception as exc:  # reported in the load report, whatever the action raised
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return SwitchEvent(name, at, generator.elapsed_s, ok, detail)

"""Micro-batched ``/predict`` against a naive endpoint that runs the model once per request.

Starts the real server (``emotion-clf serve``, one worker, in a subprocess on 127.0.0.1) on a
temporary registry holding one model, with the hidden ``/predict/naive`` route switched on
(``EMOTION_CLF_BENCHMARK_ROUTES=true``). Both routes take the same request, return the same
body and do the same bookkeeping (metrics, prediction log); they differ only in how the model
is called: ``/predict`` queues the text for the micro-batcher, ``/predict/naive`` is a plain
``def`` route that calls ``predict_batch([text])`` in FastAPI's thread pool.

For each number of concurrent clients (the project's load generator,
:mod:`emotion_clf.checks.load`: one keep-alive connection each), each route is driven for
a fixed time, alternating routes over several rounds so drift on a shared
machine hits both alike. Prints a table and writes ``benchmarks/results/serving_microbatch.json``.
The figure is a ratio within the run: micro-batched over naive requests/s at the most clients.

    python -m benchmarks.serving_microbatch --bundle /tmp/minilm-default   # the served family
    python -m benchmarks.serving_microbatch                 # tfidf, trained on data/raw (seconds)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from emotion_clf.checks.load import LoadGenerator, Request, run_load
from emotion_clf.config import Settings
from emotion_clf.models.bundle import read_manifest
from emotion_clf.promotion import promote
from emotion_clf.registry import open_registry

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"  # the package the server subprocess imports: this checkout's

ROUTES = {"naive": "/predict/naive", "micro-batched": "/predict"}


def sample_texts(n: int, seed: int = 0) -> list[str]:
    """Real sentences from the bundled data, so text lengths are realistic."""
    texts: list[str] = []
    for path in sorted((ROOT / "data" / "raw").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            texts += [row["text"].strip() for row in csv.DictReader(handle) if row["text"].strip()]
    random.Random(seed).shuffle(texts)
    return texts[:n]


def train_default(out: Path) -> Path:
    from emotion_clf.training import train_model

    print("training tfidf on data/raw (about 10 s)...", flush=True)
    return train_model("tfidf", data=ROOT / "data" / "raw", out=out, seed=0).bundle


def register(settings: Settings, bundle: Path) -> str:
    """Register ``bundle`` in the temporary registry and designate it baseline."""
    info = open_registry(settings).register_bundle(bundle, designate=None)
    promote(settings=settings, version=info.version, force=True, reason="benchmark", refresh=False)
    return info.version


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def start_server(home: Path, port: int, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cli = str(Path(sys.executable).parent / "emotion-clf")
    full_env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "EMOTION_CLF_HOME": str(home),
        "EMOTION_CLF_BENCHMARK_ROUTES": "true",
        "EMOTION_CLF_POLL_S": "0",
        "EMOTION_CLF_REFRESH_ENDPOINTS": "",
        **env,
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=full_env,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)  # not listening yet
    raise SystemExit(f"server not ready:\n{log.read_text()[-3000:]}")


def drive(url: str, path: str, clients: int, seconds: float, texts: list[str]) -> dict[str, Any]:
    """``clients`` concurrent clients of the project's load generator
    (:mod:`emotion_clf.checks.load`), each one request at a time, for ``seconds`` after a
    short warm-up (connections opened, caches filled)."""
    requests = [Request(path, {"text": text}) for text in texts]
    run_load(url, clients=clients, duration_s=min(1.0, seconds / 5), requests=requests)
    generator = LoadGenerator(url, clients=clients, requests=requests).start()
    time.sleep(seconds)
    generator.stop()
    answers = [a for client in generator.answers for a in client]
    return {
        "requests": sum(a.status == 200 for a in answers),
        "failures": sum(a.status != 200 for a in answers),
        "seconds": generator.elapsed_s,
        "latencies": [a.latency_s for a in answers if a.status == 200],
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = np.array([x for r in runs for x in r["latencies"]]) * 1000
    seconds = sum(r["seconds"] for r in runs)
    requests = sum(r["requests"] for r in runs)
    return {
        "requests": requests,
        "failures": sum(r["failures"] for r in runs),
        "seconds": round(seconds, 2),
        "rps": round(requests / seconds, 1),
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p99_ms": round(float(np.percentile(latencies, 99)), 2),
    }


def histogram_totals(url: str, name: str) -> dict[str, float]:
    """``count`` and ``sum`` of a Prometheus histogram in the server's ``/metrics`` (empty
    where the server has no such histogram)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    found = dict(re.findall(rf"^{re.escape(name)}_(sum|count) (\S+)$", text, re.M))
    return {k: float(v) for k, v in found.items()}


def batch_sizes(url: str) -> dict[str, float]:
    return histogram_totals(url, "emotion_clf_model_batch_size")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, help="bundle to serve (default: train tfidf)")
    parser.add_argument("--clients", default="1,32", help="comma-separated client counts")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per route per round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per route")
    parser.add_argument("--max-batch", type=int, help="EMOTION_CLF_MICROBATCH_MAX_SIZE")
    parser.add_argument("--max-wait-ms", type=float, help="EMOTION_CLF_MICROBATCH_MAX_WAIT_MS")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "serving_microbatch.json"
    )
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    work = Path(tempfile.mkdtemp(prefix="emotion-clf-bench-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        bundle = args.bundle or train_default(work / "tfidf")
        manifest = read_manifest(bundle)
        settings = Settings(home=work / "home", refresh_endpoints=[])
        version = register(settings, bundle)
        env: dict[str, str] = {}
        if args.max_batch is not None:
            env["EMOTION_CLF_MICROBATCH_MAX_SIZE"] = str(args.max_batch)
        if args.max_wait_ms is not None:
            env["EMOTION_CLF_MICROBATCH_MAX_WAIT_MS"] = str(args.max_wait_ms)
        defaults = Settings(home=work / "home")
        max_size = args.max_batch or defaults.serving.microbatch_max_size
        max_wait_ms = (
            args.max_wait_ms
            if args.max_wait_ms is not None
            else defaults.serving.microbatch_max_wait_s * 1000
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = start_server(work / "home", port, work / "server.log", env)
        texts = sample_texts(5000)
        load_before = os.getloadavg()
        print(
            f"serving v{version} ({manifest.family}) on {url}; {os.cpu_count()} CPU(s); "
            f"{args.rounds} round(s) of {args.duration:g} s per route and client count",
            flush=True,
        )
        results: dict[str, dict[int, list[dict[str, Any]]]] = {name: {} for name in ROUTES}
        batches: dict[int, dict[str, float]] = {}
        for n in clients:
            before = batch_sizes(url)
            for _ in range(args.rounds):
                for name, path in ROUTES.items():
                    run = drive(url, path, n, args.duration, texts)
                    results[name].setdefault(n, []).append(run)
                    print(
                        f"  {name:>13} x{n:<3} {run['requests'] / run['seconds']:8.1f} rps",
                        flush=True,
                    )
            after = batch_sizes(url)
            calls = after.get("count", 0) - before.get("count", 0)
            batches[n] = {
                "model_calls": calls,
                "mean_batch_size": round((after.get("sum", 0) - before.get("sum", 0)) / calls, 2)
                if calls
                else 0.0,
            }
        table = {
            name: {n: summarise(runs) for n, runs in by_n.items()} for name, by_n in results.items()
        }
        load_after = os.getloadavg()
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"{'route':>13} {'clients':>7} {'requests':>9} {'rps':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name in ROUTES:
        for n in clients:
            row = table[name][n]
            print(
                f"{name:>13} {n:>7} {row['requests']:>9} {row['rps']:>8.1f} "
                f"{row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}"
            )
    top = max(clients)
    naive, batched = table["naive"][top], table["micro-batched"][top]
    ratio = batched["rps"] / naive["rps"]
    p99_ok = batched["p99_ms"] <= naive["p99_ms"]
    print(
        f"\nat {top} clients: micro-batched / naive throughput = {ratio:.2f}x (target >= 3x: "
        f"{'met' if ratio >= 3 else 'NOT met'}); p99 {batched['p99_ms']:.1f} ms vs "
        f"{naive['p99_ms']:.1f} ms ({'met' if p99_ok else 'NOT met'}); "
        f"mean model batch {batches[top]['mean_batch_size']}"
    )
    result = {
        "benchmark": "serving_microbatch",
        "command": " ".join(["python", "-m", "benchmarks.serving_microbatch", *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        },
        "model": {"family": manifest.family, "bundle": str(args.bundle or "tfidf on data/raw")},
        "server": {
            "workers": 1,
            "microbatch_max_size": max_size,
            "microbatch_max_wait_ms": max_wait_ms,
        },
        "client": "emotion_clf.checks.load: one thread and one keep-alive httpx.Client per "
        "client, one request at a time per client; on the same machine as the server",
        "duration_s_per_round": args.duration,
        "rounds": args.rounds,
        "results": {name: {str(n): row for n, row in by_n.items()} for name, by_n in table.items()},
        "micro_batches": {str(n): b for n, b in batches.items()},
        "at_max_clients": {
            "clients": top,
            "throughput_ratio": round(ratio, 2),
            "p99_ms": {"micro-batched": batched["p99_ms"], "naive": naive["p99_ms"]},
            "target_throughput_3x_met": ratio >= 3,
            "target_p99_not_worse_met": p99_ok,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

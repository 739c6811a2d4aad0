"""CPU per request of the serving stack itself, without sockets and without the model.

``wrk`` against a server on a 2-core machine moves from one minute to the next by more than
most single changes to the request path are worth. This drives the real app in-process
(``create_app``: middleware, the prediction fast lane, micro-batcher, metrics, the prediction
log and its writer thread) with 32 concurrent ``POST /predict`` requests and counts the
process's CPU time per request. The model call is replaced by its cached answer for the batch
size (measured once, on the real bundle), so the figure is the stack's own cost; with
``--with-model`` the real model runs too.

Variants (``NAME=SRC``, the package's source folder, first on the child's ``PYTHONPATH``) run
in turns in child processes, so a drift of the machine reaches each variant alike; the table
gives the median (range). Writes ``benchmarks/results/serving_stack_cost.json``::

    python -m benchmarks.serving_stack_cost --bundle TFIDF_BUNDLE \\
        --variant before=<worktree>/src --variant after=src --rounds 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.machine import header
from benchmarks.serving_microbatch import sample_texts

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "stack-cost-benchmark-token-0123456789abcdef"


def _child(home: Path, requests: int, clients: int, with_model: bool) -> dict[str, Any]:
    """One measurement, in this process, and the package it used.

    The variant's package comes first on ``PYTHONPATH``; the parent checks which package each
    child imported (a helper that put this checkout's ``src`` first once made every variant
    measure this checkout's code).
    """
    import emotion_clf
    import emotion_clf.serving.runtime.batcher as batcher
    from emotion_clf.config import Settings
    from emotion_clf.serving import create_app

    app = create_app(Settings(home=home, refresh_endpoints=[], poll_s=0, refresh_token=TOKEN))
    bodies = [json.dumps({"text": t}).encode() for t in sample_texts(512)]
    statuses: list[int] = []

    async def one(body: bytes) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/predict",
            "raw_path": b"/predict",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"bench"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 2),
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # no disconnect while the request runs
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)

    async def client(k: int, n: int) -> None:
        for i in range(n):
            await one(bodies[(k * 7 + i) % len(bodies)])

    async def main() -> dict[str, Any]:
        async with app.router.lifespan_context(app):
            if not with_model:
                cached: dict[int, Any] = {}
                real = batcher._run_batch

                def answer(predictor: Any, texts: list[str]) -> Any:
                    if len(texts) not in cached:
                        cached[len(texts)] = real(predictor, texts)
                    return cached[len(texts)]

                batcher._run_batch = answer  # type: ignore[assignment]
            await asyncio.gather(*(client(k, 40) for k in range(clients)))  # warm-up
            statuses.clear()
            wall0, cpu0 = time.perf_counter(), time.process_time()
            await asyncio.gather(*(client(k, requests // clients) for k in range(clients)))
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        if set(statuses) != {200}:
            raise SystemExit(f"unexpected statuses: {sorted(set(statuses))}")
        return {
            "package": str(Path(emotion_clf.__file__).parent),
            "requests": len(statuses),
            "cpu_us_per_request": round(cpu / len(statuses) * 1e6, 1),
            "requests_per_s": round(len(statuses) / wall, 1),
        }

    import uvloop

    return uvloop.run(main())


def _run_variant(src: Path, home: Path, args: argparse.Namespace) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [
        sys.executable,
        "-m",
        "benchmarks.serving_stack_cost",
        "--child",
        str(home),
        "--requests",
        str(args.requests),
        "--clients",
        str(args.clients),
        *(["--with-model"] if args.with_model else []),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{src}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    package = Path(result.pop("package"))
    if package != src.resolve() / "emotion_clf":
        raise SystemExit(f"variant {src} imported the package from {package}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, help="a tfidf or minilm bundle folder")
    parser.add_argument("--variant", action="append", help="NAME=SRC (default: this checkout)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--with-model", action="store_true", help="run the real model too")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "serving_stack_cost.json"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(_child(args.child, args.requests, args.clients, args.with_model)))
        return
    if args.bundle is None:
        parser.error("--bundle is required")
    from benchmarks import reliability

    load_before = os.getloadavg()
    variants = dict(v.split("=", 1) for v in (args.variant or [f"this={ROOT / 'src'}"]))
    results: dict[str, Any] = {
        **header(__file__, load_before),
        "bundle": str(args.bundle),
        "with_model": args.with_model,
    }
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory(prefix="emotion-clf-stack-") as root:
        home = reliability.make_home(Path(root), args.bundle.resolve())
        for _ in range(args.rounds):
            for name, src in variants.items():
                runs[name].append(_run_variant(Path(src).resolve(), home, args))
    results["runs"] = runs
    what = "stack and model" if args.with_model else "stack, model answer cached"
    print(f"| variant | CPU µs per request ({what}) | requests/s |")
    print("|---|---:|---:|")
    for name, rows in runs.items():
        cpu = [r["cpu_us_per_request"] for r in rows]
        rate = [r["requests_per_s"] for r in rows]
        print(
            f"| {name} | {statistics.median(cpu):.1f} ({min(cpu):.1f} - {max(cpu):.1f}) "
            f"| {statistics.median(rate):,.0f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

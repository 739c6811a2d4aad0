"""Serving, proven: every figure of issue 14 in one run, in ``benchmarks/results/reliability.md``.

One command regenerates the note (and ``benchmarks/results/reliability.json``):

    python -m benchmarks.reliability --bundle /tmp/minilm-bench            # 10-minute soak
    python -m benchmarks.reliability --bundle /tmp/minilm-bench --soak-seconds 120

Each part starts the real server (``emotion-clf serve`` in a subprocess on 127.0.0.1) on a
temporary registry holding ``--bundle`` as v1 (baseline) and v2 (dynamic):

1. throughput: the in-process ceiling (``predict_batch``, batch 32 and batch 1), the server
   under ``wrk`` (the load generator's C engine) at 32 clients and at 1, then the ceiling again;
2. shadow traffic: the 1-client latency again with ``EMOTION_CLF_SHADOW_RATE=1``;
3. worker convergence: ``--workers 2``, promote v2, one ``POST /refresh-model``, then the
   share of new-connection requests answered by v2;
4. registry faults at start-up (missing, corrupt, other-schema and foreign stores, an
   unreachable tracking server): what ``/ready``, ``/predict`` and ``/refresh-model`` said;
5. schemathesis with all checks: case and failure counts;
6. soak: steady load (the thread engine, every answer checked) with a promotion or rollback
   every minute; failed requests, resident memory and open file descriptors at start and end.

Requires ``wrk`` (``apt-get install wrk``). The machine may be shared: the load average is
recorded, and every ratio compares figures of the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.probes import update_reliability
from benchmarks.serving_microbatch import free_port, sample_texts
from emotion_clf.checks.load import LoadGenerator, Request, run_load
from emotion_clf.config import Settings
from emotion_clf.models.bundle import load_bundle
from emotion_clf.promotion import promote
from emotion_clf.registry import fetch_model, open_registry

ROOT = Path(__file__).resolve().parents[1]

TOKEN = "reliability-benchmark-token-0123456789abcdef"
CLI = str(Path(sys.executable).parent / "emotion-clf")


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def make_home(root: Path, bundle: Path) -> Path:
    """A registry with ``bundle`` as v1 (baseline, fetched once so the cache knows it) and
    again as v2 (dynamic)."""
    home = root / "template"
    settings = Settings(home=home, refresh_endpoints=[])
    registry = open_registry(settings)
    first = registry.register_bundle(bundle, designate=None)
    promote(settings=settings, version=first.version, force=True, reason="bench", refresh=False)
    fetch_model("baseline", settings=settings)
    registry.register_bundle(bundle, designate="dynamic")
    return home


@contextmanager
def server(
    home: Path, *, env: dict[str, str] | None = None, workers: int = 1
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    port = free_port()
    log = home / f"server-{port}.log"
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "EMOTION_CLF_HOME": str(home),
        "EMOTION_CLF_REFRESH_TOKEN": TOKEN,
        "EMOTION_CLF_POLL_S": "0",
        "EMOTION_CLF_REFRESH_ENDPOINTS": "",
        "EMOTION_CLF_MODEL_RETRY_S": "1",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        **(env or {}),
    }
    command = [CLI, "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning"]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=full_env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"server not ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url, process, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def copy_home(template: Path, root: Path, name: str) -> Path:
    home = root / name
    shutil.copytree(template, home)
    return home


# -- 1, 2: throughput -------------------------------------------------------------------------
PACE_S = 0.002  # about what one client's request spends outside the model call


def ceiling(bundle: Path, texts: list[str], seconds: float) -> dict[str, float]:
    """In-process: sentences/s at batch 32, and the median batch-1 latency."""
    predictor = load_bundle(bundle)
    predictor.predict_batch(texts[:32])
    done, started = 0, time.perf_counter()
    calls = []  # ms per batch-32 call: one worker at 32 clients makes a request wait for one
    while time.perf_counter() - started < seconds:
        t0 = time.perf_counter()
        predictor.predict_batch(texts[done % 480 : done % 480 + 32])
        calls.append((time.perf_counter() - t0) * 1000)
        done += 32
    batch32 = done / (time.perf_counter() - started)
    calls.sort()

    def batch1(pause_s: float) -> tuple[float, float]:
        """p50 and mean ms of batch-1 calls."""
        latencies = []
        for text in texts[:200]:
            if pause_s:
                time.sleep(pause_s)
            t0 = time.perf_counter()
            predictor.predict_batch([text])
            latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        return latencies[100], round(sum(latencies) / len(latencies), 3)

    back_to_back, paced = batch1(0.0), batch1(PACE_S)
    return {
        "batch32_sentences_per_s": round(batch32, 1),
        "batch32_call_p50_ms": round(calls[len(calls) // 2], 2),
        "batch32_call_p99_ms": round(calls[min(len(calls) - 1, int(len(calls) * 0.99))], 2),
        "batch1_p50_ms": back_to_back[0],
        "batch1_mean_ms": back_to_back[1],
        # a one-client server idles between requests (the response out, the next request in):
        # the same call after a pause of that length, where the cores have gone idle
        "batch1_paced_p50_ms": paced[0],
        "batch1_paced_mean_ms": paced[1],
        "pace_ms": PACE_S * 1000,
    }


def wrk(
    url: str,
    clients: int,
    seconds: float,
    texts: list[str],
    *,
    after_warm_up: Callable[[], None] | None = None,
) -> dict[str, Any]:
    requests = [Request("/predict", {"text": t}) for t in texts[:200]]
    run_load(url, clients=clients, duration_s=2, requests=requests, engine="wrk")  # warm-up
    if after_warm_up is not None:
        after_warm_up()
    report = run_load(url, clients=clients, duration_s=seconds, requests=requests, engine="wrk")
    return {
        "clients": clients,
        "rps": round(report.throughput_rps, 1),
        "mean_ms": report.latency_ms["mean"],
        "p50_ms": report.latency_ms["p50"],
        "p99_ms": report.latency_ms["p99"],
        "failures": report.failures,
        "load_average": load_average(),
    }


# -- 3: worker convergence ----------------------------------------------------------------------
def convergence(template: Path, root: Path) -> dict[str, Any]:
    home = copy_home(template, root, "workers")
    with server(home, workers=2) as (url, _, _):
        settings = Settings(home=home, refresh_endpoints=[])
        promote(settings=settings, version="2", force=True, reason="bench", refresh=False)
        started = time.perf_counter()
        answer = httpx.post(
            f"{url}/refresh-model", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=180
        )
        refresh_s = time.perf_counter() - started
        body = answer.json()
        versions = [
            httpx.post(f"{url}/predict", json={"text": f"x{i}"}).headers["x-model-version"]
            for i in range(200)
        ]
    return {
        "status": answer.status_code,
        "workers_in_answer": len(body.get("workers", [])),
        "refresh_s": round(refresh_s, 2),
        "requests_after": len(versions),
        "share_on_new_version": versions.count("2") / len(versions),
    }


# -- 4: faults -------------------------------------------------------------------------------
def _store(home: Path) -> Path:
    return home / "mlruns" / "mlflow.db"


def _schema(store: Path) -> None:
    with sqlite3.connect(store) as db:
        db.execute("UPDATE alembic_version SET version_num = 'abcdef123456'")


def _foreign(store: Path) -> None:
    store.unlink()
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY)")


FAULTS: dict[str, Callable[[Path], None]] = {
    "store file missing": lambda s: s.unlink(),
    "store corrupt": lambda s: s.write_bytes(b"not a database\n" * 100),
    "store of another schema": _schema,
    "not an MLflow store": _foreign,
}


def faults(template: Path, root: Path) -> list[dict[str, Any]]:
    out = []
    cases: list[tuple[str, Callable[[Path], None] | None, dict[str, str]]] = [
        (name, damage, {}) for name, damage in FAULTS.items()
    ]
    cases.append(
        (
            "tracking server unreachable",
            None,
            {"EMOTION_CLF_TRACKING_URI": f"http://127.0.0.1:{free_port()}"},
        )
    )
    for i, (name, damage, env) in enumerate(cases):
        home = copy_home(template, root, f"fault-{i}")
        store = _store(home)
        if damage is not None:
            damage(store)
        before = store.exists()
        with server(home, env=env) as (url, _, log):
            ready = httpx.get(f"{url}/ready").json()
            predicted = httpx.post(f"{url}/predict", json={"text": "still serving?"})
            refresh = httpx.post(
                f"{url}/refresh-model", headers={"Authorization": f"Bearer {TOKEN}"}
            )
        out.append(
            {
                "fault": name,
                "ready_version": ready.get("version"),
                "offline": ready.get("offline"),
                "ready_detail": ready.get("detail"),
                "predict_status": predicted.status_code,
                "refresh_status": refresh.status_code,
                "refresh_detail": refresh.json().get("detail"),
                "store_created": store.exists() and not before,
                "traceback_in_log": "Traceback" in log.read_text(),
            }
        )
    return out


# -- 5: fuzzing --------------------------------------------------------------------------------
# the fuzz test's own settings and hooks (tests/serving/): SRT and WebVTT written from cues, a
# recording with speech for the media route; the feedback volume limit off, or most of the
# fuzzer's submissions would be 429s and the route's logic left untested
FUZZ_ENV = {
    "EMOTION_CLF_FEEDBACK_MAX_SUBMISSIONS_PER_MINUTE": "0",
    "EMOTION_CLF_FEEDBACK_MAX_BYTES_PER_MINUTE": "0",
}
REPO = Path(__file__).resolve().parents[1]


def fuzz(url: str, workdir: Path) -> dict[str, Any]:
    """schemathesis with every check over every route, as tests/serving/http/test_openapi.py
    runs it (needs espeak-ng for the media route's recording)."""
    speech = workdir / "fuzz-speech.wav"
    say = ["espeak-ng", "-s", "150", "-w", str(speech), "I am so happy today."]
    subprocess.run(say, check=True)
    command = [str(Path(sys.executable).parent / "schemathesis")]
    command += ["--config-file", str(REPO / "tests" / "serving" / "schemathesis.toml")]
    command += ["run", f"{url}/openapi.json", "--checks", "all", "--max-examples", "50"]
    command += ["--workers", "1", "--seed", "1", "--request-timeout", "120"]
    command += ["-H", f"Authorization: Bearer {TOKEN}"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
        "SCHEMATHESIS_HOOKS": "tests.serving.schemathesis_hooks",
        "EMOTION_CLF_FUZZ_SPEECH": str(speech),
    }
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=workdir, env=env, check=False
    )
    counts = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    failures = re.search(r"(\d+) failures?", done.stdout.splitlines()[-1] if done.stdout else "")
    return {
        "exit_code": done.returncode,
        "generated": int(counts.group(1)) if counts else None,
        "passed": int(counts.group(2)) if counts else None,
        "failures": int(failures.group(1)) if failures else 0,
        "excluded": [],
    }


# -- 6: soak ---------------------------------------------------------------------------------
def _proc(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return {"rss_mib": rss // 1024, "open_fds": len(os.listdir(f"/proc/{pid}/fd"))}


def soak(template: Path, root: Path, seconds: float, texts: list[str]) -> dict[str, Any]:
    home = copy_home(template, root, "soak")
    with server(home) as (url, process, _):
        settings = Settings(
            home=home, refresh_endpoints=[f"{url}/refresh-model"], refresh_token=TOKEN
        )
        requests = [Request("/predict", {"text": t}) for t in texts[:200]]
        generator = LoadGenerator(url, clients=8, requests=requests).start()
        time.sleep(5)
        start = _proc(process.pid)
        switches, began, target = [], time.monotonic(), "2"
        while time.monotonic() - began < seconds:
            time.sleep(min(60, max(0.0, seconds - (time.monotonic() - began))))
            if time.monotonic() - began >= seconds:
                break
            before = _proc(process.pid)  # a minute after the previous switch
            result = promote(settings=settings, version=target, force=True, reason="soak")
            switches.append(
                {
                    "to": target,
                    "refreshed": all(r.ok for r in result.refresh),
                    "rss_mib_before": before["rss_mib"],
                }
            )
            target = "1" if target == "2" else "2"
        end = _proc(process.pid)
        generator.stop()
    answers = [a for client in generator.answers for a in client]
    return {
        "seconds": seconds,
        "requests": len(answers),
        "failed": sum(1 for a in answers if a.status != 200),
        "switches": switches,
        "start": start,
        "end": end,
    }


# -- the note --------------------------------------------------------------------------------
def render(r: dict[str, Any]) -> str:
    w32, w1, sh = r["wrk32"], r["wrk1"], r["shadow"]
    # the ceiling before the server runs and after them (older results have only the first)
    ceilings = [r["ceiling"], *([r["ceiling_after"]] if "ceiling_after" in r else [])]
    batch32 = [c["batch32_sentences_per_s"] for c in ceilings]
    batch1 = [c["batch1_p50_ms"] for c in ceilings]
    paced = [c["batch1_paced_p50_ms"] for c in ceilings if "batch1_paced_p50_ms" in c]

    def spread(values: list[float], fmt: str) -> str:
        return " and ".join(format(v, fmt) for v in values)

    ratios = [w32["rps"] / b for b in batch32]
    gaps = [w1["p50_ms"] - b for b in batch1]
    lines = [
        "# Serving reliability (issue 14)",
        "",
        f"Regenerated by `python -m benchmarks.reliability --bundle {r['bundle']} "
        f"--soak-seconds {r['soak']['seconds']:g}`; family `{r['family']}`, "
        f"{r['cpus']} CPUs, load average {r['load_average_start']} at start and "
        f"{r['load_average_end']} at the end (a shared machine: compare ratios, which come from "
        "the same run). JSON: `benchmarks/results/reliability.json`.",
        "",
        "## Throughput and latency (wrk, `/predict`, one worker)",
        "",
        "The in-process ceiling is measured just before the server runs and again just after "
        "them; each server figure is given against both. `python -m benchmarks.serving_throughput` "
        "repeats this for both families, one and two workers, and two code versions.",
        "",
        "| measured | figure |",
        "|---|---|",
        f"| in-process `predict_batch`, batch 32 (before, after) | "
        f"{spread(batch32, ',.1f')} sentences/s |",
        f"| in-process batch 1, median (before, after) | {spread(batch1, '.2f')} ms |",
        f"| server, 32 clients | {w32['rps']:,} requests/s "
        f"({spread(ratios, '.0%')} of the ceiling), "
        f"p50 {w32['p50_ms']} ms, p99 {w32['p99_ms']} ms, {w32['failures']} failed |",
        f"| server, 1 client | {w1['rps']:,} requests/s, p50 {w1['p50_ms']} ms "
        f"({spread(gaps, '+.2f')} ms over in-process batch 1"
        + (
            f"; {spread([w1['p50_ms'] - b for b in paced], '+.2f')} ms over batch 1 called "
            f"after a {ceilings[0]['pace_ms']:g} ms pause"
            if paced
            else ""
        )
        + ") |",
        f"| server, 1 client, shadow rate 1.0 | p50 {sh['p50_ms']} ms, p99 {sh['p99_ms']} ms "
        f"(without shadow: p50 {w1['p50_ms']} ms, p99 {w1['p99_ms']} ms) |",
        "",
    ]
    if w32["rps"] > max(batch32) or w1["p50_ms"] < min(batch1):
        lines += [
            "**The ceiling of this run is not valid**: the server beat the in-process figure, "
            "so the in-process measurement was starved by other work on the machine (see the "
            "load average). Rerun on quiet cores before reading the ratios.",
            "",
        ]
    lines += [
        "## A refresh reaches every worker (`--workers 2`)",
        "",
    ]
    v = r["convergence"]
    lines += [
        f"`POST /refresh-model` answered {v['status']} in {v['refresh_s']} s listing "
        f"{v['workers_in_answer']} workers; of {v['requests_after']} requests right after, each "
        f"on a new connection, {v['share_on_new_version']:.0%} carried the new version.",
        "",
        "## Registry faults at start-up (a verified cached baseline on disk)",
        "",
        "| fault | /ready | /predict | /refresh-model | store created | traceback |",
        "|---|---|---|---|---|---|",
    ]
    for f in r["faults"]:
        lines.append(
            f"| {f['fault']} | v{f['ready_version']}, offline={f['offline']}: {f['ready_detail']} "
            f"| {f['predict_status']} | {f['refresh_status']}: {f['refresh_detail']} "
            f"| {f['store_created']} | {f['traceback_in_log']} |"
        )
    z, s = r["fuzz"], r["soak"]
    lines += [
        "",
        "## Fuzzing (schemathesis, all checks)",
        "",
        f"{z['generated']} cases generated, {z['passed']} passed, {z['failures']} failures "
        f"(exit code {z['exit_code']}); "
        + (f"not fuzzed: {', '.join(z['excluded'])}." if z["excluded"] else "every route fuzzed."),
        "",
        "## Soak",
        "",
        f"{s['seconds']:g} s at 8 clients with a promotion or rollback every minute "
        f"({len(s['switches'])} switches, all refreshed: "
        f"{all(x['refreshed'] for x in s['switches'])}): {s['requests']:,} requests, "
        f"{s['failed']} failed. Resident memory {s['start']['rss_mib']} MiB -> "
        f"{s['end']['rss_mib']} MiB, open file descriptors {s['start']['open_fds']} -> "
        f"{s['end']['open_fds']}.",
        "",
    ]
    steps = [str(x["rss_mib_before"]) for x in s["switches"] if "rss_mib_before" in x]
    if steps:
        lines += [
            f"Resident memory (MiB) at the start, then just before each switch (a minute "
            f"apart), then at the end: {s['start']['rss_mib']}, {', '.join(steps)}, "
            f"{s['end']['rss_mib']}.",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--seconds", type=float, default=15, help="each wrk run")
    parser.add_argument("--soak-seconds", type=float, default=600)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results", help="folder of both files"
    )
    parser.add_argument(
        "--from-json", type=Path, help="only rewrite the note from a results file of a run"
    )
    args = parser.parse_args()
    if args.from_json is not None:
        (args.out / "reliability.md").write_text(
            render(json.loads(args.from_json.read_text())), encoding="utf-8"
        )
        return
    if args.bundle is None:
        parser.error("--bundle is required")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    texts = sample_texts(500)
    root = Path(tempfile.mkdtemp(prefix="emotion-clf-reliability-"))
    results: dict[str, Any] = {
        "command": " ".join(["python", "-m", "benchmarks.reliability", *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "bundle": str(args.bundle),
        "family": json.loads((args.bundle / "manifest.json").read_text()).get("family"),
        "cpus": os.cpu_count(),
        "load_average_start": load_average(),
    }
    try:
        template = make_home(root, args.bundle)
        print("in-process ceiling...", flush=True)
        results["ceiling"] = ceiling(args.bundle, texts, args.seconds)
        with server(copy_home(template, root, "throughput")) as (url, _, _):
            print("wrk, 32 clients and 1...", flush=True)
            results["wrk32"] = wrk(url, 32, args.seconds, texts)
            results["wrk1"] = wrk(url, 1, args.seconds, texts)
        # measured again right after the server runs: on a shared machine the ceiling drifts
        # by as much as the targets' margins, so each run is read against the two beside it
        print("in-process ceiling again...", flush=True)
        results["ceiling_after"] = ceiling(args.bundle, texts, args.seconds)
        with server(copy_home(template, root, "fuzz"), env=FUZZ_ENV) as (url, _, _):
            print("schemathesis...", flush=True)
            results["fuzz"] = fuzz(url, root)
        shadow_env = {"EMOTION_CLF_SHADOW_RATE": "1.0"}
        with server(copy_home(template, root, "shadow"), env=shadow_env) as (url, _, _):
            print("shadow latency...", flush=True)
            time.sleep(5)  # the candidate loads beside the served model
            results["shadow"] = wrk(url, 1, args.seconds, texts)
        print("worker convergence...", flush=True)
        results["convergence"] = convergence(template, root)
        print("faults...", flush=True)
        results["faults"] = faults(template, root)
        print(f"soak, {args.soak_seconds:g} s...", flush=True)
        results["soak"] = soak(template, root, args.soak_seconds, texts)
        results["load_average_end"] = load_average()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reliability.json").write_text(json.dumps(results, indent=2) + "\n")
    note = render(results)
    (args.out / "reliability.md").write_text(note, encoding="utf-8")
    update_reliability(args.out / "reliability.md")  # keeps the probe table of benchmarks.probes
    print(note)


if __name__ == "__main__":
    main()

"""Throughput and tail latency of ``emotion-clf serve`` against the model's own ceiling.

    python -m benchmarks.serving_throughput --bundle tfidf=/tmp/tfidf --bundle minilm=/tmp/minilm
    python -m benchmarks.serving_throughput ... --variant before=/tmp/before/src --variant after=src

For each bundle, in one run:

- the in-process ceiling: ``predict_batch`` at batch 32 (sentences/s, and the p99 of one
  call: with one worker at 32 clients a request waits for at least one) and the median batch-1
  latency, back to back and paced (a 2 ms pause before each call, as a one-client server idles
  between requests), measured first and again after every server run: each run is compared
  with the mean of the two measured next to it (a shared machine's speed drifts by tens of
  percent over minutes; the spread shows it);
- for each variant (the package's source folder the server imports, through its
  ``PYTHONPATH``: compare two commits in the same run) and each worker count: ``wrk`` (a C
  load generator) on ``GET /health`` at 32 clients (what the HTTP stack alone allows),
  ``POST /predict`` at 32 clients and at 1;
  with ``--shadow``, the same for one worker whose candidate predicts every request;
- with ``--repeat N``, N rounds of all of it, and a summary of each target over the rounds;
- where the one-client time goes, in means: the model call as the server timed it (the
  ``emotion_clf_model_batch_duration_seconds`` histogram of its ``/metrics``, read after the
  one-client warm-up and at the end of the run) against the same call in-process, and the rest
  of the request.

It prints the table and writes ``--out`` (``benchmarks/results/serving_throughput.json``).
The issue's targets, as ratios of figures of this run: 32 clients at least 70% of the batch-32
ceiling with p99 under 100 ms; 1 client within 2 ms of the batch-1 latency. Requires ``wrk``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import reliability as rel
from benchmarks.serving_microbatch import histogram_totals, sample_texts

ROOT = Path(__file__).resolve().parents[1]


def health_floor(url: str, seconds: float) -> float:
    """Requests/s of ``GET /health`` at 32 clients: the HTTP stack with no model in it."""
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{seconds:g}s", f"{url}/health"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if found is None:
        raise SystemExit(f"wrk printed no rate:\n{out}")
    return round(float(found.group(1)), 1)


def model_time(url: str) -> tuple[float, float] | None:
    """(batches, seconds) the server's model has run so far, from its ``/metrics``
    (``emotion_clf_model_batch_duration_seconds``; None where the server has no such metric)."""
    found = histogram_totals(url, "emotion_clf_model_batch_duration_seconds")
    if "count" not in found or "sum" not in found:
        return None
    return found["count"], found["sum"]


def measure_server(
    template: Path,
    root: Path,
    name: str,
    src: Path,
    workers: int,
    texts: list[str],
    seconds: float,
    shadow: bool = False,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One server under wrk; with ``shadow``, the candidate also predicts every request."""
    home = rel.copy_home(template, root, name)
    env = {"PYTHONPATH": str(src), **(extra_env or {})}
    if shadow:
        env["EMOTION_CLF_SHADOW_RATE"] = "1.0"
    with rel.server(home, env=env, workers=workers) as (url, _, _):
        if workers > 1 or shadow:
            time.sleep(5)  # /ready answers when one worker (or the served model) is up
        health = health_floor(url, min(seconds, 8))
        many = rel.wrk(url, 32, seconds, texts)
        before: list[tuple[float, float] | None] = []
        one = rel.wrk(url, 1, seconds, texts, after_warm_up=lambda: before.append(model_time(url)))
        after = model_time(url)
        if before[0] is not None and after is not None and after[0] > before[0][0]:
            calls, seconds_in_model = after[0] - before[0][0], after[1] - before[0][1]
            one["model_mean_ms"] = round(seconds_in_model / calls * 1000, 3)
    return {
        "workers": workers,
        "shadow": shadow,
        "health32_rps": health,
        "predict32": many,
        "predict1": one,
    }


def run(
    bundles: dict[str, Path],
    variants: dict[str, Path],
    workers: list[int],
    seconds: float,
    shadow: bool = False,
    repeat: int = 1,
    variant_env: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    texts = sample_texts(500)
    variant_env = variant_env or {}
    results: dict[str, Any] = {
        "command": " ".join(["python", "-m", "benchmarks.serving_throughput", *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "seconds": seconds,
        "repeat": repeat,
        "load_average_start": rel.load_average(),
        "variants": {name: str(path) for name, path in variants.items()},
        "variant_env": variant_env,
        "families": {},
    }
    root = Path(tempfile.mkdtemp(prefix="emotion-clf-throughput-"))
    try:
        for family, bundle in bundles.items():
            print(f"{family}: in-process ceiling...", flush=True)
            # the ceiling is measured again after every server run, and each run is compared
            # with the two measured next to it: a shared machine's speed drifts over minutes
            ceilings = [rel.ceiling(bundle, texts, seconds)]
            template = rel.make_home(root / family, bundle)
            plan = [(v, n, False) for v in variants for n in workers]
            plan += [(v, 1, True) for v in variants if shadow]
            runs = []
            for round_ in range(1, repeat + 1):
                for variant, n, with_shadow in plan:
                    what = "1 worker, shadow rate 1.0" if with_shadow else f"{n} worker(s)"
                    print(f"{family}: round {round_}, {variant}, {what}...", flush=True)
                    name = f"{family}-{variant}-{n}-{round_}" + ("-shadow" if with_shadow else "")
                    measured = measure_server(
                        template,
                        root,
                        name,
                        variants[variant],
                        n,
                        texts,
                        seconds,
                        with_shadow,
                        variant_env.get(variant),
                    )
                    ceilings.append(rel.ceiling(bundle, texts, seconds))
                    runs.append(
                        {
                            "variant": variant,
                            "round": round_,
                            **measured,
                            "ceilings": ceilings[-2:],
                        }
                    )
            results["families"][family] = {"ceilings": ceilings, "runs": runs}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    results["load_average_end"] = rel.load_average()
    return results


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per family, variant and worker count, with the ratios the targets name."""
    out = []
    for family, data in results["families"].items():
        for run in data["runs"]:
            # the ceilings measured next to this run (older results: the family's two)
            near = run.get("ceilings", data["ceilings"])
            b32 = [c["batch32_sentences_per_s"] for c in near]
            b1 = [c["batch1_p50_ms"] for c in near]
            paced = [c["batch1_paced_p50_ms"] for c in near if "batch1_paced_p50_ms" in c]
            call99 = [c["batch32_call_p99_ms"] for c in near if "batch32_call_p99_ms" in c]
            b1_mean = [c["batch1_mean_ms"] for c in near if "batch1_mean_ms" in c]
            paced_mean = [c["batch1_paced_mean_ms"] for c in near if "batch1_paced_mean_ms" in c]
            many, one = run["predict32"], run["predict1"]
            out.append(
                {
                    "family": family,
                    "variant": run["variant"] + (", shadow 1.0" if run.get("shadow") else ""),
                    "round": run.get("round", 1),
                    "workers": run["workers"],
                    "ceiling32": _mean(b32),
                    "ceiling32_spread": max(b32) - min(b32),
                    "batch1_ms": _mean(b1),
                    "health32": run["health32_rps"],
                    "rps32": many["rps"],
                    "ratio32": many["rps"] / _mean(b32),
                    "p50_32": many["p50_ms"],
                    "p99_32": many["p99_ms"],
                    "call99_32": _mean(call99) if call99 else None,
                    "failures": many["failures"] + one["failures"],
                    "p50_1": one["p50_ms"],
                    "gap_1": one["p50_ms"] - _mean(b1),
                    "paced_1": _mean(paced) if paced else None,
                    "gap_paced_1": one["p50_ms"] - _mean(paced) if paced else None,
                    # 1 client, means: the server's model time per call, and the rest
                    "mean_1": one.get("mean_ms"),
                    "model_1": one.get("model_mean_ms"),
                    "b1_mean": _mean(b1_mean) if b1_mean else None,
                    "paced_mean": _mean(paced_mean) if paced_mean else None,
                }
            )
    return out


def render(results: dict[str, Any]) -> str:
    table = rows(results)
    lines = [
        f"cpus {results['cpus']}, load average {results['load_average_start']} at start, "
        f"{results['load_average_end']} at end; wrk runs of {results['seconds']:g} s"
        + (
            "; each run against the in-process ceiling measured just before and just after it"
            if any("ceilings" in run for f in results["families"].values() for run in f["runs"])
            else "; every run against the mean of the ceilings measured first and last"
        ),
        "",
        "| family | variant | round | workers | ceiling b32 /s | /health 32 cl. /s "
        "| /predict 32 cl. /s | of ceiling | p50 ms | p99 ms | b32 call p99 ms | batch-1 ms "
        "| 1 cl. p50 ms | gap ms | paced batch-1 ms | gap to paced ms | failed |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table:
        paced = "–" if r["paced_1"] is None else f"{r['paced_1']:.2f}"
        gap_paced = "–" if r["gap_paced_1"] is None else f"{r['gap_paced_1']:+.2f}"
        call99 = "–" if r["call99_32"] is None else f"{r['call99_32']:.1f}"
        lines.append(
            f"| {r['family']} | {r['variant']} | {r['round']} | {r['workers']} "
            f"| {r['ceiling32']:,.0f} (±{r['ceiling32_spread'] / 2:,.0f}) | {r['health32']:,.0f} "
            f"| {r['rps32']:,.0f} | {r['ratio32']:.0%} | {r['p50_32']:.1f} | {r['p99_32']:.1f} "
            f"| {call99} | {r['batch1_ms']:.2f} | {r['p50_1']:.2f} | {r['gap_1']:+.2f} | {paced} "
            f"| {gap_paced} | {r['failures']} |"
        )
    if max(r["round"] for r in table) > 1:
        lines += ["", *summary(table)]
    split = [r for r in table if r["model_1"] is not None and r["mean_1"] is not None]
    if split:
        lines += ["", *one_client(split)]
    return "\n".join(lines) + "\n"


def one_client(table: list[dict[str, Any]]) -> list[str]:
    """Where a lone request's time goes, in means: the model call as the server timed it
    (``/metrics``), against the same call in-process, and everything else."""
    lines = [
        "1 client, means: the model call timed inside the server (its /metrics) against the "
        "in-process batch-1 call; outside = the request's mean minus the server's model call",
        "",
        "| family | variant | round | workers | 1 cl. mean ms | model call in server ms "
        "| in-process batch-1 mean ms | model call, server - in-process ms "
        "| in-process paced batch-1 mean ms | outside the model ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def ms(value: float | None, fmt: str = ".2f") -> str:
        return "–" if value is None else f"{value:{fmt}}"

    for r in table:
        excess = None if r["b1_mean"] is None else r["model_1"] - r["b1_mean"]
        lines.append(
            f"| {r['family']} | {r['variant']} | {r['round']} | {r['workers']} "
            f"| {r['mean_1']:.2f} | {r['model_1']:.2f} | {ms(r['b1_mean'])} | {ms(excess, '+.2f')} "
            f"| {ms(r['paced_mean'])} | {r['mean_1'] - r['model_1']:.2f} |"
        )
    return lines


def summary(table: list[dict[str, Any]]) -> list[str]:
    """Median and range over the rounds of each family, variant and worker count."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for r in table:
        groups.setdefault((r["family"], r["variant"], r["workers"]), []).append(r)
    lines = [
        "Over the rounds: median (lowest – highest); the targets: of ceiling >= 70%, "
        "p99 < 100 ms, gap <= 2 ms",
        "",
        "| family | variant | workers | rounds | of ceiling | p99 ms | b32 call p99 ms "
        "| 1 cl. gap ms | gap to paced ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def spread(values: list[float], fmt: str) -> str:
        ordered = sorted(values)
        middle = statistics.median(ordered)
        return f"{middle:{fmt}} ({ordered[0]:{fmt}} – {ordered[-1]:{fmt}})"

    for (family, variant, workers), group in groups.items():
        paced = [r["gap_paced_1"] for r in group if r["gap_paced_1"] is not None]
        call99 = [r["call99_32"] for r in group if r["call99_32"] is not None]
        lines.append(
            f"| {family} | {variant} | {workers} | {len(group)} "
            f"| {spread([r['ratio32'] for r in group], '.0%')} "
            f"| {spread([r['p99_32'] for r in group], '.1f')} "
            f"| {spread(call99, '.1f') if call99 else '–'} "
            f"| {spread([r['gap_1'] for r in group], '+.2f')} "
            f"| {spread(paced, '+.2f') if paced else '–'} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--bundle", action="append", default=[], metavar="FAMILY=PATH", help="repeatable"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=SRC",
        help="the package source the server imports (repeatable; default: this checkout)",
    )
    parser.add_argument(
        "--variant-env",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE",
        help="an environment variable for one variant's servers (repeatable), e.g. "
        "after-process:EMOTION_CLF_MODEL_PROCESS=true",
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of every variant and worker count"
    )
    parser.add_argument(
        "--shadow",
        action="store_true",
        help="also each variant with EMOTION_CLF_SHADOW_RATE=1 (the bundle is the candidate too)",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "serving_throughput.json"
    )
    parser.add_argument("--from-json", type=Path, help="only print the table of a results file")
    args = parser.parse_args()
    if args.from_json is not None:
        print(render(json.loads(args.from_json.read_text())), end="")
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    def pairs(values: list[str], what: str) -> dict[str, Path]:
        out = {}
        for value in values:
            name, sep, path = value.partition("=")
            if not sep or not name or not path:
                parser.error(f"{what} takes NAME=PATH, got {value!r}")
            out[name] = Path(path).resolve()
            if not out[name].is_dir():
                parser.error(f"{what} {name}: {path} is not a folder")
        return out

    bundles = pairs(args.bundle, "--bundle")
    if not bundles:
        parser.error("give at least one --bundle FAMILY=PATH")
    variants = pairs(args.variant, "--variant") or {"this checkout": ROOT / "src"}
    variant_env: dict[str, dict[str, str]] = {}
    for value in args.variant_env:
        name, _, setting = value.partition(":")
        key, sep, env_value = setting.partition("=")
        if name not in variants or not sep or not key:
            parser.error(f"--variant-env takes NAME:KEY=VALUE for a known variant, got {value!r}")
        variant_env.setdefault(name, {})[key] = env_value
    results = run(
        bundles, variants, args.workers, args.seconds, args.shadow, args.repeat, variant_env
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results), end="")


if __name__ == "__main__":
    main()
